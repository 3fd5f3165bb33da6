// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  // Move focus to the page heading after htmx swaps a result in, for screen readers.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("data-focus-after-swap")) {
      target.focus();
    }
  });
  // A button with data-confirm asks before its form is sent (reject, confirm a batch...).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();

// The API reference page: Swagger UI draws selects and inputs for parameters without a label;
// name each after its parameter so that screen readers (and axe-core) can tell them apart.
(function () {
  "use strict";
  function nameControls(root) {
    root.querySelectorAll(".parameters tr[data-param-name]").forEach(function (row) {
      var name = row.getAttribute("data-param-name");
      row.querySelectorAll("select, input, textarea").forEach(function (control) {
        if (!control.getAttribute("aria-label")) {
          control.setAttribute("aria-label", name);
        }
      });
    });
    root.querySelectorAll("select:not([aria-label]), textarea:not([aria-label])").forEach(
      function (control) {
        control.setAttribute("aria-label", control.getAttribute("placeholder") || control.className || "value");
      }
    );
  }
  var target = document.getElementById("swagger-ui");
  if (!target) {
    return;
  }
  new MutationObserver(function () {
    nameControls(target);
  }).observe(target, { childList: true, subtree: true });
})();

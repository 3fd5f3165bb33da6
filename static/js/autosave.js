// Autosave of an application draft: nothing typed is lost on a reload, a timeout or a lost
// connection. Every change is kept in localStorage at once and sent to the server after a short
// pause; a failed save is retried, and a reload restores entries newer than the server's copy.
(function () {
  "use strict";
  var form = document.getElementById("application-form");
  if (!form) { return; }
  var url = form.dataset.autosaveUrl;
  var key = "hy-cbec-draft-" + form.dataset.application;
  var status = document.getElementById("autosave-status");
  var timer = null;
  var retry = null;

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !el.disabled && el.name !== "csrfmiddlewaretoken" && el.type !== "submit";
    });
  }
  function snapshot() {
    var values = {};
    fields().forEach(function (el) {
      values[el.name] = el.type === "checkbox" ? (el.checked ? "on" : "") : el.value;
    });
    return values;
  }
  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }
  function keepLocally() {
    try {
      localStorage.setItem(key, JSON.stringify({ at: new Date().toISOString(), values: snapshot() }));
    } catch (e) { /* private mode: the server copy still works */ }
  }
  function save() {
    clearTimeout(retry);
    var body = new FormData();
    var values = snapshot();
    Object.keys(values).forEach(function (name) { body.append(name, values[name]); });
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    setStatus("saving", status.dataset.textSaving || "…");
    fetch(url, { method: "POST", body: body, credentials: "same-origin",
                 headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 403 || response.redirected) { throw new Error("session"); }
        return response.json();
      })
      .then(function (data) {
        if (!data.ok) { throw new Error(data.error || "refused"); }
        localStorage.removeItem(key);
        form.dataset.savedAt = data.saved_at;
        setStatus("saved", (status.dataset.textSaved || "Saved at") + " " + data.saved_at_display);
        var estimate = document.getElementById("estimate");
        if (estimate && data.estimate_html) { estimate.outerHTML = data.estimate_html; }
      })
      .catch(function (error) {
        var text = error.message === "session"
          ? (status.dataset.textSession || "Not saved: log in again in another tab; your entries are kept in this browser.")
          : (status.dataset.textOffline || "Not saved yet: will retry. Your entries are kept in this browser.");
        setStatus("unsaved", text);
        retry = setTimeout(save, 5000);
      });
  }
  function changed() {
    keepLocally();
    setStatus("pending", status.dataset.textPending || "…");
    clearTimeout(timer);
    timer = setTimeout(save, 800);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.addEventListener("online", save);

  // Restore entries this browser kept that are newer than the server's copy.
  try {
    var kept = JSON.parse(localStorage.getItem(key) || "null");
    var savedAt = form.dataset.savedAt ? new Date(form.dataset.savedAt) : null;
    if (kept && (!savedAt || new Date(kept.at) > savedAt)) {
      fields().forEach(function (el) {
        if (!(el.name in kept.values)) { return; }
        if (el.type === "checkbox") { el.checked = kept.values[el.name] === "on"; }
        else { el.value = kept.values[el.name]; }
      });
      save();
    } else if (kept) {
      localStorage.removeItem(key);
    }
  } catch (e) { /* nothing kept */ }
})();

// The browser's time zone, sent with the registration form (an account's times are shown
// in it). No inline script: the CSP forbids them; htmx's own swaps bring the form again.
(function () {
  function fill(root) {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    root.querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
      if (!input.value) { input.value = zone; }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { fill(document); });
  document.addEventListener("htmx:afterSwap", function (event) { fill(event.detail.elt.parentNode || document); });
})();

// The keyboard keeps its place across htmx swaps. When a swap (or the button disabled while
// its request ran) took the focus away, it goes back to the element that had it, if that is
// still on the page; else to the swapped-in content: its first refused field, else its
// message, else the content itself. Never to the page's body. (A file, not an inline script:
// the CSP allows none.)
(function () {
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]";
  var focusBefore = new WeakMap();  // request (its XMLHttpRequest) -> what had the focus

  function lost() {
    var active = document.activeElement;
    return !active || active === document.body || !document.contains(active);
  }

  function landing(content) {
    var next = content.querySelector("[aria-invalid='true']") ||
               content.querySelector("[role='alert'], [role='status']") || content;
    if (!next.matches(FOCUSABLE)) { next.setAttribute("tabindex", "-1"); }
    return next;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!lost()) { focusBefore.set(event.detail.xhr, document.activeElement); }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var had = event.detail.xhr && focusBefore.get(event.detail.xhr);
    if (!had || !lost()) { return; }
    focusBefore.delete(event.detail.xhr);
    if (document.contains(had) && had.matches(FOCUSABLE)) {
      had.focus();
    } else if (event.detail.elt && document.contains(event.detail.elt)) {
      landing(event.detail.elt).focus();
    }
  });
})();

/* Print buttons: any element with data-dcpa-print prints the page (the print stylesheet in views.css
 * leaves out forms, navigation and graph controls). A script file, as the Content-Security-Policy allows
 * no inline handlers.
 *
 * Folded parts (<details>, such as a recommendation's reasons) print as they are shown: only their title.
 * No style sheet unfolds them in every browser, so they are opened as printing starts and folded again after.
 */
(function () {
  "use strict";
  var unfolded = [];
  function unfold() {
    Array.prototype.forEach.call(document.querySelectorAll("details:not([open])"), function (d) {
      d.open = true;
      unfolded.push(d);
    });
  }
  function fold() {
    unfolded.forEach(function (d) { d.open = false; });
    unfolded = [];
  }
  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-dcpa-print]"), function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    window.addEventListener("beforeprint", unfold);
    window.addEventListener("afterprint", fold);
    document.body.setAttribute("data-print-ready", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

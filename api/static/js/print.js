/* Print buttons: any element with data-dcpa-print prints the page (the print stylesheet in views.css
 * leaves out forms, navigation and graph controls). A script file, as the Content-Security-Policy allows
 * no inline handlers. */
(function () {
  "use strict";
  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-dcpa-print]"), function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    document.body.setAttribute("data-print-ready", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

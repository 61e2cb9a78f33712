/* DCPA gap dashboard: bar charts (Chart.js, served from /static) from the JSON embedded in the page.
 * Labels are data; Chart.js draws them on a canvas, never as HTML. A click on a bar drills down.
 */
(function () {
  "use strict";
  // The period takes both dates, the end not before the start: said at the field, before the form is sent,
  // so that the area and the other filters chosen stay (the server refuses such a period with an error page).
  function guardPeriod() {
    var form = document.querySelector("form.dcpa-filters");
    if (!form || !form.elements.start || !form.elements.end) return;
    var first = form.elements.start, last = form.elements.end;
    function check() {
      first.setCustomValidity("");
      last.setCustomValidity("");
      if (!first.value !== !last.value) {
        (first.value ? last : first).setCustomValidity(form.getAttribute("data-both-dates") || "");
      } else if (first.value && last.value && first.value > last.value) {
        last.setCustomValidity(form.getAttribute("data-date-order") || "");
      }
    }
    first.addEventListener("input", check);
    last.addEventListener("input", check);
    first.addEventListener("change", check);
    last.addEventListener("change", check);
    check();
  }

  function start() {
    guardPeriod();
    var source = document.getElementById("dcpa-dashboard-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    Chart.defaults.font.family = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
    Chart.defaults.animation = false;
    window.dcpaCharts = {};
    Object.keys(data.charts).forEach(function (name) {
      var spec = data.charts[name];
      var canvas = document.getElementById("dcpa-chart-" + name);
      if (!canvas) return;
      window.dcpaCharts[name] = new Chart(canvas, {
        type: "bar",
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          indexAxis: spec.labels.length > 8 ? "y" : "x",
          scales: { x: { beginAtZero: true }, y: { beginAtZero: true } },
          onClick: function (_evt, elements) {
            if (elements.length && spec.hrefs && spec.hrefs[elements[0].index]) {
              window.location.href = spec.hrefs[elements[0].index];
            }
          },
        },
      });
    });
    document.body.setAttribute("data-charts-ready", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

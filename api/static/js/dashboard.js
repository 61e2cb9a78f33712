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

  // A bar's name in lines that fit its share of the chart's width: long English category names, tilted, took the
  // whole chart on a phone (its bars 7 px wide at 320 px). Words stay whole, Chinese breaks between characters;
  // past four lines the name ends in "…" (the table below names it whole).
  function lines(label, room, measure) {
    var tokens = String(label).match(/[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+|\s+/g) || [""];
    var out = [], line = "";
    tokens.forEach(function (tok) {
      if (line && !/^\s+$/.test(tok) && measure(line + tok) > room) { out.push(line.trim()); line = ""; }
      if (line || !/^\s+$/.test(tok)) line += tok;
    });
    if (line.trim()) out.push(line.trim());
    if (out.length > 4) out = out.slice(0, 3).concat([out[3] + "…"]);
    return out.length > 1 ? out : out[0] || "";
  }

  function start() {
    guardPeriod();
    var source = document.getElementById("dcpa-dashboard-data");
    if (!source) return;
    if (typeof Chart === "undefined") {
      // the chart library did not arrive (a slow or broken link): each chart was a blank 300 px box; it now says
      // so, and where the numbers are
      document.querySelectorAll(".dcpa-chart[data-no-chart]").forEach(function (box) {
        box.replaceChildren(document.createTextNode(box.getAttribute("data-no-chart")));
        box.classList.add("dcpa-empty", "dcpa-chart-missing");
      });
      document.body.setAttribute("data-charts-ready", "0");
      return;
    }
    var data = JSON.parse(source.textContent);
    Chart.defaults.font.family = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
    Chart.defaults.animation = false;
    window.dcpaCharts = {};
    Object.keys(data.charts).forEach(function (name) {
      var spec = data.charts[name];
      var canvas = document.getElementById("dcpa-chart-" + name);
      if (!canvas) return;
      var across = spec.labels.length > 8;  // many bars: lying down, named on the left
      var width = canvas.parentElement.clientWidth || 300;
      var room = across ? width * 0.4 : Math.max(36, (width - 48) / Math.max(1, spec.labels.length) - 8);
      var ctx = canvas.getContext("2d");
      ctx.font = Chart.defaults.font.size + "px " + Chart.defaults.font.family;
      var measure = function (text) { return ctx.measureText(text).width; };
      var flat = { maxRotation: 0, minRotation: 0, autoSkip: false };
      window.dcpaCharts[name] = new Chart(canvas, {
        type: "bar",
        data: { labels: spec.labels.map(function (l) { return lines(l, room, measure); }), datasets: spec.datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          indexAxis: across ? "y" : "x",
          scales: { x: { beginAtZero: true, ticks: across ? {} : flat }, y: { beginAtZero: true, ticks: across ? flat : {} } },
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

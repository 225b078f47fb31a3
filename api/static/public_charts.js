/* Draws the charts of a public page from its <script type="application/json" id="chart-data">:
   disclosed spending per month (bars), cumulative disclosed spending and cumulative
   allocation (lines). Values arrive as strings of yuan ("1234.50"); null is a withheld
   month and stays a gap. Needs chart.umd.min.js (Chart.js, MIT, see chart.js.LICENSE.md). */
(function () {
  "use strict";
  var node = document.getElementById("chart-data");
  if (!node || typeof window.Chart === "undefined") { return; }
  var Chart = window.Chart;
  Chart.defaults.font.family = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  Chart.defaults.animation = false;
  var charts = JSON.parse(node.textContent);
  charts.forEach(function (spec) {
    var canvas = document.getElementById(spec.id);
    if (!canvas) { return; }
    var datasets = [
      { type: "bar", label: "当月公示发放金额（元）", data: spec.paid,
        backgroundColor: "rgba(54, 110, 180, 0.65)", order: 3 },
      { type: "line", label: "累计公示发放（元）", data: spec.paid_cumulative,
        borderColor: "#d35400", backgroundColor: "#d35400", spanGaps: false, order: 1 }
    ];
    if (spec.allocated_cumulative) {
      datasets.push({ type: "line", label: "累计拨付额度（元）", data: spec.allocated_cumulative,
        borderColor: "#2e7d32", backgroundColor: "#2e7d32", borderDash: [6, 4], order: 2 });
    }
    new Chart(canvas, {
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 14 } } },
        scales: { y: { beginAtZero: true, ticks: { maxTicksLimit: 6 } } }
      }
    });
  });
}());

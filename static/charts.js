/* Charts of the instructor's pages, drawn with Chart.js from the table beside each chart, so
 * the chart and the table (which screen readers use) show the same numbers.
 * <canvas data-chart="scatter|bar|bars" data-table="id" data-x="col" data-y="col"
 *         data-series="2,3,4">; drawn at load and when htmx swaps new ones in. */
(function () {
  "use strict";
  if (!window.Chart) { return; }
  var ink = "#1f2933", accent = "#0b6e4f", palette = ["#0b6e4f", "#9b1c1c", "#3a5a8c"];
  window.Chart.defaults.color = ink;
  window.Chart.defaults.animation = false;

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return null; }
    var raw = cell.getAttribute("data-value");
    if (raw === null) { raw = cell.textContent; }
    var value = parseFloat(raw);
    return isNaN(value) ? null : value;
  }
  function rows(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }
  function label(row) { return row.cells[0].textContent.trim(); }
  function header(table, index) { return table.tHead.rows[0].cells[index].textContent.trim(); }
  // A long category name on lines of about `width` characters, broken between words (Chart.js
  // draws an array as lines): on a phone a one-line name was cut at the chart's edge.
  function lines(text, width) {
    var out = [], line = "";
    text.split(/\s+/).forEach(function (word) {
      if (line && (line + " " + word).length > width) { out.push(line); line = word; }
      else { line = line ? line + " " + word : word; }
    });
    if (line) { out.push(line); }
    return out.length > 1 ? out : text;
  }

  function draw(canvas) {
    var table = document.getElementById(canvas.getAttribute("data-table"));
    if (!table || window.Chart.getChart(canvas)) { return; }
    var kind = canvas.getAttribute("data-chart");
    var config;
    if (kind === "scatter") {
      var x = parseInt(canvas.getAttribute("data-x"), 10), y = parseInt(canvas.getAttribute("data-y"), 10);
      var points = rows(table).map(function (r) { return { x: cellValue(r, x), y: cellValue(r, y), label: label(r) }; })
        .filter(function (p) { return p.x !== null && p.y !== null; });
      config = { type: "scatter", data: { datasets: [{ data: points, backgroundColor: accent }] },
        options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return c.raw.label; } } } },
          scales: { x: { title: { display: true, text: canvas.getAttribute("data-x-label") } },
                    y: { title: { display: true, text: canvas.getAttribute("data-y-label") } } } } };
    } else if (kind === "bar") {
      var col = parseInt(canvas.getAttribute("data-y"), 10);
      var data = rows(table).filter(function (r) { return cellValue(r, col) !== null; });
      config = { type: "bar", data: { labels: data.map(function (r) { return lines(label(r), 16); }), datasets: [{ data: data.map(function (r) { return cellValue(r, col); }), backgroundColor: accent }] },
        options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { title: { display: true, text: canvas.getAttribute("data-y-label") } } } } };
    } else {
      var series = canvas.getAttribute("data-series").split(",").map(function (s) { return parseInt(s, 10); });
      config = { type: "bar", data: { labels: rows(table).map(function (r) { return lines(label(r), 16); }), datasets: series.map(function (c, i) {
        return { label: header(table, c), data: rows(table).map(function (r) { return cellValue(r, c); }), backgroundColor: palette[i % palette.length] };
      }) }, options: { scales: { y: { min: 0, max: 1 } } } };
    }
    config.options.maintainAspectRatio = false;
    new window.Chart(canvas, config);
  }
  function drawWithin(root) {
    if (root.matches && root.matches("canvas[data-chart]")) { draw(root); }
    if (root.querySelectorAll) { root.querySelectorAll("canvas[data-chart]").forEach(draw); }
  }

  drawWithin(document);
  // Content htmx swaps in (the equity page after "Save groups") brings new canvases.
  document.addEventListener("htmx:load", function (event) { drawWithin(event.detail.elt); });
})();

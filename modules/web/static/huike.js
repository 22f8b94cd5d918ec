/* Huike web UI behaviour shared by every page (no inline scripts: the pages' CSP forbids them).
 * - .hk-chart[data-chart=ID]: draws the ECharts option held in <script type="application/json" id=ID>
 *   (pages that have charts load static/vendor/echarts.min.js themselves);
 * - [data-confirm]: asks before submitting a form / following a link;
 * - closes the phone menu after a choice; re-runs all of this on content htmx swaps in.
 */
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function drawCharts(root) {
    if (typeof window.echarts === "undefined") { return; }
    var nodes = (root || document).querySelectorAll(".hk-chart[data-chart]");
    Array.prototype.forEach.call(nodes, function (node) {
      if (node.getAttribute("data-drawn") === "1") { return; }
      var option = readJson(node.getAttribute("data-chart"));
      if (!option) { return; }
      var chart = window.echarts.init(node, null, { renderer: "canvas" });
      chart.setOption(option);
      node.setAttribute("data-drawn", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function onConfirm(event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  function closeMenu(event) {
    if (event.target.closest(".hk-nav a")) {
      var toggle = document.getElementById("hk-nav-toggle");
      if (toggle) { toggle.checked = false; }
    }
  }

  document.addEventListener("click", onConfirm, true);
  document.addEventListener("click", closeMenu);
  document.addEventListener("submit", onConfirm, true);
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  window.addEventListener("load", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
  window.Huike = { drawCharts: drawCharts, readJson: readJson };
})();

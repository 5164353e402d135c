// Draw every Vega-Lite chart on the page: <div data-chart="SPEC-ID"> + <script type="application/json" id="SPEC-ID">.
(function () {
  function draw(root) {
    if (typeof vegaEmbed === "undefined") { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var source = document.getElementById(el.dataset.chart);
      if (!source) { return; }
      el.dataset.drawn = "1";
      vegaEmbed(el, JSON.parse(source.textContent), { actions: false, renderer: "svg" })
        .then(function () { el.setAttribute("data-rendered", "true"); })
        .catch(function (err) { el.textContent = "The chart could not be drawn: " + err; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();

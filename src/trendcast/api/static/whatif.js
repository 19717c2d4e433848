// Price what-if: the slider asks the API for the forecast at a changed price and redraws.
(function () {
  const series = document.getElementById("series");
  const slider = document.getElementById("change");
  const label = document.getElementById("change-label");
  const summary = document.getElementById("whatif-summary");
  const chart = document.getElementById("whatif-chart");
  const base = document.body.dataset.base || "";
  let pending = null;

  async function update() {
    const change = Number(slider.value);
    label.textContent = (change > 0 ? "+" : "") + change + "%";
    const url = `${base}/api/v1/decisions/price-whatif?unique_id=${encodeURIComponent(series.value)}` +
                `&price_change=${change / 100}`;
    if (pending) pending.abort();
    pending = new AbortController();
    let body;
    try {
      const res = await fetch(url, { credentials: "same-origin", signal: pending.signal });
      body = await res.json();
      if (!res.ok) { summary.textContent = body.detail || res.statusText; return; }
    } catch (err) {
      if (err.name !== "AbortError") summary.textContent = String(err);
      return;
    }
    summary.textContent = body.summary;
    const traces = [
      { x: body.ds, y: body.baseline, name: "at current price", mode: "lines", line: { color: "#4a5568" } },
      { x: body.ds, y: body.scenario, name: `at ${label.textContent}`, mode: "lines", line: { color: "#2b6cb0", width: 2 } },
    ];
    Plotly.react(chart, traces, { template: "plotly_white", height: 360, margin: { l: 50, r: 20, t: 30, b: 40 },
      yaxis: { title: "units per " + (document.body.dataset.unit || "day") }, legend: { orientation: "h", y: -0.15 } }, { displaylogo: false, responsive: true });
    chart.dataset.rendered = "1";
  }
  series.addEventListener("change", update);
  slider.addEventListener("input", update);
  update();
})();

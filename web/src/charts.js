// charts.js draws metric series with uPlot.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

// chart draws series s (the API's metric series) over [from, to) in box
// and returns the uPlot instance.
export function chart(box, s, from, to) {
  // uPlot wants x ascending; CloudWatch may answer newest first.
  const pts = s.timestamps.map((t, i) => [Date.parse(t) / 1000, s.values[i]]).sort((a, b) => a[0] - b[0]);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const width = Math.max(240, Math.min(box.parentElement.clientWidth - 16, 520));
  return new uPlot({
    width,
    height: 140,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, min: from.getTime() / 1000, max: to.getTime() / 1000 } },
    axes: [{ size: 30, font: "10px sans-serif" }, { size: 48, font: "10px sans-serif", values: (u, vals) => vals.map(si) }],
    series: [{}, { label: s.name, stroke: "#1f6feb", width: 1.5, fill: "rgba(31,111,235,0.08)", points: { show: xs.length < 60 } }],
  }, [xs, ys], box);
}

// si formats n with an SI suffix: 1.5k, 20M.
export function si(n) {
  if (n == null) return "";
  const a = Math.abs(n);
  for (const [d, unit] of [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]]) {
    if (a >= d) return +(n / d).toFixed(1) + unit;
  }
  return String(+n.toFixed(2));
}

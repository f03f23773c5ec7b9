// details.js is the component details pane: what the component is, its
// health, console link, metrics, logs, history and neighbours.
import { ApiError, componentPath, get } from "./api.js";
import { clear, fmtTime, h, healthClass, table } from "./dom.js";
import { chart } from "./charts.js";
import { shortType } from "./model.js";

// RANGES are the metric and log ranges offered, in hours.
const RANGES = { "1h": 1, "6h": 6, "24h": 24 };
let range = "1h";
let charts = [];

// showDetails fills pane with component id's details. opts: close() hides
// the pane, href(id) is the route of another component, nameOf(id) its
// name when the map knows it.
export async function showDetails(pane, id, opts) {
  disposeCharts();
  clear(pane);
  pane.dataset.component = id;
  pane.appendChild(header("Loading…", opts.close));
  let d;
  try {
    d = await get(componentPath(id));
  } catch (e) {
    if (pane.dataset.component !== id) return;
    clear(pane).append(header("Component", opts.close), h("p", { className: "error" }, errorText(e)));
    return;
  }
  if (pane.dataset.component !== id) return; // another was selected meanwhile
  const c = d.component;
  clear(pane);
  pane.append(
    header(c.name || c.id, opts.close),
    h("p", { className: "subtitle" },
      h("span", { className: "type", id: "details-type" }, c.type), " · ", c.layer || "no layer", " · ",
      c.account, " / ", c.region),
    opts.at ? h("p", { className: "note" }, `The map shows ${fmtTime(opts.at)}; these details are of now.`) : null,
    health(c, d.alarms),
    actions(c),
    section("Identifiers", h("ul", { className: "plain mono" }, [c.id, ...(c.identifiers || [])].map((i) => h("li", null, i)))),
    section("Labels", (c.labels || []).length
      ? h("ul", { className: "labels", id: "details-labels" }, c.labels.map((l) => h("li", null, l)))
      : h("p", { className: "muted" }, "none")),
    neighbours(d, opts),
  );
  const metrics = h("div", { className: "metrics", id: "details-metrics" });
  const logs = h("div", { className: "logs", id: "details-logs" });
  const picker = h("div", { className: "range", role: "group", "aria-label": "Range" }, Object.keys(RANGES).map((r) =>
    h("button", { type: "button", className: r === range ? "active" : "", onclick: () => {
      range = r;
      for (const b of picker.children) b.classList.toggle("active", b.textContent === r);
      loadTelemetry(c.id, metrics, logs, pane);
    } }, r)));
  pane.append(section("Metrics", picker, metrics), section("Recent logs", logs), history(d));
  loadTelemetry(c.id, metrics, logs, pane);
}

// showAggregate fills pane with the members of an aggregate node; its
// Expand action (opts.expand) redraws them as single nodes.
export function showAggregate(pane, label, members, opts) {
  disposeCharts();
  clear(pane);
  pane.dataset.component = "";
  const shown = members.slice(0, 500);
  pane.append(...[header(label, opts.close),
    h("p", { className: "muted" }, `${members.length} components drawn as one node.` +
      (members.length > shown.length ? ` The first ${shown.length}:` : "")),
    opts.expand ? h("p", { className: "actions" }, h("button", { type: "button", className: "button", id: "details-expand", onclick: opts.expand },
      `Expand: draw the ${members.length} as single nodes`)) : null,
    h("ul", { className: "plain" }, shown.map((c) => h("li", null,
      h("a", { href: opts.href(c.id) }, c.name || c.id), " ", h("span", { className: healthClass(c.health) }, c.health || ""))))].filter(Boolean));
}

function header(title, close) {
  return h("div", { className: "pane-head" },
    h("h2", { id: "details-name" }, title),
    h("button", { type: "button", className: "close", "aria-label": "Close", onclick: close }, "×"));
}

function section(title, ...body) {
  return h("section", null, h("h3", null, title), ...body);
}

function health(c, alarms) {
  const reasons = c.health_reasons || [];
  return section("Health",
    h("p", null, h("span", { className: healthClass(c.health), id: "details-health" }, c.health || "not judged")),
    reasons.length ? h("ul", { className: "plain" }, reasons.map((r) => h("li", null, r))) : null,
    (alarms || []).length ? table(["alarm", "state", "reason", "updated"], alarms.map((a) => [
      a.console_url && a.console_url.startsWith("https://") ? h("a", { href: a.console_url, target: "_blank", rel: "noopener noreferrer" }, a.name) : a.name,
      a.state, a.reason || "", fmtTime(a.updated)])) : null);
}

// actions are the "Go to <Kind> console" action (only https links are
// followed) and the link to the component's flows (a VPC's: the flows
// within its CIDR block).
function actions(c) {
  const flows = h("a", { className: "button secondary", id: "details-flows",
    href: "#/flows?" + new URLSearchParams(c.type === "aws.ec2.vpc" ? { vpc: c.id } : { component: c.id }) }, "Flows");
  if (!c.console_url || !c.console_url.startsWith("https://")) return h("p", { className: "actions" }, flows);
  const kind = shortType(c.type).split(".").pop().replace(/-/g, " ");
  return h("p", { className: "actions" }, h("a", { className: "button", id: "details-console", href: c.console_url, target: "_blank", rel: "noopener noreferrer" },
    "Go to " + kind + " console"), flows);
}

function neighbours(d, opts) {
  const rows = [];
  for (const r of d.outgoing || []) rows.push(["→", r.type, r.target]);
  for (const r of d.incoming || []) rows.push(["←", r.type, r.source]);
  if (!rows.length) return section("Neighbours", h("p", { className: "muted" }, "none"));
  return section("Neighbours (" + rows.length + ")", h("ul", { className: "plain", id: "details-neighbours" }, rows.map(([dir, type, other]) =>
    h("li", null, dir, " ", h("span", { className: "muted" }, type), " ", neighbourLink(other, opts)))));
}

function neighbourLink(id, opts) {
  const c = opts.component(id);
  if (!c) return h("a", { href: opts.href(id) }, id);
  return h("span", null, h("a", { href: opts.href(id) }, c.name || id), " ", h("span", { className: "muted" }, shortType(c.type)));
}

function history(d) {
  const versions = (d.history || []).slice().reverse();
  if (!versions.length) return section("History", h("p", { className: "muted" }, "no changes kept"));
  return section("History", table(["time", "change", "cause", "actor", "what changed"], versions.map((v) => [
    fmtTime(v.time), v.change, v.cause || "", [v.actor, v.source_ip].filter(Boolean).join(" from ") || "", diffCell(v.diff)]), "grid compact changes"));
}

// diffCell is a version's diff: the summary, and the whole diff as JSON
// text when expanded.
export function diffCell(diff) {
  const text = diffText(diff);
  if (!text) return "";
  return h("details", { className: "diff" }, h("summary", null, text), h("pre", null, JSON.stringify(diff, null, 2)));
}

// diffText summarises a version's diff: the fields that changed.
export function diffText(diff) {
  if (!diff || typeof diff !== "object") return "";
  const keys = Object.keys(diff);
  if (keys.length <= 4) {
    return keys.map((k) => {
      const x = diff[k] || {};
      if (typeof x === "object" && ("old" in x || "new" in x)) return `${k}: ${short(x.old)} → ${short(x.new)}`;
      return k;
    }).join("; ");
  }
  return keys.join(", ");
}

function short(v) {
  const s = v === undefined ? "∅" : typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + "…" : s;
}

async function loadTelemetry(id, metrics, logs, pane) {
  disposeCharts();
  const to = new Date();
  const from = new Date(to.getTime() - RANGES[range] * 3600e3);
  const window = { from: from.toISOString(), to: to.toISOString() };
  clear(metrics).append(h("p", { className: "muted" }, "Loading metrics…"));
  clear(logs).append(h("p", { className: "muted" }, "Loading logs…"));
  const [m, l] = await Promise.allSettled([
    get(componentPath(id) + "/metrics", window),
    get(componentPath(id) + "/logs", { ...window, limit: 100 }),
  ]);
  if (pane.dataset.component !== id) return;
  clear(metrics);
  if (m.status === "rejected") metrics.append(h("p", { className: "muted" }, errorText(m.reason)));
  else {
    const series = (m.value.series || []).filter((s) => !s.unlisted);
    if (!series.length) metrics.append(h("p", { className: "muted" }, "no metrics listed for this component"));
    for (const s of series) {
      const title = s.name + " (" + s.stat + ")";
      const box = h("figure", { className: "chart", "data-metric": s.name }, h("figcaption", null, title));
      metrics.append(box);
      if (s.error) box.append(h("p", { className: "error" }, s.error));
      if (!(s.timestamps || []).length) {
        box.append(h("p", { className: "muted" }, "no data points"));
        continue;
      }
      charts.push(chart(box, s, from, to));
    }
  }
  clear(logs);
  if (l.status === "rejected") logs.append(h("p", { className: "muted" }, errorText(l.reason)));
  else {
    const events = (l.value.events || []).slice(-100).reverse();
    if (!events.length) logs.append(h("p", { className: "muted" }, "no log events in the range"));
    else logs.append(h("ol", { className: "loglines" }, events.map((e) => h("li", null,
      h("time", null, fmtTime(e.timestamp)), " ", h("span", { className: "muted" }, e.group), " ", h("code", null, e.message)))));
  }
}

function disposeCharts() {
  for (const c of charts) c.destroy();
  charts = [];
}

function errorText(e) {
  if (e instanceof ApiError) {
    if (e.status === 503) return "not available: " + e.message;
    if (e.status === 404) return e.message;
  }
  return "error: " + (e && e.message);
}

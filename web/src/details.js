// details.js is the component details pane: what the component is, its
// health, console link, metrics, logs, events, history and neighbours;
// now, or as it was at the past time the map shows.
import { ApiError, componentPath, get } from "./api.js";
import { clear, fmtTime, h, healthClass, table } from "./dom.js";
import { chart } from "./charts.js";
import { eventsOf, shortType } from "./model.js";

// RANGES are the metric and log ranges offered, in hours.
const RANGES = { "1h": 1, "6h": 6, "24h": 24 };
let range = "1h";
let charts = [];

// showDetails fills pane with component id's details. opts: close() hides
// the pane, href(id) is the route of another component, component(id) the
// map's component, at the past time the map shows (empty for now), and
// relations() the map's relations, which give the neighbours at that time.
export async function showDetails(pane, id, opts) {
  disposeCharts();
  clear(pane);
  pane.dataset.component = id;
  pane.appendChild(header("Loading…", opts.close));
  let d;
  try {
    d = await get(componentPath(id), { at: opts.at });
  } catch (e) {
    if (pane.dataset.component !== id) return;
    clear(pane).append(header("Component", opts.close), h("p", { className: "error", id: "details-error" }, errorText(e)));
    return;
  }
  if (pane.dataset.component !== id) return; // another was selected meanwhile
  const c = d.component;
  if (opts.at && opts.relations) {
    // The API answers a past component without relations: the map of
    // that time has them.
    const ids = new Set([c.id, ...(c.identifiers || [])]);
    d.outgoing = opts.relations().filter((r) => ids.has(r.source));
    d.incoming = opts.relations().filter((r) => ids.has(r.target));
  }
  clear(pane);
  pane.dataset.at = opts.at || "";
  // Element.append writes null as text: what is not shown is filtered out.
  pane.append(...[
    header(c.name || c.id, opts.close),
    h("p", { className: "subtitle" },
      h("span", { className: "type", id: "details-type" }, c.type), " · ", c.layer || "no layer", " · ",
      c.account, " / ", c.region),
    opts.at ? h("p", { className: "note", id: "details-at" }, `As it was at ${fmtTime(opts.at)}, the time the map shows. ` +
      "Metrics and logs are of the range chosen below, up to then.") : null,
    health(c, d.alarms),
    actions(c),
    section("Identifiers", h("ul", { className: "plain mono" }, [c.id, ...(c.identifiers || [])].map((i) => h("li", null, i)))),
    section("Labels", (c.labels || []).length
      ? h("ul", { className: "labels", id: "details-labels" }, c.labels.map((l) => h("li", null, l)))
      : h("p", { className: "muted" }, "none")),
    neighbours(d, opts),
  ].filter(Boolean));
  const metrics = h("div", { className: "metrics", id: "details-metrics" });
  const logs = h("div", { className: "logs", id: "details-logs" });
  const picker = h("div", { className: "range", role: "group", "aria-label": "Range" }, Object.keys(RANGES).map((r) =>
    h("button", { type: "button", className: r === range ? "active" : "", onclick: () => {
      range = r;
      for (const b of picker.children) b.classList.toggle("active", b.textContent === r);
      loadTelemetry(c.id, metrics, logs, pane, opts.at);
    } }, r)));
  pane.append(section("Metrics", picker, metrics), section("Recent logs", logs), events(d, pane), history(d));
  loadTelemetry(c.id, metrics, logs, pane, opts.at);
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

// events lists what happened to the component besides scans: the AWS
// events that changed it, its health changes and its DevOps Guru
// insights. Each change links to its diff in the history below.
function events(d, pane) {
  const rows = [];
  for (const e of eventsOf(d.history)) {
    const diff = h("button", { type: "button", className: "link", onclick: () => showVersion(pane, e.seq) }, "diff");
    if (e.kind === "event") {
      rows.push([fmtTime(e.time), h("span", { className: "event-name" }, e.name || "event"),
        h("span", null, e.change, " · ", h("span", { className: "muted mono" }, e.id)),
        [e.actor, e.sourceIP].filter(Boolean).join(" from ") || "", diff]);
    } else {
      rows.push([fmtTime(e.time), h("span", null, "health ", h("span", { className: healthClass(e.health) }, e.health || "not judged")),
        e.was ? "was " + e.was : "", "by " + (e.by === "alarm" ? "an alarm" : "its state"), diff]);
    }
  }
  for (const i of d.insights || []) {
    rows.push([fmtTime(i.start), h("span", null, "DevOps Guru: " + i.name),
      [i.severity, i.type, i.status].filter(Boolean).join(" · ").toLowerCase(), i.description || "", ""]);
  }
  if (!rows.length) return section("Events", h("p", { className: "muted", id: "details-events" }, "none kept besides scans"));
  return section("Events", h("div", { id: "details-events" }, table(["time", "what", "change", "actor", ""], rows, "grid compact")));
}

// showVersion opens a version's diff in the history and scrolls to it.
function showVersion(pane, seq) {
  const row = pane.querySelector(`#details-history tr[data-seq="${Number(seq)}"]`);
  if (!row) return;
  const d = row.querySelector("details.diff");
  if (d) d.open = true;
  row.scrollIntoView({ block: "center" });
  row.classList.add("flash");
  setTimeout(() => row.classList.remove("flash"), 1500);
}

function history(d) {
  const versions = (d.history || []).slice().reverse();
  if (!versions.length) return section("History", h("p", { className: "muted" }, "no changes kept"));
  const t = table(["time", "change", "cause", "actor", "what changed"], versions.map((v) => [
    fmtTime(v.time), v.change, v.cause || "", [v.actor, v.source_ip].filter(Boolean).join(" from ") || "", diffCell(v.diff)]), "grid compact changes");
  t.id = "details-history";
  t.querySelectorAll("tbody tr").forEach((tr, i) => tr.setAttribute("data-seq", String(versions[i].seq)));
  return section("History", t);
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

// loadTelemetry reads the metrics and logs of the chosen range up to at,
// or up to now.
async function loadTelemetry(id, metrics, logs, pane, at) {
  disposeCharts();
  const to = at ? new Date(at) : new Date();
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
    if (e.status === 410) return "not kept: " + e.message;
  }
  return "error: " + (e && e.message);
}

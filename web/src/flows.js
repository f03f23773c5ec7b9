// flows.js is the flows explorer: the traffic of a component, a VPC, an
// account or the whole estate over a time range, as a chart of bytes in and out (rejected
// bytes highlighted) and a table of its conversations, filtered and
// sorted, each end linked to its component.
import uPlot from "uplot";
import { componentPath, get } from "./api.js";
import { clear, componentHref, fmtTime, h } from "./dom.js";
import { si } from "./charts.js";
import { fmtBytes, hostAddr, RANGES, rows, series, sortRows, stepFor, vpcCIDR } from "./flowmodel.js";
import { shortType } from "./model.js";

// LIMIT is the most conversations the table asks for.
const LIMIT = 500;

// FILTERS are the route parameters passed through to the flows API.
const FILTERS = ["addr", "port", "local_port", "remote_port", "protocol", "direction", "action"];

// hooks is what the browser tests read.
const hooks = (window.__skymap = window.__skymap || {});

// names caches component names and types by id across renders.
const names = new Map();

let plot = null;

// shown counts the renders, so that a slow answer does not overwrite a
// later route's page.
let shown = 0;

// render shows the explorer for the route's params: scope (component=<id>,
// vpc=<id> or account=<id>, else the estate), range (1h, 6h, 24h, or custom with
// from= and to=), the FILTERS and sort (total, in, out).
export async function render(page, params) {
  if (plot) plot.destroy();
  plot = null;
  hooks.flows = null;
  const me = ++shown;
  const route = location.hash;
  const p = { ...params };
  if (p.range !== "custom" && !RANGES[p.range]) p.range = "1h";
  const kind = p.component ? "component" : p.vpc ? "vpc" : p.account ? "account" : "estate";
  clear(page);
  const out = h("div", { id: "flows-out" }, h("p", { className: "muted" }, "Loading…"));
  const doc = h("div", { className: "doc flows" }, h("h1", { id: "flows-title" }, "Flows"), scopeForm(p, kind), filterForm(p, kind), out);
  page.append(doc);

  // the window
  let to = new Date(), from;
  if (p.range === "custom") {
    from = new Date(p.from || "");
    to = new Date(p.to || "");
    if (isNaN(from) || isNaN(to) || from >= to) {
      clear(out).append(h("p", { className: "error" }, "Pick a custom range: a start before its end."));
      return;
    }
  } else {
    from = new Date(to.getTime() - RANGES[p.range] * 3600e3);
  }
  const step = stepFor(to - from);

  // the scope
  const q = { from: from.toISOString(), to: to.toISOString() };
  for (const f of FILTERS) if (p[f]) q[f] = p[f];
  let title = "Flows of the whole estate", scopeNote = "";
  if (kind === "component") {
    q.component = p.component;
    const c = await lookup(p.component);
    if (me !== shown) return;
    title = "Flows of " + (c ? c.name || c.id : p.component);
    if (c) title += " (" + shortType(c.type) + ")";
  } else if (kind === "vpc") {
    const c = await lookup(p.vpc, true);
    if (me !== shown) return;
    const cidr = vpcCIDR(c);
    title = "Flows of VPC " + (c ? c.name || c.id : p.vpc);
    if (!cidr) {
      clear(out).append(h("p", { className: "error" }, "No CIDR block known for VPC " + p.vpc + "."));
      return;
    }
    if (!q.addr) q.addr = cidr;
    scopeNote = `Traffic with an address in the VPC's CIDR block ${cidr}` + (q.addr !== cidr ? `, filtered by ${q.addr}` : "") +
      "; in is server to client, out client to server.";
  } else if (kind === "account") {
    q.account = p.account;
    title = "Flows of account " + p.account;
    scopeNote = "Traffic the account's flow logs reported; in is server to client, out client to server.";
  } else {
    scopeNote = "In is server to client, out client to server.";
  }
  doc.querySelector("#flows-title").textContent = title;

  const [tr, rj, cv] = await Promise.allSettled([
    get("/api/flows/traffic", { ...q, step: step + "m" }),
    q.action === "ACCEPT" ? Promise.resolve({ points: [] }) : get("/api/flows/traffic", { ...q, action: "REJECT", step: step + "m" }),
    get("/api/flows/conversations", { ...q, limit: LIMIT }),
  ]);
  if (me !== shown) return; // another route won meanwhile
  clear(out);
  const failed = [tr, rj, cv].find((r) => r.status === "rejected");
  if (failed) {
    out.append(h("p", { className: "error", id: "flows-error" }, "Could not read the flows: " + failed.reason.message));
    hooks.flows = { route, error: failed.reason.message, named: true };
    return;
  }
  out.append(h("p", { className: "muted", id: "flows-window" },
    `${fmtTime(from)} to ${fmtTime(to)}, in steps of ${step} min. `, scopeNote));
  const box = h("figure", { className: "chart flowchart", id: "flows-chart" },
    h("figcaption", null, "Bytes per step: in, out, and rejected on the right axis"));
  out.append(box);
  const data = series(tr.value.points, rj.value.points, from, to, step);
  // Rejected bytes are few beside the accepted: they get their own scale
  // and axis, in red, so that they show.
  const line = (label, stroke, extra) => ({ label, stroke, width: 1.5, points: { show: false }, value: (u, v) => si(v), ...extra });
  plot = new uPlot({
    width: Math.max(480, Math.min(out.clientWidth - 16, 1400)),
    height: 220,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, min: from.getTime() / 1000, max: to.getTime() / 1000 }, rejected: { range: (u, lo, hi) => [0, Math.max(hi * 1.2, 1)] } },
    axes: [{ size: 30, font: "10px sans-serif" },
      { size: 56, font: "10px sans-serif", values: (u, vals) => vals.map(si) },
      { scale: "rejected", side: 1, size: 56, font: "10px sans-serif", stroke: "#d1342f", grid: { show: false }, values: (u, vals) => vals.map(si) }],
    series: [{},
      line(kind === "component" ? "bytes in" : "server → client", "#1f6feb", { fill: "rgba(31,111,235,0.08)" }),
      line(kind === "component" ? "bytes out" : "client → server", "#2e9d4f"),
      line("rejected (right axis)", "#d1342f", { scale: "rejected", width: 2, fill: "rgba(209,52,47,0.12)" })],
  }, data, box);

  const rs = rows(cv.value.conversations, kind === "component" ? q.component : "");
  hooks.flows = { route, rows: rs, chart: data };
  const tableBox = h("div", { id: "flows-table" });
  out.append(h("h2", null, "Conversations"), tableBox);
  drawTable(tableBox, rs, p, kind, cv.value.conversations.length >= LIMIT);
}

// lookup returns component id's description (names cached), or null.
async function lookup(id, full) {
  if (!full && names.has(id)) return names.get(id);
  try {
    const d = await get(componentPath(id));
    const c = d.component;
    names.set(id, { id: c.id, name: c.name, type: c.type });
    return full ? c : names.get(id);
  } catch {
    names.set(id, null);
    return null;
  }
}

// go changes the route's params, keeping the others.
function go(p, change) {
  const next = { ...p, ...change };
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(next)) if (v) qs.set(k, v);
  location.hash = "#/flows" + (qs.toString() ? "?" + qs : "");
}

function scopeForm(p, kind) {
  const kindSel = h("select", { id: "flows-scope", "aria-label": "Scope" },
    [["component", "component"], ["vpc", "VPC"], ["account", "account"], ["estate", "whole estate"]].map(([v, t]) => h("option", { value: v, selected: v === kind }, t)));
  const ref = h("input", { type: "text", id: "flows-ref", placeholder: "component, VPC or account id", "aria-label": "Component, VPC or account",
    value: p.component || p.vpc || p.account || "" });
  // suggestions: the VPCs and the accounts
  const known = h("datalist", { id: "flows-known" });
  ref.setAttribute("list", "flows-known");
  get("/api/components", { type: "aws.ec2.vpc", limit: 1000 }).then((res) => {
    for (const c of res.components || []) known.append(h("option", { value: c.id }, "VPC " + (c.name || c.id) + " " + vpcCIDR(c)));
  }, () => {});
  get("/api/status").then((st) => {
    for (const a of st.accounts || []) known.append(h("option", { value: a.account }, "account " + a.account));
  }, () => {});
  const rangeSel = h("select", { id: "flows-range", "aria-label": "Range" },
    [...Object.keys(RANGES), "custom"].map((r) => h("option", { value: r, selected: r === p.range }, r === "custom" ? "custom" : "last " + r)));
  const fromIn = h("input", { type: "datetime-local", id: "flows-from", "aria-label": "From", value: p.from ? localInput(new Date(p.from)) : "" });
  const toIn = h("input", { type: "datetime-local", id: "flows-to", "aria-label": "To", value: p.to ? localInput(new Date(p.to)) : "" });
  const custom = h("span", { className: "custom", hidden: p.range !== "custom" }, fromIn, " to ", toIn);
  rangeSel.addEventListener("change", () => { custom.hidden = rangeSel.value !== "custom"; });
  return h("form", { className: "filters", id: "flows-scope-form", onsubmit: (e) => {
    e.preventDefault();
    const k = kindSel.value, r = ref.value.trim();
    const change = { component: k === "component" ? r : "", vpc: k === "vpc" ? r : "", account: k === "account" ? r : "",
      range: rangeSel.value, from: "", to: "" };
    if (rangeSel.value === "custom") {
      change.from = fromIn.value ? new Date(fromIn.value).toISOString() : "";
      change.to = toIn.value ? new Date(toIn.value).toISOString() : "";
    }
    // relative filters make no sense once the component changes
    if (k !== "component") Object.assign(change, { local_port: "", remote_port: "", direction: "" });
    go(p, change);
  } }, kindSel, ref, known, rangeSel, custom, h("button", { type: "submit" }, "Show"));
}

function filterForm(p, kind) {
  const isComp = kind === "component";
  const input = (name, placeholder, enabled = true) => h("input", { type: "text", name, id: "flows-" + name.replace("_", "-"),
    placeholder, "aria-label": placeholder, value: p[name] || "", disabled: !enabled,
    title: enabled ? null : "relative to a component: pick one first", className: name.includes("port") ? "port" : null });
  const select = (name, label, options) => h("select", { name, id: "flows-" + name, "aria-label": label },
    h("option", { value: "" }, "any " + label), options.map((o) => h("option", { value: o, selected: (p[name] || "").toLowerCase() === o.toLowerCase() }, o)));
  const fields = [
    input("addr", "IP or CIDR"),
    input("port", "server port"),
    input("local_port", "local port", isComp),
    input("remote_port", "remote port", isComp),
    select("protocol", "protocol", ["tcp", "udp", "icmp", "icmpv6"]),
    isComp ? select("direction", "direction", ["inbound", "outbound"]) : null,
    select("action", "action", ["ACCEPT", "REJECT"]),
  ];
  const form = h("form", { className: "filters", id: "flows-filters", onsubmit: (e) => {
    e.preventDefault();
    const change = {};
    for (const f of FILTERS) {
      const el = form.elements.namedItem(f);
      change[f] = el && !el.disabled ? el.value.trim() : "";
    }
    go(p, change);
  } }, fields, h("button", { type: "submit", id: "flows-apply" }, "Filter"),
  h("button", { type: "button", onclick: () => go(p, Object.fromEntries(FILTERS.map((f) => [f, ""]))) }, "Clear"));
  return form;
}

// drawTable fills box with the conversations' rows, sorted as p.sort says.
function drawTable(box, rs, p, kind, truncated) {
  const sort = ["in", "out", "total"].includes(p.sort) ? p.sort : "total";
  const sorted = sortRows(rs, sort);
  const comp = kind === "component";
  const sortHead = (key, text) => h("th", { "aria-sort": sort === key ? "descending" : "none" },
    h("a", { href: "#", className: "sort" + (sort === key ? " active" : ""), "data-sort": key, onclick: (e) => { e.preventDefault(); go(p, { sort: key }); } },
      text + (sort === key ? " ▼" : "")));
  const head = h("tr", null,
    h("th", null, comp ? "local" : "client"), h("th", null, comp ? "remote" : "server"), h("th", null, "port"), h("th", null, "protocol"),
    comp ? h("th", null, "direction") : null,
    sortHead("in", comp ? "bytes in" : "server → client"), sortHead("out", comp ? "bytes out" : "client → server"),
    sortHead("total", "total"), h("th", null, "packets in / out"), h("th", null, "action"), h("th", null, "records ✓ / ✗"), h("th", null, "last seen"));
  const pending = [];
  const body = h("tbody", null, sorted.map((r) => h("tr", { className: r.rejected ? "rejected" : null, "data-port": r.port },
    h("td", null, endpoint(r.local, p, pending)),
    h("td", null, endpoint(r.remote, p, pending)),
    h("td", { className: "num" }, String(r.port), r.portSide !== "server" ? h("span", { className: "muted" }, " " + r.portSide) : null),
    h("td", null, r.protocol),
    comp ? h("td", null, r.direction) : null,
    h("td", { className: "num bytes-in", "data-bytes": r.bytesIn }, fmtBytes(r.bytesIn)),
    h("td", { className: "num bytes-out", "data-bytes": r.bytesOut }, fmtBytes(r.bytesOut)),
    h("td", { className: "num" }, fmtBytes(r.bytesIn + r.bytesOut)),
    h("td", { className: "num" }, `${r.packetsIn} / ${r.packetsOut}`),
    h("td", null, h("span", { className: "action action-" + r.action.toLowerCase() }, r.action === "both" ? "ACCEPT + REJECT" : r.action)),
    h("td", { className: "num" }, `${r.accepted} / ${r.rejected}`),
    h("td", null, fmtTime(r.lastSeen)))));
  clear(box).append(
    h("p", { className: "muted", id: "flows-count" }, rs.length ? `${rs.length} conversations` +
      (truncated ? `, the ${LIMIT} biggest` : "") + "; rejected ones are highlighted. Click an end to open its details; an address, to filter by it."
      : "No flows in the range with these filters."),
    rs.length ? h("table", { className: "grid compact flowtable" }, h("thead", null, head), body) : null);
  fillNames(pending);
}

// endpoint is an end of a conversation: a link to the component's details
// (its name filled in once known), or, for an address skymap does not know,
// a link filtering the explorer by it.
function endpoint(id, p, pending) {
  const own = id === p.component;
  const addr = hostAddr(id);
  const a = h("a", { className: "endpoint", "data-id": id }, addr || id);
  if (addr) {
    a.setAttribute("href", "#");
    a.setAttribute("title", "filter by " + addr);
    a.addEventListener("click", (e) => { e.preventDefault(); go(p, { addr }); });
    return h("span", null, a, h("span", { className: "muted" }, " external"));
  }
  a.setAttribute("href", componentHref(id));
  const type = h("span", { className: "muted" });
  pending.push([id, a, type]);
  return h("span", null, a, " ", type, own ? null : [" ",
    h("a", { href: "#/flows?component=" + encodeURIComponent(id), className: "muted", title: "flows of this component" }, "flows")]);
}

// fillNames fills the endpoints' names in, a few lookups at a time.
async function fillNames(pending) {
  const mine = hooks.flows;
  const ids = [...new Set(pending.map(([id]) => id))].slice(0, 200);
  const queue = ids.slice();
  await Promise.all(Array.from({ length: 6 }, async () => {
    while (queue.length) await lookup(queue.shift());
  }));
  for (const [id, a, type] of pending) {
    const c = names.get(id);
    if (!c) continue;
    if (c.name) a.textContent = c.name;
    a.title = id;
    type.textContent = shortType(c.type);
  }
  if (mine) mine.named = true;
}

// localInput formats d for a datetime-local input, in local time.
function localInput(d) {
  if (isNaN(d)) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

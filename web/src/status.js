// status.js is the integration status page: the last scan, each account's
// state with the IAM actions denied (where, and the calls they block),
// each region's API calls, the event path of each account and region with
// its delay, the flow-log sources, and the integration logs, filtered by
// the route's parameters (#/status?category=&severity=&source=&q=).
import { get } from "./api.js";
import { clear, fmtTime, h, table } from "./dom.js";
import { fmtBytes } from "./flowmodel.js";
import { deniedActions, regionStates } from "./statusmodel.js";

// CATEGORIES are the integration-log categories, as the API names them.
const CATEGORIES = ["subscribe", "logDownload", "logParse", "logFilter"];

// LOG_FILTERS are the route parameters passed to /api/integration/logs.
const LOG_FILTERS = ["category", "severity", "source", "q"];

// hooks is what the browser tests read.
const hooks = (window.__skymap = window.__skymap || {});

export async function render(page, params) {
  hooks.status = null;
  clear(page);
  const out = h("div", { className: "doc", id: "status" }, h("h1", null, "Integration status"), h("p", { className: "muted" }, "Loading…"));
  page.append(out);
  let st;
  try {
    st = await get("/api/status");
  } catch (e) {
    out.append(h("p", { className: "error" }, "Could not read the status: " + e.message));
    return;
  }
  clear(out).append(h("h1", null, "Integration status"));
  const scan = st.last_scan;
  out.append(h("p", null, "skymap ", st.version || "", st.scanning ? " · scanning now" : "",
    scan ? ` · last scan finished ${fmtTime(scan.finished)}` : " · no scan finished yet",
    st.next_scan ? ` · next scan ${fmtTime(st.next_scan)}` : ""));
  if (scan) out.append(kv(scan));

  const calls = st.calls || [];
  out.append(h("h2", null, "Accounts"));
  out.append(accounts(st.accounts || [], calls));

  out.append(h("h2", null, "Regions"));
  out.append(regions(calls));

  const problems = calls.filter((c) => c.outcome !== "ok");
  out.append(h("h2", null, "Failed and denied calls"));
  out.append(problems.length ? table(["account", "region", "API", "outcome", "detail", "calls", "time"], problems.map((c) => [
    c.account, c.region, c.api, h("span", { className: "state state-" + c.outcome }, c.outcome), c.detail, String(c.calls), fmtTime(c.time)]), "grid compact")
    : h("p", { className: "muted" }, "none"));

  out.append(h("h2", null, "Event paths"), eventPaths(st.events || []));
  out.append(h("h2", null, "Flow-log sources"), flowSources(st.flowlogs || []));

  const logsOut = h("div", { id: "status-logs" });
  out.append(h("h2", null, "Integration logs"),
    h("p", { className: "muted" }, "What the flow-log sources could not do, the latest of each kind per object, newest first. " +
      "The access-log readers and event feeds name their last error in their own tables."),
    logFilters(params || {}, logsOut), logsOut);

  for (const [title, rows] of [["CloudWatch Logs tail", st.logs], ["Load balancer and CloudFront logs in S3", st.logs_s3]]) {
    out.append(h("h2", null, title), rowsTable(rows));
  }
  if (st.health) out.append(h("h2", null, "Health"), kv(st.health));
  if (st.metrics) out.append(h("h2", null, "CloudWatch metrics"), kv(st.metrics));
  await showLogs(logsOut, params || {});
}

// accounts shows each account's state and the IAM actions denied to it,
// each with the regions it was denied in and the calls it blocks.
function accounts(list, calls) {
  if (!list.length) return h("p", { className: "muted" }, "no account scanned yet");
  return table(["account", "state", "denied IAM actions"], list.map((a) => {
    const denied = deniedActions(a.account, calls);
    return [
      a.account, h("span", { className: "state state-" + a.state.replace(/\s+/g, "-") }, a.state),
      denied.length ? table(["IAM action", "regions", "blocks"], denied.map((d) => [
        h("span", { className: "mono" }, d.action), d.regions.join(", "), d.blocks.join("; ")]), "grid compact denied") : "none",
    ];
  }), "grid");
}

// regions shows per account and region a state, and how many APIs
// answered, were denied or failed.
function regions(calls) {
  const rows = regionStates(calls);
  if (!rows.length) return h("p", { className: "muted" }, "no calls yet");
  return table(["account", "region", "state", "APIs ok", "denied", "failed"], rows.map((r) => [r.account, r.region,
    h("span", { className: "state state-" + r.state.replace(/\s+/g, "-") }, r.state), String(r.ok), String(r.denied), String(r.failed)]),
  "grid regions");
}

// eventPaths shows, per account and region, where change events are read
// from and how late they arrive.
function eventPaths(rows) {
  if (!rows.length) return h("p", { className: "muted" }, "no event feeds");
  const t = table(["account", "region", "path", "bucket", "expected delay", "why", "events", "last poll", "error", "objects not read"],
    rows.map((e) => [e.account, e.region, h("span", { className: "mono" }, e.path), e.bucket || "", e.expected_delay || "", e.why || "",
      String(e.events || 0), fmtTime(e.last_poll), e.error ? h("span", { className: "error" }, e.error) : "",
      (e.bad_objects || []).length ? h("ul", { className: "plain mono" }, e.bad_objects.map((k) => h("li", null, k))) : ""]), "grid compact");
  t.id = "status-events";
  return t;
}

// flowSources shows what each flow-log source read and how many of its
// objects failed.
function flowSources(rows) {
  if (!rows.length) return h("p", { className: "muted" }, "flow logs are off or no source is configured");
  const t = table(["source", "objects", "records", "bytes", "failed", "skipped", "deleted", "ignored", "messages", "last poll", "last success", "problems"],
    rows.map((s) => [h("span", { className: "mono" }, s.source), String(s.objects), String(s.records), fmtBytes(s.bytes),
      s.failed ? h("span", { className: "error" }, String(s.failed)) : "0", String(s.skipped), String(s.deleted), String(s.ignored),
      s.messages ? `${s.messages} (${s.messages_deleted || 0} deleted)` : "", fmtTime(s.last_poll), fmtTime(s.last_success),
      String((s.problems || []).length)]), "grid compact");
  t.id = "status-flowlogs";
  return t;
}

// logFilters is the form of the integration logs' filters: a change
// puts them in the route (replacing it, so that the back button leaves
// the page) and reloads the table.
function logFilters(p, logsOut) {
  const select = (name, label, options) => h("select", { name, id: "status-" + name, "aria-label": label },
    h("option", { value: "" }, "any " + label), options.map((o) => h("option", { value: o, selected: p[name] === o }, o)));
  const input = (name, placeholder) => h("input", { type: "text", name, id: "status-" + name, placeholder, "aria-label": placeholder, value: p[name] || "" });
  const form = h("form", { className: "filters", id: "status-filters" },
    select("category", "category", CATEGORIES), select("severity", "severity", ["error", "warning"]),
    input("source", "source"), input("q", "key or detail"), h("button", { type: "submit", id: "status-apply" }, "Filter"));
  const apply = (e) => {
    if (e) e.preventDefault();
    const q = new URLSearchParams();
    for (const f of LOG_FILTERS) if (form.elements[f].value) q.set(f, form.elements[f].value);
    history.replaceState(null, "", "#/status" + (q.toString() ? "?" + q : ""));
    showLogs(logsOut, Object.fromEntries(q));
  };
  form.addEventListener("submit", apply);
  for (const s of form.querySelectorAll("select")) s.addEventListener("change", apply);
  return form;
}

// loads counts the reads of the logs, so that a slow answer does not
// overwrite a later filter's.
let loads = 0;

// showLogs reads the integration logs the filters in p keep into out.
async function showLogs(out, p) {
  const me = ++loads;
  const q = {};
  for (const f of LOG_FILTERS) if (p[f]) q[f] = p[f];
  let res;
  try {
    res = await get("/api/integration/logs", q);
  } catch (e) {
    if (me !== loads) return;
    clear(out).append(h("p", { className: "error", id: "status-logs-error" }, "Could not read the integration logs: " + e.message));
    hooks.status = { route: location.hash, rows: 0, error: e.message };
    return;
  }
  if (me !== loads) return;
  clear(out);
  const rows = res.logs || [];
  out.append(h("p", { className: "muted", id: "status-logs-count" }, rows.length === res.total
    ? `${res.total} ${res.total === 1 ? "entry" : "entries"}` : `${rows.length} of ${res.total} entries`));
  if (rows.length) {
    const t = table(["time", "source", "category", "severity", "object key", "detail", "count"], [], "grid compact");
    t.id = "status-logs-table";
    const body = t.querySelector("tbody");
    for (const r of rows) {
      const detail = r.fields && r.fields.length ? `${r.detail} (missing: ${r.fields.join(", ")})` : r.detail;
      body.append(h("tr", { className: "sev-" + r.severity, "data-category": r.category, "data-severity": r.severity },
        [fmtTime(r.time), h("span", { className: "mono" }, r.source), r.category, r.severity,
          h("span", { className: "mono" }, r.key || (r.bucket ? "(bucket " + r.bucket + ")" : "")), detail, String(r.count)]
          .map((c) => h("td", null, c))));
    }
    out.append(t);
  }
  hooks.status = { route: location.hash, rows: rows.length, total: res.total };
}

// rowsTable shows a list of objects, one column per key.
function rowsTable(rows) {
  if (!Array.isArray(rows) || !rows.length) return h("p", { className: "muted" }, "none");
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return table(keys, rows.map((r) => keys.map((k) => cell(r[k]))), "grid compact");
}

// kv shows an object's fields, one row each.
function kv(obj) {
  return table(["", ""], Object.entries(obj).map(([k, v]) => [k, cell(v)]), "grid kv");
}

function cell(v) {
  if (v == null) return "";
  if (typeof v === "string") return /^\d{4}-\d\d-\d\dT/.test(v) ? fmtTime(v) : v;
  if (typeof v !== "object") return String(v);
  const s = JSON.stringify(v);
  return s.length > 300 ? h("code", { title: s }, s.slice(0, 297) + "…") : h("code", null, s);
}

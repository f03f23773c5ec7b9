// status.js is the integration status page: the last scan, each account's
// state with the IAM actions denied, each region's API calls, and the
// state of the event, flow-log and log readers.
import { get } from "./api.js";
import { clear, fmtTime, h, table } from "./dom.js";

export async function render(page) {
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

  out.append(h("h2", null, "Accounts"));
  out.append((st.accounts || []).length ? table(["account", "state", "denied IAM actions"], st.accounts.map((a) => [
    a.account, h("span", { className: "state state-" + a.state.replace(/\s+/g, "-") }, a.state),
    (a.denied || []).length ? h("ul", { className: "plain mono" }, a.denied.map((d) => h("li", null, d))) : "none",
  ]), "grid") : h("p", { className: "muted" }, "no account scanned yet"));

  out.append(h("h2", null, "Regions"));
  out.append(regions(st.calls || []));

  const problems = (st.calls || []).filter((c) => c.outcome !== "ok");
  out.append(h("h2", null, "Failed and denied calls"));
  out.append(problems.length ? table(["account", "region", "API", "outcome", "detail", "calls", "time"], problems.map((c) => [
    c.account, c.region, c.api, h("span", { className: "state state-" + c.outcome }, c.outcome), c.detail, String(c.calls), fmtTime(c.time)]), "grid compact")
    : h("p", { className: "muted" }, "none"));

  for (const [title, rows] of [["Change events", st.events], ["Flow-log sources", st.flowlogs], ["CloudWatch Logs tail", st.logs]]) {
    out.append(h("h2", null, title), rowsTable(rows));
  }
  if (st.health) out.append(h("h2", null, "Health"), kv(st.health));
  if (st.metrics) out.append(h("h2", null, "CloudWatch metrics"), kv(st.metrics));
}

// regions summarises calls per account and region: a state, and how many
// APIs answered, were denied or failed.
function regions(calls) {
  const by = new Map();
  for (const c of calls) {
    const k = c.account + "\u0000" + c.region;
    if (!by.has(k)) by.set(k, { account: c.account, region: c.region, ok: 0, denied: 0, failed: 0 });
    const r = by.get(k);
    if (c.outcome === "ok") r.ok++;
    else if (c.outcome === "denied") r.denied++;
    else r.failed++;
  }
  const rows = [...by.values()].sort((a, b) => (a.account + a.region).localeCompare(b.account + b.region));
  if (!rows.length) return h("p", { className: "muted" }, "no calls yet");
  return table(["account", "region", "state", "APIs ok", "denied", "failed"], rows.map((r) => {
    const state = r.ok === 0 && (r.denied || r.failed) ? "failed" : r.denied || r.failed ? "partially connected" : "connected";
    return [r.account, r.region, h("span", { className: "state state-" + state.replace(/\s+/g, "-") }, state), String(r.ok), String(r.denied), String(r.failed)];
  }), "grid");
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

// sql.js is the SQL page: one read-only SELECT over the flow tables, sent
// to POST /api/sql, its rows shown as text. The query is kept in the route
// (#/sql?q=...), so a link runs it again.
import { send } from "./api.js";
import { clear, h } from "./dom.js";

// TABLES are the tables the API lets a query name.
const TABLES = ["vpc_flow_logs", "flow_rollups", "components", "flow_objects"];

// EXAMPLES are queries the page offers as buttons.
const EXAMPLES = [
  ["Top talkers", "SELECT srcaddr, dstaddr, dstport, sum(bytes) AS bytes\nFROM vpc_flow_logs\nGROUP BY ALL\nORDER BY bytes DESC\nLIMIT 20"],
  ["Rejected traffic", "SELECT srcaddr, dstaddr, dstport, protocol, count(*) AS records\nFROM vpc_flow_logs\nWHERE action = 'REJECT'\nGROUP BY ALL\nORDER BY records DESC\nLIMIT 20"],
  ["Busiest servers by name", "SELECT r.server, c.name, c.type, sum(r.bytes_to_server + r.bytes_to_client) AS bytes\n" +
    "FROM flow_rollups r LEFT JOIN components c ON c.id = r.server\nGROUP BY ALL\nORDER BY bytes DESC\nLIMIT 20"],
];

// MAX_ROWS is the most rows the page asks for.
const MAX_ROWS = 1000;

// hooks is what the browser tests read.
const hooks = (window.__skymap = window.__skymap || {});

// columns caches the tables' columns once read.
let columns = null;

// runs counts the queries sent, so that a slow answer does not overwrite
// a later one's.
let runs = 0;

// render shows the page; with q in the route it runs it.
export async function render(page, params) {
  hooks.sql = null;
  clear(page);
  const text = h("textarea", { id: "sql-query", rows: 8, spellcheck: "false", "aria-label": "SQL query",
    placeholder: "SELECT ... FROM vpc_flow_logs ..." });
  text.value = params.q || EXAMPLES[0][1];
  const out = h("div", { id: "sql-out" });
  const run = () => {
    // The route keeps the query; pushState does not re-render the page.
    const hash = "#/sql?" + new URLSearchParams({ q: text.value });
    if (location.hash !== hash) history.pushState(null, "", hash);
    execute(text.value, out);
  };
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run();
    }
  });
  const tables = h("div", { id: "sql-tables" });
  page.append(h("div", { className: "doc sql", id: "sql" },
    h("h1", null, "SQL"),
    h("p", { className: "muted" }, "One read-only SELECT over the flow tables (DuckDB's SQL). Ctrl+Enter runs it; at most " +
      MAX_ROWS + " rows are shown. Writes, files and settings are refused."),
    tables,
    h("div", { className: "examples" }, h("span", { className: "muted" }, "Examples: "),
      EXAMPLES.map(([label, q]) => h("button", { type: "button", className: "example", onclick: () => { text.value = q; run(); } }, label))),
    text,
    h("div", { className: "toolbar-row" }, h("button", { type: "button", id: "sql-run", onclick: run }, "Run"),
      h("span", { className: "muted" }, " Ctrl+Enter")),
    out));
  showTables(tables);
  if (params.q) await execute(params.q, out);
}

// execute sends query and shows its rows, or the API's error, in out.
async function execute(query, out) {
  const me = ++runs;
  clear(out).append(h("p", { className: "muted" }, "Running…"));
  const start = performance.now();
  let res;
  try {
    res = await send("POST", "/api/sql", { query, max_rows: MAX_ROWS });
  } catch (e) {
    if (me !== runs) return;
    const what = e.status === 503 ? "Not available: " : e.status === 504 ? "Timed out: " : "Refused: ";
    clear(out).append(h("p", { className: "error", id: "sql-error" }, what + e.message));
    hooks.sql = { query, error: e.message, status: e.status };
    return;
  }
  if (me !== runs) return;
  const ms = Math.round(performance.now() - start);
  const rows = res.rows || [];
  clear(out).append(
    h("p", { id: "sql-count" }, `${rows.length} ${rows.length === 1 ? "row" : "rows"}${res.truncated ? " (more were cut off)" : ""} in ${ms} ms`),
    h("div", { className: "scroll" }, h("table", { className: "grid compact", id: "sql-result" },
      h("thead", null, h("tr", null, (res.columns || []).map((c) => h("th", null, c)))),
      h("tbody", null, rows.map((r) => h("tr", null, r.map((v) => h("td", { className: v == null ? "null" : null }, cellText(v)))))))));
  hooks.sql = { query, rows: rows.length, columns: res.columns || [] };
}

// cellText is a value as text: NULL, JSON for lists and objects.
function cellText(v) {
  if (v == null) return "NULL";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

// showTables lists the tables a query may name with their columns, read
// from information_schema once; when flow logs are off, the API's 503
// says so.
async function showTables(out) {
  if (!columns) {
    try {
      const res = await send("POST", "/api/sql", {
        query: "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_name IN (" +
          TABLES.map((t) => `'${t}'`).join(", ") + ") ORDER BY table_name, ordinal_position",
        max_rows: 5000,
      });
      columns = new Map(TABLES.map((t) => [t, []]));
      for (const [t, c, typ] of res.rows || []) columns.get(t).push(c + " " + typ);
    } catch (e) {
      clear(out).append(h("p", { className: "error", id: "sql-tables-error" }, e.status === 503 ? e.message : "Could not read the tables: " + e.message));
      return;
    }
  }
  clear(out).append(h("p", { className: "muted" }, "Tables (click for their columns):"),
    h("ul", { className: "plain tables" }, [...columns].map(([t, cols]) => h("li", null, h("details", null,
      h("summary", { className: "mono" }, `${t} (${cols.length} columns)`), h("p", { className: "mono" }, cols.join(", ")))))));
}

// dom.js builds elements. Text is only ever inserted as text nodes: no
// data reaches innerHTML anywhere in the UI.

// h returns a new element: attrs are set as properties for on* handlers
// and className, as attributes otherwise; children are nodes, or strings
// and numbers inserted as text; null and false are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "className") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// clear removes every child of el and returns it.
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// fmtTime formats an RFC 3339 time (or Date) as local date and time.
export function fmtTime(t) {
  if (!t) return "";
  const d = t instanceof Date ? t : new Date(t);
  if (isNaN(d) || d.getUTCFullYear() < 1971) return "";
  return d.toLocaleString(undefined, { hour12: false });
}

// table returns a table of rows (arrays of cells: nodes or text).
export function table(head, rows, className) {
  return h("table", { className: className || "grid" },
    h("thead", null, h("tr", null, head.map((c) => h("th", null, c)))),
    h("tbody", null, rows.map((r) => h("tr", null, r.map((c) => h("td", null, c))))));
}

// componentHref is the route that shows component id in the topology view.
export function componentHref(id, view) {
  return "#/topology/" + encodeURIComponent(view || "All") + "?component=" + encodeURIComponent(id);
}

// healthClass is the CSS class of a health state.
export function healthClass(health) {
  return "health health-" + (health || "none").toLowerCase();
}

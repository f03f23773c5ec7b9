// topology.js is the topology page: a view's components and relations as
// a graph, a search box, and the details pane of the selected component.
import cytoscape from "cytoscape";
import fcose from "cytoscape-fcose";
import { get } from "./api.js";
import { clear, componentHref, fmtTime, h } from "./dom.js";
import { buildGraph } from "./model.js";
import { layeredLayout } from "./layout.js";
import { showAggregate, showDetails } from "./details.js";
import { defaultInstance, describe, editor, groupOf, instanceOf, KINDS, kindOf, loadViews, remove, resolveView } from "./views.js";

cytoscape.use(fcose);

const HEALTH_COLOURS = { CLEAR: "#2e9d4f", DEVIATING: "#e08a00", CRITICAL: "#d1342f", UNKNOWN: "#8a8f98", "": "#b8c2cc" };

// state survives route changes within the page, so that selecting a
// component does not fetch and lay out the map again.
let state = null;

// hooks is what the browser tests read: the graph and when it first rendered.
const hooks = (window.__skymap = window.__skymap || {});

// LAYOUTS are the ways of placing the nodes: in layer bands within each
// group (the default), or by a force simulation.
const LAYOUTS = { layers: "Layers", force: "Force" };

// render shows the topology page for view (an id of GET /api/views, or
// All, Infrastructure, Serverless: that built-in view of the current
// instance), search q, selected component, time at (RFC 3339; empty for
// now) and layout (a key of LAYOUTS).
export async function render(page, { view, q, component, at, layout }) {
  if (!LAYOUTS[layout]) layout = "layers";
  at = at || "";
  if (!state || !page.contains(state.root)) {
    state = mount(page);
  }
  const s = state;
  await s.viewsLoading;
  if (s !== state) return;
  const v = resolveView(s.views, view || "All", s.current) || s.views[0] || null;
  s.viewNote = v && view && v.id !== view && !KINDS.includes(view) ? `There is no view “${view}”: showing ${v.name}. ` : "";
  s.current = v;
  s.view = v ? v.id : "All";
  s.q = q || "";
  s.layout = layout;
  s.component = component || "";
  for (const [name, b] of s.layoutButtons) b.classList.toggle("active", name === layout);
  showViews(s, at);
  if (s.search.value !== s.q) s.search.value = s.q;
  const key = s.view + "\u0000" + at;
  if (s.loaded !== key) {
    s.loaded = key;
    s.drawn = "";
    s.expanded.clear();
    s.atInput.value = at ? localInput(new Date(at)) : "";
    s.loading = load(s, at, v);
  }
  await s.loading;
  if (s !== state || s.loaded !== key) return; // another route won meanwhile
  if (s.drawn !== drawKey(s, s.view)) {
    await draw(s.view, s.q);
  }
  select(component);
}

// showViews fills the view picker and the tabs of the current instance's
// built-in views, their links keeping the time.
function showViews(s, at) {
  const p = new URLSearchParams();
  if (at) p.set("at", at);
  if (s.layout !== "layers") p.set("layout", s.layout);
  const suffix = p.size ? "?" + p : "";
  clear(s.picker);
  const groups = new Map();
  for (const v of s.views) {
    const g = groupOf(v);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(v);
  }
  for (const [label, vs] of groups) {
    s.picker.append(h("optgroup", { label }, vs.map((v) => h("option", { value: v.id, selected: v.id === s.view }, v.name))));
  }
  s.picker.hidden = s.views.length === 0;
  clear(s.tabs);
  const inst = defaultInstance(s.views, s.current);
  for (const kind of KINDS) {
    const v = s.views.find((x) => x.builtin && instanceOf(x) === inst && kindOf(x) === kind);
    const a = h("a", { href: "#/topology/" + encodeURIComponent(v ? v.id : kind) + suffix, role: "tab", "data-view": kind,
      className: v && v.id === s.view ? "active" : "" }, kind);
    s.tabs.append(a);
  }
  s.editBtn.disabled = s.delBtn.disabled = !s.current || s.current.builtin;
  s.viewDesc.textContent = s.current ? describe(s.current.filter || {}) : "";
}

// openEditor shows the form of a new view, or of the current one.
function openEditor(s, view) {
  const types = [...new Set(s.data.components.map((c) => c.type))].sort();
  const close = () => { s.editorBox.hidden = true; clear(s.editorBox); };
  clear(s.editorBox).append(editor(view, {
    types,
    cancel: close,
    saved: async (v) => {
      close();
      s.views = (await loadViews()).views;
      s.loaded = ""; // the view's filter may have changed
      if (state === s) go({ view: v.id, component: "" });
      if (view && view.id === v.id) render(s.root.parentNode, { view: v.id, q: s.q, at: s.at });
    },
  }));
  s.editorBox.hidden = false;
  s.editorBox.querySelector("input").focus();
}

function mount(page) {
  clear(page);
  const tabs = h("div", { className: "tabs", role: "tablist" });
  const picker = h("select", { id: "view", "aria-label": "View" });
  const search = h("input", { type: "search", id: "search", placeholder: "Search name, id, type, tag…", "aria-label": "Search components" });
  const atInput = h("input", { type: "datetime-local", id: "at", step: 1, "aria-label": "Map as of" });
  const note = h("p", { className: "note", id: "graph-note", role: "status" });
  const graph = h("div", { id: "graph", className: "graph" });
  const pane = h("aside", { id: "details", className: "details", hidden: true });
  // Switching layouts keeps the selection.
  const layoutButtons = new Map(Object.entries(LAYOUTS).map(([name, title]) =>
    [name, h("button", { type: "button", "data-layout": name, onclick: () => go({ layout: name, component: state.component }) }, title)]));
  const editorBox = h("div", { className: "editor-box", hidden: true });
  const viewDesc = h("span", { className: "muted view-desc", id: "view-desc" });
  const s = { tabs, picker, search, atInput, note, graph, pane, editorBox, viewDesc, layoutButtons, view: "All", q: "",
    layout: "layers", expanded: new Set(), cy: null, drawn: "",
    loaded: null, loading: null, data: { components: [], relations: [] }, byId: new Map(), built: null, at: "",
    views: [], current: null, viewNote: "", error: "" };
  s.editBtn = h("button", { type: "button", id: "view-edit", onclick: () => openEditor(s, s.current) }, "Edit");
  s.delBtn = h("button", { type: "button", id: "view-delete", onclick: async () => {
    if (!s.current || s.current.builtin || !window.confirm(`Delete the view “${s.current.name}”?`)) return;
    try {
      await remove(s.current);
    } catch (e) {
      s.note.textContent = "Could not delete the view: " + e.message;
      return;
    }
    s.views = (await loadViews()).views;
    go({ view: "All", component: "" });
  } }, "Delete");
  picker.addEventListener("change", () => go({ view: picker.value, component: "" }));
  const root = h("div", { className: "topology" },
    h("div", { className: "toolbar" },
      picker, tabs,
      h("span", { className: "view-actions" },
        h("button", { type: "button", id: "view-new", onclick: () => openEditor(s, null) }, "New view"), s.editBtn, s.delBtn),
      h("form", { className: "searchform", onsubmit: (e) => { e.preventDefault(); go({ q: search.value }); } },
        search, h("button", { type: "submit" }, "Search")),
      h("form", { className: "searchform", onsubmit: (e) => {
        e.preventDefault();
        go({ at: atInput.value ? new Date(atInput.value).toISOString() : "" });
      } }, h("label", { for: "at" }, "as of"), atInput, h("button", { type: "submit" }, "Go"),
      h("button", { type: "button", onclick: () => go({ at: "" }) }, "Now")),
      h("div", { className: "range", role: "group", "aria-label": "Layout", id: "layout" }, [...layoutButtons.values()]),
      note, viewDesc,
      h("ul", { className: "legend", "aria-label": "Health colours" }, ["CLEAR", "DEVIATING", "CRITICAL", "UNKNOWN", ""].map((k) =>
        h("li", null, h("span", { className: "swatch swatch-" + (k || "none").toLowerCase() }), (k || "not judged").toLowerCase())))),
    editorBox,
    h("div", { className: "split" }, graph, pane));
  s.root = root;
  page.appendChild(root);
  search.addEventListener("search", () => { if (!search.value) go({ q: "" }); });
  s.viewsLoading = loadViews().then(({ views, error }) => {
    s.views = views;
    s.error = error;
  });
  return s;
}

// load reads the view's map now, or as it was at at.
async function load(s, at, v) {
  s.at = at;
  try {
    s.data = await get("/api/topology", { at, view: v ? v.id : "" });
  } catch (e) {
    s.data = { components: [], relations: [] };
    s.error = "Could not read the topology" + (at ? " as of " + at : "") + ": " + e.message;
  }
  s.byId = new Map(s.data.components.map((c) => [c.id, c]));
}

// localInput formats d for a datetime-local input, in local time.
function localInput(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// drawKey says what the graph drawn shows: a change redraws it.
function drawKey(s, view) {
  return [view, s.q, s.layout, [...s.expanded].join("\u0001")].join("\u0000");
}

// go changes the route, keeping what is not given.
function go({ view = state.view, q = state.search.value, component, at = state.at, layout = state.layout } = {}) {
  const p = new URLSearchParams();
  if (q) p.set("q", q);
  if (at) p.set("at", at);
  if (layout !== "layers") p.set("layout", layout);
  if (component) p.set("component", component);
  const qs = p.toString();
  location.hash = "#/topology/" + encodeURIComponent(view) + (qs ? "?" + qs : "");
}

async function draw(view, q) {
  const s = state;
  if (s.drawnFor !== view + "\u0000" + q) s.expanded.clear(); // aggregates of another view or search
  s.drawnFor = view + "\u0000" + q;
  s.drawn = drawKey(s, view);
  const t0 = performance.now();
  // the API filtered the view's components: the graph draws them all
  const b = buildGraph(s.data.components, s.data.relations, { q, expand: s.expanded });
  s.built = b;
  const name = s.current ? s.current.name : "map";
  let msg = s.viewNote + `${b.shown} of ${b.total} components in ${name}` + (s.at ? ` as of ${fmtTime(s.at)}` : "");
  if (q) msg = `${b.matched.size} matching “${q}”, shown with their neighbours (${b.shown} components)`;
  if (b.aggregated) {
    msg += ` — too many to draw one by one: like components are shown as one node per ${b.aggregated} ` +
      `in each account, region and VPC (${b.nodes} nodes). Search or pick a narrower view to see single components.`;
  }
  s.note.textContent = s.error ? s.error : msg;
  s.error = "";
  if (s.cy) s.cy.destroy();
  const big = b.elements.length > 3000;
  const layers = s.layout === "layers";
  let elements = b.elements;
  if (layers) {
    const { positions, bands } = layeredLayout(b.elements);
    elements = b.elements.map((e) => positions.has(e.data.id) ? { ...e, position: positions.get(e.data.id) } : e);
    for (const band of bands) {
      elements.push({ group: "nodes", data: { id: band.id, parent: band.parent, label: band.layer, kind: "band" },
        position: { x: band.x, y: band.y }, selectable: false, grabbable: false });
    }
  }
  const cy = cytoscape({
    container: s.graph,
    elements,
    // Without a layout, cytoscape places the nodes in a grid, over the
    // positions the layers gave.
    layout: { name: "preset", fit: false },
    style: graphStyle(big),
    wheelSensitivity: 0.3,
    hideEdgesOnViewport: big,
    textureOnViewport: big,
    minZoom: 0.02,
    maxZoom: 4,
  });
  s.cy = cy;
  hooks.cy = cy;
  const tInit = performance.now();
  cy.on("tap", "node", (e) => {
    const n = e.target;
    const kind = n.data("kind");
    if (kind === "component" || kind === "aggregate") go({ component: n.id() });
  });
  // The layers are placed already: a preset layout keeps them where they are.
  const layout = layers ? cy.layout({ name: "preset", fit: false }) : cy.layout({
    name: "fcose",
    quality: b.elements.length > 600 ? "draft" : "default",
    animate: false,
    randomize: true,
    nodeDimensionsIncludeLabels: false,
    packComponents: b.elements.length < 600,
    nodeRepulsion: 9000,
    idealEdgeLength: 70,
    numIter: big ? 800 : 2500,
  });
  await new Promise((resolve) => {
    layout.one("layoutstop", resolve);
    layout.run();
  });
  const tLayout = performance.now();
  fit(cy);
  const ms = performance.now() - t0;
  if (!hooks.firstPhases) hooks.firstPhases = { build: tInit - t0, layout: tLayout - tInit };
  if (hooks.firstRender == null) {
    performance.mark("skymap-first-render");
    hooks.firstRender = { sinceNavigation: performance.now(), layout: ms, nodes: cy.nodes().length,
      components: cy.nodes(":childless").not('[kind = "band"]').length, edges: cy.edges().length };
  }
  hooks.lastRender = { layout: ms, nodes: cy.nodes().length, edges: cy.edges().length, view, viewName: name, q, arrangement: s.layout };
  s.graph.setAttribute("data-rendered", String(cy.nodes().length));
}

function select(id) {
  const s = state;
  s.cy.nodes(".selected").removeClass("selected");
  if (!id) {
    s.pane.hidden = true;
    clear(s.pane);
    s.cy.resize();
    return;
  }
  s.pane.hidden = false;
  s.cy.resize(); // the pane took part of the graph's width
  const n = s.cy.getElementById(id);
  if (n.nonempty()) {
    n.addClass("selected");
    // bring it into view when the pane or the layout hides it
    const bb = s.cy.extent(), p = n.position();
    if (s.cy.nodes().length <= 60) fit(s.cy);
    else if (p.x < bb.x1 || p.x > bb.x2 || p.y < bb.y1 || p.y > bb.y2) s.cy.center(n);
  }
  const close = () => go({ component: "" });
  if (s.built && s.built.groups.has(id)) {
    // Expanding redraws with the members as single nodes, so the
    // aggregate is gone and so is the selection.
    const expand = () => {
      s.expanded.add(id);
      go({ component: "" });
    };
    showAggregate(s.pane, n.data("label"), s.built.groups.get(id).map((m) => s.byId.get(m)), { close, href, expand });
    return;
  }
  showDetails(s.pane, id, { close, href, component: (ref) => s.byId.get(ref), at: s.at, relations: () => s.data.relations });
}

// fit fits the graph in its box, at most at a readable zoom.
function fit(cy) {
  cy.fit(undefined, 20);
  if (cy.zoom() > 1.6) {
    cy.zoom(1.6);
    cy.center();
  }
}

function href(id) {
  const p = new URLSearchParams();
  if (state.search.value) p.set("q", state.search.value);
  if (state.at) p.set("at", state.at);
  if (state.layout !== "layers") p.set("layout", state.layout);
  p.set("component", id);
  return "#/topology/" + encodeURIComponent(state.view) + "?" + p;
}

function graphStyle(big) {
  return [
    { selector: "node", style: { label: "data(label)", "font-size": 9, "text-valign": "bottom", "text-margin-y": 3,
      "min-zoomed-font-size": 7, width: 18, height: 18,
      "background-color": HEALTH_COLOURS[""], color: "#1d2733" } },
    ...["CLEAR", "DEVIATING", "CRITICAL", "UNKNOWN"].map((k) =>
      ({ selector: `node[health = "${k}"]`, style: { "background-color": HEALTH_COLOURS[k] } })),
    { selector: 'node[kind = "aggregate"]', style: { shape: "round-rectangle", width: 30, height: 30, "border-width": 2, "border-color": "#445" } },
    { selector: ":parent", style: { "background-color": "#f3f6f9", "background-opacity": 0.6, "border-color": "#9fb0c2",
      "border-width": 1, "text-valign": "top", "text-halign": "center", "font-size": 10, "font-weight": "bold", padding: 10, color: "#4a5a6a", "text-max-width": 400 } },
    { selector: 'node[kind = "vpc"]', style: { "background-color": "#e7f0fb", "border-style": "dashed" } },
    { selector: "node.match", style: { "border-width": 3, "border-color": "#1f6feb" } },
    { selector: "node.selected", style: { "border-width": 4, "border-color": "#111", "z-index": 10 } },
    { selector: 'node[kind = "band"]', style: { width: 1, height: 1, "background-opacity": 0, "border-width": 0, events: "no",
      "text-valign": "center", "text-halign": "right", "text-margin-y": 0, "font-size": 9, "font-style": "italic",
      color: "#8a97a6", "min-zoomed-font-size": 6 } },
    { selector: "edge", style: big
      ? { width: 1, "line-color": "#c3ccd6", "curve-style": "haystack", opacity: 0.6 }
      : { width: 1, "line-color": "#aab6c3", "target-arrow-color": "#aab6c3", "target-arrow-shape": "triangle",
        "arrow-scale": 0.7, "curve-style": "bezier", opacity: 0.8 } },
    { selector: 'edge[type = "flowlog"]', style: { "line-style": "dashed", "line-color": "#6b8fd6" } },
  ];
}

export { componentHref };

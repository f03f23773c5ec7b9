// topology.js is the topology page: a view's components and relations as
// a graph, a search box, and the details pane of the selected component.
import cytoscape from "cytoscape";
import fcose from "cytoscape-fcose";
import { get } from "./api.js";
import { clear, componentHref, fmtTime, h } from "./dom.js";
import { buildGraph, VIEWS } from "./model.js";
import { layeredLayout } from "./layout.js";
import { showAggregate, showDetails } from "./details.js";

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

// render shows the topology page for view, search q, selected component,
// time at (RFC 3339; empty for now) and layout (a key of LAYOUTS).
export async function render(page, { view, q, component, at, layout }) {
  if (!VIEWS[view]) view = "All";
  if (!LAYOUTS[layout]) layout = "layers";
  at = at || "";
  if (!state || !page.contains(state.root)) {
    state = mount(page);
  }
  const s = state;
  s.view = view;
  s.q = q || "";
  for (const [name, a] of s.tabs) {
    a.classList.toggle("active", name === view);
    const p = new URLSearchParams();
    if (at) p.set("at", at);
    if (layout !== "layers") p.set("layout", layout);
    a.setAttribute("href", "#/topology/" + name + (p.size ? "?" + p : ""));
  }
  s.layout = layout;
  s.component = component || "";
  for (const [name, b] of s.layoutButtons) b.classList.toggle("active", name === layout);
  if (s.search.value !== s.q) s.search.value = s.q;
  if (s.loaded !== at) {
    s.loaded = at;
    s.drawn = "";
    s.expanded.clear();
    s.atInput.value = at ? localInput(new Date(at)) : "";
    s.loading = load(s, at);
  }
  await s.loading;
  if (s !== state || s.loaded !== at) return; // another route won meanwhile
  if (s.drawn !== drawKey(s, view)) {
    await draw(view, s.q);
  }
  select(component);
}

function mount(page) {
  clear(page);
  const tabs = new Map();
  const search = h("input", { type: "search", id: "search", placeholder: "Search name, id, type, tag…", "aria-label": "Search components" });
  const atInput = h("input", { type: "datetime-local", id: "at", step: 1, "aria-label": "Map as of" });
  const note = h("p", { className: "note", id: "graph-note", role: "status" });
  const graph = h("div", { id: "graph", className: "graph" });
  // Switching layouts keeps the selection.
  const layoutButtons = new Map(Object.entries(LAYOUTS).map(([name, title]) =>
    [name, h("button", { type: "button", "data-layout": name, onclick: () => go({ layout: name, component: state.component }) }, title)]));
  const pane = h("aside", { id: "details", className: "details", hidden: true });
  const root = h("div", { className: "topology" },
    h("div", { className: "toolbar" },
      h("div", { className: "tabs", role: "tablist" }, Object.keys(VIEWS).map((name) => {
        const a = h("a", { href: "#/topology/" + name, role: "tab", "data-view": name }, VIEWS[name].title);
        tabs.set(name, a);
        return a;
      })),
      h("form", { className: "searchform", onsubmit: (e) => { e.preventDefault(); go({ q: search.value }); } },
        search, h("button", { type: "submit" }, "Search")),
      h("form", { className: "searchform", onsubmit: (e) => {
        e.preventDefault();
        go({ at: atInput.value ? new Date(atInput.value).toISOString() : "" });
      } }, h("label", { for: "at" }, "as of"), atInput, h("button", { type: "submit" }, "Go"),
      h("button", { type: "button", onclick: () => go({ at: "" }) }, "Now")),
      h("div", { className: "range", role: "group", "aria-label": "Layout", id: "layout" }, [...layoutButtons.values()]),
      note,
      h("ul", { className: "legend", "aria-label": "Health colours" }, ["CLEAR", "DEVIATING", "CRITICAL", "UNKNOWN", ""].map((k) =>
        h("li", null, h("span", { className: "swatch swatch-" + (k || "none").toLowerCase() }), (k || "not judged").toLowerCase())))),
    h("div", { className: "split" }, graph, pane));
  page.appendChild(root);
  search.addEventListener("search", () => { if (!search.value) go({ q: "" }); });
  return { root, tabs, search, atInput, note, graph, pane, layoutButtons, view: "All", q: "", layout: "layers",
    expanded: new Set(), cy: null, drawn: "", loaded: null,
    loading: null, data: { components: [], relations: [] }, byId: new Map(), built: null, at: "" };
}

// load reads the map now, or as it was at at.
async function load(s, at) {
  s.at = at;
  try {
    s.data = await get("/api/topology", { at });
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
  const b = buildGraph(s.data.components, s.data.relations, { view, q, expand: s.expanded });
  s.built = b;
  let msg = `${b.shown} of ${b.total} components in the ${view} view` + (s.at ? ` as of ${fmtTime(s.at)}` : "");
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
  hooks.lastRender = { layout: ms, nodes: cy.nodes().length, edges: cy.edges().length, view, q, arrangement: s.layout };
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
    { selector: 'node[kind = "band"]', style: { width: 1, height: 1, "background-opacity": 0, "border-width": 0, events: "no",
      "text-valign": "center", "text-halign": "right", "text-margin-y": 0, "font-size": 9, "font-style": "italic",
      color: "#8a97a6", "min-zoomed-font-size": 6 } },
    { selector: 'node[kind = "vpc"]', style: { "background-color": "#e7f0fb", "border-style": "dashed" } },
    { selector: "node.match", style: { "border-width": 3, "border-color": "#1f6feb" } },
    { selector: "node.selected", style: { "border-width": 4, "border-color": "#111", "z-index": 10 } },
    { selector: "edge", style: big
      ? { width: 1, "line-color": "#c3ccd6", "curve-style": "haystack", opacity: 0.6 }
      : { width: 1, "line-color": "#aab6c3", "target-arrow-color": "#aab6c3", "target-arrow-shape": "triangle",
        "arrow-scale": 0.7, "curve-style": "bezier", opacity: 0.8 } },
    { selector: 'edge[type = "flowlog"]', style: { "line-style": "dashed", "line-color": "#6b8fd6" } },
  ];
}

export { componentHref };

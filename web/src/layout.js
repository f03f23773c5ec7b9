// layout.js places the graph's nodes in layers: inside each group
// (account/region, VPC) one band per layer, in TOPOLOGY.md's order from
// Networking at the top to Management, then components of no layer, and
// the groups packed side by side. It computes positions directly, in time
// linear in the nodes, so that 10,000 components (aggregated) draw without
// waiting for a force simulation. Pure functions, no DOM.

// LAYERS is the order of the bands, top to bottom; other layers and none
// come last.
export const LAYERS = ["Networking", "Machines", "Containers", "Serverless", "Storage", "Databases", "Messaging", "Management"];

// Sizes, in graph units: a node's cell (room for its 24-character label
// below it), the height of a band's label row, the room around a group's
// content (its title sits above it) and between packed boxes.
export const CELL_W = 120;
export const CELL_H = 56;
const BAND_LABEL_H = 18;
const PAD = 14;
const TITLE_H = 22;
const GAP = 36;

// layerRank is the position of layer in LAYERS; other layers and none
// rank after them.
export function layerRank(layer) {
  const i = LAYERS.indexOf(layer);
  return i < 0 ? LAYERS.length : i;
}

// layeredLayout returns where to draw the nodes of elements (buildGraph's):
// positions maps each node that is not a group to its centre; bands are
// the label of each layer band ({id, parent, layer, x, y}: the left end of
// the band's label row); boxes maps each group to the box its content
// takes ({x1, y1, x2, y2}, without its title and padding).
export function layeredLayout(elements) {
  const groups = new Map(); // group id -> {leaves, subgroups}
  const roots = [];
  const ensure = (id) => {
    if (!groups.has(id)) groups.set(id, { leaves: [], subgroups: [] });
    return groups.get(id);
  };
  const nodes = elements.filter((e) => e.group === "nodes");
  const isGroup = new Set(nodes.filter((e) => e.data.kind === "region" || e.data.kind === "vpc").map((e) => e.data.id));
  // Nodes without a parent share one pseudo-group at the top level.
  const TOP = "\u0000top";
  for (const e of nodes) {
    const id = e.data.id;
    if (isGroup.has(id)) {
      ensure(id);
      if (e.data.parent && isGroup.has(e.data.parent)) ensure(e.data.parent).subgroups.push(id);
      else roots.push(id);
    } else {
      const p = e.data.parent && isGroup.has(e.data.parent) ? e.data.parent : TOP;
      if (p === TOP && !groups.has(TOP)) roots.push(TOP);
      ensure(p).leaves.push(e.data);
    }
  }

  const positions = new Map();
  const bands = [];
  const boxes = new Map();
  // Each block is laid out at the origin and shifted into place once its
  // parent has packed it: items keep their relative coordinates until then.
  const block = (gid) => {
    const g = groups.get(gid);
    const own = bandsBlock(gid, g.leaves);
    const parts = [];
    if (own.w > 0) parts.push(own);
    for (const sub of g.subgroups) parts.push(block(sub));
    const packed = pack(parts);
    const framed = gid === TOP ? 0 : 1;
    const dx = framed * PAD, dy = framed * (PAD + TITLE_H);
    const out = { w: packed.w + 2 * dx, h: packed.h + dy + framed * PAD, items: [], bands: [], boxes: [] };
    for (const it of packed.items) out.items.push({ id: it.id, x: it.x + dx, y: it.y + dy });
    for (const b of packed.bands) out.bands.push({ ...b, x: b.x + dx, y: b.y + dy });
    for (const b of packed.boxes) out.boxes.push({ ...b, x1: b.x1 + dx, y1: b.y1 + dy, x2: b.x2 + dx, y2: b.y2 + dy });
    if (gid !== TOP) out.boxes.push({ id: gid, x1: dx, y1: dy, x2: dx + packed.w, y2: dy + packed.h });
    return out;
  };
  const top = pack(roots.map(block));
  for (const it of top.items) positions.set(it.id, { x: it.x, y: it.y });
  for (const b of top.bands) bands.push(b);
  for (const b of top.boxes) boxes.set(b.id, { x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 });
  return { positions, bands, boxes };
}

// bandsBlock lays out a group's own nodes: one band per layer, top to
// bottom in LAYERS order, each a grid as wide as the group's widest band
// allows, roughly twice as wide as high overall.
function bandsBlock(gid, leaves) {
  const out = { w: 0, h: 0, items: [], bands: [], boxes: [] };
  if (!leaves.length) return out;
  const byLayer = new Map();
  for (const d of leaves) {
    const l = d.layer || "";
    if (!byLayer.has(l)) byLayer.set(l, []);
    byLayer.get(l).push(d);
  }
  const layers = [...byLayer.keys()].sort((a, b) => layerRank(a) - layerRank(b) || a.localeCompare(b));
  const cols = Math.max(1, Math.ceil(Math.sqrt(leaves.length * 2)));
  let y = 0, width = 0;
  for (const l of layers) {
    const list = byLayer.get(l);
    out.bands.push({ id: "band:" + gid + "|" + l, parent: gid, layer: l || "no layer", x: 0, y: y + BAND_LABEL_H / 2 });
    y += BAND_LABEL_H;
    list.forEach((d, i) => {
      const col = i % cols, row = Math.floor(i / cols);
      out.items.push({ id: d.id, x: col * CELL_W + CELL_W / 2, y: y + row * CELL_H + CELL_H / 2 });
    });
    width = Math.max(width, Math.min(list.length, cols) * CELL_W);
    y += Math.ceil(list.length / cols) * CELL_H;
  }
  out.w = width;
  out.h = y;
  return out;
}

// pack places blocks in rows, left to right, wrapping at a width that
// makes the whole roughly square (at least the widest block), each row as
// high as its highest block.
function pack(blocks) {
  const out = { w: 0, h: 0, items: [], bands: [], boxes: [] };
  if (!blocks.length) return out;
  let area = 0, widest = 0;
  for (const b of blocks) {
    area += (b.w + GAP) * (b.h + GAP);
    widest = Math.max(widest, b.w);
  }
  const limit = Math.max(widest, Math.sqrt(area) * 1.4);
  let x = 0, y = 0, rowH = 0;
  for (const b of blocks) {
    if (x > 0 && x + b.w > limit) {
      x = 0;
      y += rowH + GAP;
      rowH = 0;
    }
    for (const it of b.items) out.items.push({ id: it.id, x: it.x + x, y: it.y + y });
    for (const bd of b.bands) out.bands.push({ ...bd, x: bd.x + x, y: bd.y + y });
    for (const bx of b.boxes) out.boxes.push({ ...bx, x1: bx.x1 + x, y1: bx.y1 + y, x2: bx.x2 + x, y2: bx.y2 + y });
    out.w = Math.max(out.w, x + b.w);
    out.h = Math.max(out.h, y + b.h);
    rowH = Math.max(rowH, b.h);
    x += b.w + GAP;
  }
  return out;
}

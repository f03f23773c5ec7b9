// layout.test.js: node --test web/src (make ui-test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildGraph } from "./model.js";
import { CELL_H, CELL_W, LAYERS, layerRank, layeredLayout } from "./layout.js";

const comp = (id, type, layer, extra = {}) =>
  ({ id, type, layer, name: id, account: "111", region: "eu-west-1", labels: [], identifiers: [], data: {}, ...extra });

// estate is two accounts, each with a VPC holding every layer, and
// components outside any VPC.
function estate() {
  const comps = [];
  for (const account of ["111", "222"]) {
    comps.push(comp(account + "-vpc", "aws.ec2.vpc", "Networking", { account }));
    LAYERS.concat([""]).forEach((layer, li) => {
      for (let i = 0; i < 3 + li * 2; i++) {
        comps.push(comp(`${account}-in-${li}-${i}`, "aws.x." + li, layer, { account, data: { VpcId: account + "-vpc" } }));
        comps.push(comp(`${account}-out-${li}-${i}`, "aws.y." + li, layer, { account }));
      }
    });
  }
  return comps;
}

test("layerRank orders the layers, unknown and none last", () => {
  assert.equal(layerRank("Networking"), 0);
  assert.ok(layerRank("Machines") < layerRank("Storage"));
  assert.equal(layerRank(""), LAYERS.length);
  assert.equal(layerRank("Quantum"), LAYERS.length);
});

test("within a group, layers are bands in order, top to bottom", () => {
  const g = buildGraph(estate(), []);
  const { positions } = layeredLayout(g.elements);
  const leaves = g.elements.filter((e) => e.data.kind === "component");
  assert.equal(positions.size, leaves.length);
  const byGroup = new Map();
  for (const e of leaves) {
    if (!byGroup.has(e.data.parent)) byGroup.set(e.data.parent, []);
    byGroup.get(e.data.parent).push(e.data);
  }
  assert.equal(byGroup.size, 4); // two regions, two VPCs
  for (const [group, list] of byGroup) {
    for (const a of list) {
      for (const b of list) {
        if (layerRank(a.layer) < layerRank(b.layer)) {
          assert.ok(positions.get(a.id).y < positions.get(b.id).y, `${group}: ${a.id} (${a.layer}) not above ${b.id} (${b.layer})`);
        }
      }
    }
  }
});

test("no two nodes overlap, nor do the boxes of groups that do not nest", () => {
  const g = buildGraph(estate(), []);
  const { positions, boxes, bands } = layeredLayout(g.elements);
  const pts = [...positions.entries()];
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const [a, p] = pts[i], [b, q] = pts[j];
      assert.ok(Math.abs(p.x - q.x) >= CELL_W || Math.abs(p.y - q.y) >= CELL_H, `${a} at ${p.x},${p.y} overlaps ${b} at ${q.x},${q.y}`);
    }
  }
  const parent = new Map(g.elements.filter((e) => e.group === "nodes").map((e) => [e.data.id, e.data.parent]));
  const nests = (a, b) => parent.get(a) === b || parent.get(b) === a;
  const list = [...boxes.entries()];
  assert.equal(list.length, 4);
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const [a, p] = list[i], [b, q] = list[j];
      if (nests(a, b)) continue;
      const apart = p.x2 <= q.x1 || q.x2 <= p.x1 || p.y2 <= q.y1 || q.y2 <= p.y1;
      assert.ok(apart, `group ${a} ${JSON.stringify(p)} overlaps ${b} ${JSON.stringify(q)}`);
    }
  }
  // every node lies in the box of its group
  for (const [id, p] of positions) {
    const b = boxes.get(parent.get(id));
    assert.ok(p.x > b.x1 && p.x < b.x2 && p.y > b.y1 && p.y < b.y2, `${id} outside its group`);
  }
  // one band label per layer present in each group
  assert.equal(bands.length, 4 * (LAYERS.length + 1));
  assert.equal(bands.filter((b) => b.layer === "no layer").length, 4);
});

test("aggregates are placed in the band of their members' layer", () => {
  const comps = [];
  for (let i = 0; i < 40; i++) {
    comps.push(comp("q-" + i, "aws.sqs.queue", "Messaging"));
    comps.push(comp("s-" + i, "aws.ec2.subnet", "Networking"));
  }
  const g = buildGraph(comps, [], { max: 10 });
  const { positions } = layeredLayout(g.elements);
  const aggs = g.elements.filter((e) => e.data.kind === "aggregate");
  assert.equal(aggs.length, 2);
  const y = (layer) => positions.get(aggs.find((e) => e.data.layer === layer).data.id).y;
  assert.ok(y("Networking") < y("Messaging"));
});

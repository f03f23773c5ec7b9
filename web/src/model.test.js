// model.test.js: node --test web/src (make ui-test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildGraph, eventsOf, matches, vpcOf, worse } from "./model.js";

const comp = (id, type, layer, extra = {}) =>
  ({ id, type, layer, name: id, account: "111", region: "eu-west-1", labels: [], identifiers: [], data: {}, ...extra });

test("vpcOf reads the VPC wherever the description keeps it", () => {
  assert.equal(vpcOf(comp("vpc-1", "aws.ec2.vpc", "Networking")), "vpc-1");
  assert.equal(vpcOf(comp("i-1", "aws.ec2.instance", "Machines", { data: { VpcId: "vpc-1" } })), "vpc-1");
  assert.equal(vpcOf(comp("lb", "aws.elb-classic.load-balancer", "Networking", { data: { VPCId: "vpc-2" } })), "vpc-2");
  assert.equal(vpcOf(comp("fn", "aws.lambda.function", "Serverless", { data: { VpcConfig: { VpcId: "vpc-3" } } })), "vpc-3");
  assert.equal(vpcOf(comp("db", "aws.rds.instance", "Databases", { data: { DBSubnetGroup: { VpcId: "vpc-4" } } })), "vpc-4");
  assert.equal(vpcOf(comp("igw", "aws.ec2.internet-gateway", "Networking", { data: { Attachments: [{ VpcId: "vpc-5" }] } })), "vpc-5");
  assert.equal(vpcOf(comp("q", "aws.sqs.queue", "Messaging", { data: null })), "");
});

test("worse orders health states", () => {
  assert.equal(worse("CLEAR", "CRITICAL"), "CRITICAL");
  assert.equal(worse("DEVIATING", "CLEAR"), "DEVIATING");
  assert.equal(worse("", "UNKNOWN"), "UNKNOWN");
});

test("matches searches names, ids, identifiers and labels", () => {
  const c = comp("i-1", "aws.ec2.instance", "Machines", { name: "web-1", identifiers: ["urn:host:/web-1.shop"], labels: ["team:<b>pay</b>"] });
  for (const q of ["WEB-1", "i-1", "ec2.instance", "shop", "<b>pay"]) assert.ok(matches(c, q), q);
  assert.ok(!matches(c, "db-1"));
});

test("groups follow account, region and VPC", () => {
  const comps = [
    comp("vpc-1", "aws.ec2.vpc", "Networking"),
    comp("i-1", "aws.ec2.instance", "Machines", { data: { VpcId: "vpc-1" } }),
    comp("fn", "aws.lambda.function", "Serverless"),
    comp("q", "aws.sqs.queue", "Messaging"),
  ];
  const rels = [{ source: "i-1", target: "vpc-1", type: "uses-service" }, { source: "fn", target: "q", type: "uses-service" }];
  const ids = (g) => g.elements.filter((e) => e.data.kind === "component").map((e) => e.data.id).sort();
  const all = buildGraph(comps, rels);
  assert.deepEqual(ids(all), ["fn", "i-1", "q", "vpc-1"]);
  const node = (id) => all.elements.find((e) => e.data.id === id);
  assert.equal(node("i-1").data.parent, "grp:111|eu-west-1|vpc-1");
  assert.equal(node("fn").data.parent, "grp:111|eu-west-1");
  assert.equal(all.elements.filter((e) => e.group === "edges").length, 2);
});

test("a search keeps the matches and their neighbours", () => {
  const comps = [comp("one", "aws.sqs.queue", "Messaging"), comp("two", "aws.sqs.queue", "Messaging"), comp("six", "aws.sqs.queue", "Messaging")];
  const g = buildGraph(comps, [{ source: "one", target: "two", type: "uses-service" }], { q: "one" });
  assert.deepEqual([...g.matched], ["one"]);
  assert.equal(g.shown, 2);
});

test("past max nodes, like components are aggregated, worst health first", () => {
  const comps = [];
  for (let i = 0; i < 30; i++) {
    comps.push(comp("fn-" + i, "aws.lambda.function", "Serverless", { health: i === 7 ? "CRITICAL" : "CLEAR" }));
    comps.push(comp("q-" + i, "aws.sqs.queue", "Messaging"));
  }
  const rels = comps.filter((c) => c.type === "aws.lambda.function").map((c) => ({ source: c.id, target: "q-" + c.id.slice(3), type: "uses-service" }));
  const g = buildGraph(comps, rels, { max: 10 });
  assert.equal(g.aggregated, "type");
  const aggs = g.elements.filter((e) => e.data.kind === "aggregate");
  assert.equal(aggs.length, 2);
  const fns = aggs.find((e) => e.data.label.startsWith("lambda.function"));
  assert.equal(fns.data.count, 30);
  assert.equal(fns.data.health, "CRITICAL");
  assert.equal(g.groups.get(fns.data.id).length, 30);
  const edges = g.elements.filter((e) => e.group === "edges");
  assert.equal(edges.length, 1);
  assert.equal(edges[0].data.count, 30);
});

test("an expanded aggregate is drawn as its members, the others stay aggregated", () => {
  const comps = [];
  for (let i = 0; i < 30; i++) {
    comps.push(comp("fn-" + i, "aws.lambda.function", "Serverless"));
    comps.push(comp("q-" + i, "aws.sqs.queue", "Messaging"));
  }
  const rels = [{ source: "fn-1", target: "q-1", type: "uses-service" }];
  const before = buildGraph(comps, rels, { max: 10 });
  const fns = before.elements.find((e) => e.data.kind === "aggregate" && e.data.label.startsWith("lambda.function"));
  const g = buildGraph(comps, rels, { max: 10, expand: new Set([fns.data.id]) });
  const kinds = (kind) => g.elements.filter((e) => e.data.kind === kind);
  assert.equal(kinds("component").length, 30);
  assert.ok(kinds("component").every((e) => e.data.parent === fns.data.parent && e.data.id.startsWith("fn-")));
  assert.deepEqual(kinds("aggregate").map((e) => e.data.label), ["sqs.queue ×30"]);
  assert.ok(!g.groups.has(fns.data.id));
  const edges = g.elements.filter((e) => e.group === "edges");
  assert.deepEqual(edges.map((e) => e.data.source), ["fn-1"]);
});

test("eventsOf keeps events and health changes, newest first, not scans", () => {
  const vs = [
    { seq: 1, time: "2026-11-22T10:00:00Z", change: "created", cause: "scan" },
    { seq: 2, time: "2026-11-22T10:05:00Z", change: "updated", cause: "event:ev-1 CreateTags", actor: "arn:aws:iam::1:user/ann",
      source_ip: "192.0.2.7", diff: { labels: { old: [], new: ["team:pay"] } } },
    { seq: 3, time: "2026-11-22T10:06:00Z", change: "updated", cause: "alarm", diff: { health: { old: "CLEAR", new: "CRITICAL" } } },
    { seq: 4, time: "2026-11-22T10:07:00Z", change: "updated", cause: "state", state: { health: "DEVIATING" } },
    { seq: 5, time: "2026-11-22T10:08:00Z", change: "deleted", cause: "event:ev-2" },
    { seq: 6, time: "2026-11-22T10:09:00Z", change: "updated", cause: "flowlogs" },
  ];
  const ev = eventsOf(vs);
  assert.deepEqual(ev.map((e) => e.seq), [5, 4, 3, 2]);
  assert.deepEqual([ev[3].kind, ev[3].id, ev[3].name, ev[3].actor, ev[3].sourceIP], ["event", "ev-1", "CreateTags", "arn:aws:iam::1:user/ann", "192.0.2.7"]);
  assert.deepEqual([ev[2].kind, ev[2].by, ev[2].health, ev[2].was], ["health", "alarm", "CRITICAL", "CLEAR"]);
  assert.equal(ev[1].health, "DEVIATING");
  assert.deepEqual([ev[0].id, ev[0].name], ["ev-2", ""]);
  assert.deepEqual(eventsOf(null), []);
});

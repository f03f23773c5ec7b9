// model.js turns the API's components and relations into what the graph
// draws: a view's components, grouped by account/region and VPC, and
// aggregated into one node per group of like components when there are
// more than the browser can lay out quickly. Pure functions, no DOM.

// MAX_NODES is the most component nodes handed to the graph; past it,
// components are aggregated.
export const MAX_NODES = 1500;

const HEALTH_RANK = { CLEAR: 1, UNKNOWN: 2, DEVIATING: 3, CRITICAL: 4 };

// worse returns the worse of two health states ("" is none).
export function worse(a, b) {
  return (HEALTH_RANK[b] || 0) > (HEALTH_RANK[a] || 0) ? b : a;
}

// vpcOf returns the VPC a component lives in, as its description says,
// or "".
export function vpcOf(c) {
  const d = c.data || {};
  if (c.type === "aws.ec2.vpc") return c.id;
  return d.VpcId || d.VPCId || (d.VpcConfig && d.VpcConfig.VpcId) ||
    (d.DBSubnetGroup && d.DBSubnetGroup.VpcId) ||
    (Array.isArray(d.Attachments) && d.Attachments[0] && d.Attachments[0].VpcId) ||
    (Array.isArray(d.VpcAttachments) && d.VpcAttachments[0] && d.VpcAttachments[0].VpcId) || "";
}

// shortType is the type without its aws. prefix.
export function shortType(t) {
  return t.startsWith("aws.") ? t.slice(4) : t;
}

// matches says whether c matches the search text q (name, id, type,
// identifiers or labels contain it, case-insensitive).
export function matches(c, q) {
  if (!q) return true;
  q = q.toLowerCase();
  const has = (s) => s && s.toLowerCase().includes(q);
  return has(c.name) || has(c.id) || has(c.type) ||
    (c.identifiers || []).some(has) || (c.labels || []).some(has);
}

// buildGraph returns the cytoscape elements of a view's components and
// relations, filtered by search q (the matches and their neighbours),
// with at most max component nodes: {elements, shown, total, aggregated,
// matched, groups}. groups maps an aggregate node's id to its member ids.
// The aggregates named in expand are drawn as their members instead, in
// the same group, the others staying aggregated.
export function buildGraph(components, relations, { q = "", max = MAX_NODES, expand = new Set() } = {}) {
  let comps = components;
  const total = comps.length;
  const byId = new Map(comps.map((c) => [c.id, c]));
  let rels = relations.filter((r) => byId.has(r.source) && byId.has(r.target) && r.source !== r.target);
  const matched = new Set();
  if (q) {
    for (const c of comps) if (matches(c, q)) matched.add(c.id);
    const keep = new Set(matched);
    for (const r of rels) {
      if (matched.has(r.source)) keep.add(r.target);
      if (matched.has(r.target)) keep.add(r.source);
    }
    comps = comps.filter((c) => keep.has(c.id));
    rels = rels.filter((r) => keep.has(r.source) && keep.has(r.target));
  }

  // Node of each component: itself, or its aggregate.
  const nodeOf = new Map();
  const groups = new Map();
  let aggregated = "";
  if (comps.length > max) {
    const keys = [
      ["type", (c) => [c.account, c.region, vpcOf(c), c.type]],
      ["layer", (c) => [c.account, c.region, vpcOf(c), c.layer]],
      ["region layer", (c) => [c.account, c.region, "", c.layer]],
    ];
    for (const [how, key] of keys) {
      groups.clear();
      for (const c of comps) {
        const k = key(c);
        const id = "agg:" + k.join("|");
        if (!groups.has(id)) groups.set(id, { key: k, members: [] });
        groups.get(id).members.push(c);
      }
      aggregated = how;
      if (groups.size <= max) break;
    }
  }

  const elements = [];
  const parents = new Map();
  const parentOf = (account, region, vpc) => {
    const ar = "grp:" + account + "|" + region;
    if (!parents.has(ar)) {
      parents.set(ar, true);
      elements.push({ group: "nodes", data: { id: ar, label: account + " / " + region, kind: "region" } });
    }
    if (!vpc) return ar;
    const vid = "grp:" + account + "|" + region + "|" + vpc;
    if (!parents.has(vid)) {
      parents.set(vid, true);
      const vc = byId.get(vpc);
      const name = vc && vc.name && vc.name !== vpc ? vc.name + " (" + vpc + ")" : vpc;
      elements.push({ group: "nodes", data: { id: vid, parent: ar, label: "VPC " + name, kind: "vpc" } });
    }
    return vid;
  };

  const members = new Map();
  if (aggregated) {
    for (const [id, g] of groups) {
      const [account, region, vpc] = g.key;
      if (g.members.length === 1 || expand.has(id)) {
        for (const c of g.members) {
          nodeOf.set(c.id, c.id);
          elements.push(componentNode(c, parentOf(account, region, vpc), matched));
        }
        continue;
      }
      let health = "";
      for (const c of g.members) {
        nodeOf.set(c.id, id);
        health = worse(health, c.health || "");
      }
      members.set(id, g.members.map((c) => c.id));
      const what = aggregated === "type" ? shortType(g.key[3]) : g.key[3];
      elements.push({
        group: "nodes",
        // Members share their layer: aggregates are by type or by layer.
        data: { id, parent: parentOf(account, region, vpc), label: what + " ×" + g.members.length,
          kind: "aggregate", health, count: g.members.length, layer: g.members[0].layer },
      });
    }
  } else {
    for (const c of comps) {
      nodeOf.set(c.id, c.id);
      elements.push(componentNode(c, parentOf(c.account, c.region, vpcOf(c)), matched));
    }
  }

  const edges = new Map();
  for (const r of rels) {
    const s = nodeOf.get(r.source), t = nodeOf.get(r.target);
    if (!s || !t || s === t) continue;
    const id = "rel:" + s + "|" + t + "|" + r.type;
    const e = edges.get(id);
    if (e) e.data.count++;
    else edges.set(id, { group: "edges", data: { id, source: s, target: t, type: r.type, count: 1 } });
  }
  for (const e of edges.values()) elements.push(e);
  return { elements, shown: comps.length, total, aggregated, matched, groups: members, nodes: nodeOf.size && new Set(nodeOf.values()).size };
}

function componentNode(c, parent, matched) {
  return {
    group: "nodes",
    data: { id: c.id, parent, label: clip(c.name || c.id), kind: "component", type: c.type,
      health: c.health || "", layer: c.layer },
    classes: matched.has(c.id) ? "match" : "",
  };
}

// clip shortens a label, which the graph measures and draws for every node.
function clip(s) {
  return s.length > 24 ? s.slice(0, 23) + "…" : s;
}

// eventsOf picks, from a component's history (versions oldest first), what
// happened to it besides scans, newest first: the CloudTrail/EventBridge
// events that changed it (cause "event:<id> <EventName>") and its health
// changes (cause "alarm" or "state", with the new health).
export function eventsOf(versions) {
  const out = [];
  for (const v of versions || []) {
    const cause = v.cause || "";
    if (cause.startsWith("event:")) {
      const rest = cause.slice("event:".length);
      const sp = rest.indexOf(" ");
      out.push({ kind: "event", time: v.time, seq: v.seq, change: v.change, diff: v.diff,
        id: sp < 0 ? rest : rest.slice(0, sp), name: sp < 0 ? "" : rest.slice(sp + 1),
        actor: v.actor || "", sourceIP: v.source_ip || "" });
    } else if (cause === "alarm" || cause === "state") {
      const d = v.diff && v.diff.health;
      const health = (d && typeof d === "object" && d.new) || (v.state && v.state.health) || "";
      out.push({ kind: "health", time: v.time, seq: v.seq, change: v.change, diff: v.diff, by: cause, health,
        was: (d && typeof d === "object" && d.old) || "" });
    }
  }
  return out.reverse();
}

// statusmodel.js derives what the status page shows from /api/status's
// call rows: pure functions, tested with node (statusmodel.test.js).

// blocked is the API call a denied call row stands for: the operation the
// SDK's error names ("operation error EC2: DescribeInstances"), else the
// IAM action's own (the action and the API share their name).
export function blocked(c) {
  const m = /operation error ([^:]+): (\w+)/.exec(c.detail || "");
  if (m) return m[1] + " " + m[2];
  const [service, op] = (c.api || "").split(":");
  return op ? service + " " + op : c.api;
}

// deniedActions are the IAM actions denied to account, sorted, each with
// the regions it was denied in and the calls it blocks.
export function deniedActions(account, calls) {
  const by = new Map();
  for (const c of calls) {
    if (c.account !== account || c.outcome !== "denied") continue;
    if (!by.has(c.api)) by.set(c.api, { action: c.api, regions: new Set(), blocks: new Set() });
    by.get(c.api).regions.add(c.region);
    by.get(c.api).blocks.add(blocked(c));
  }
  return [...by.values()].sort((a, b) => a.action.localeCompare(b.action))
    .map((d) => ({ action: d.action, regions: [...d.regions].sort(), blocks: [...d.blocks].sort() }));
}

// regionStates summarise calls per account and region, sorted: how many
// APIs answered, were denied or failed, and the state that makes: failed
// when none answered, partially connected when some did not.
export function regionStates(calls) {
  const by = new Map();
  for (const c of calls) {
    const k = c.account + "\u0000" + c.region;
    if (!by.has(k)) by.set(k, { account: c.account, region: c.region, ok: 0, denied: 0, failed: 0 });
    const r = by.get(k);
    if (c.outcome === "ok") r.ok++;
    else if (c.outcome === "denied") r.denied++;
    else r.failed++;
  }
  const rows = [...by.values()].sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
  for (const r of rows) r.state = r.ok === 0 && (r.denied || r.failed) ? "failed" : r.denied || r.failed ? "partially connected" : "connected";
  return rows;
}

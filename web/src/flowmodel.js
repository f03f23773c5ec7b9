// flowmodel.js turns the flows API's answers into what the flows explorer
// draws: the chart's aligned series and the table's rows, seen from the
// scope. Pure functions, no DOM.

// RANGES are the explorer's preset time ranges, in hours.
export const RANGES = { "1h": 1, "6h": 6, "24h": 24 };

// MAX_POINTS is the most steps the chart asks for.
const MAX_POINTS = 300;

// stepFor returns the step, in whole minutes, that cuts a range of ms
// milliseconds into at most MAX_POINTS steps.
export function stepFor(ms) {
  return Math.max(1, Math.ceil(ms / 60e3 / MAX_POINTS));
}

// series aligns the API's traffic points (all traffic) and rejected ones
// (action=REJECT) on every step of [from, to) (Dates; steps of stepMin
// minutes, aligned on the epoch as the API aligns them), zero where no
// traffic was seen: [times (s), bytes in, bytes out, rejected bytes].
export function series(points, rejected, from, to, stepMin) {
  const step = stepMin * 60;
  const first = Math.floor(from.getTime() / 1000 / step) * step;
  const last = to.getTime() / 1000;
  const xs = [];
  const index = new Map();
  for (let t = first; t < last; t += step) {
    index.set(t, xs.length);
    xs.push(t);
  }
  const ins = xs.map(() => 0), outs = xs.map(() => 0), rej = xs.map(() => 0);
  for (const p of points || []) {
    const i = index.get(Date.parse(p.time) / 1000);
    if (i === undefined) continue;
    ins[i] += p.bytes_in;
    outs[i] += p.bytes_out;
  }
  for (const p of rejected || []) {
    const i = index.get(Date.parse(p.time) / 1000);
    if (i === undefined) continue;
    rej[i] += p.bytes_in + p.bytes_out;
  }
  return [xs, ins, outs, rej];
}

// PROTOCOLS names the IANA protocol numbers the flows API names.
const PROTOCOLS = { 1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6" };

// protoName is protocol number n's name, or the number.
export function protoName(n) {
  return PROTOCOLS[n] || String(n);
}

// rows turns conversations into the table's rows, seen from component
// (an id; "" for a VPC or the estate, where the client is local): local
// and remote endpoint, port (the server's), direction, bytes and packets
// in and out of the local end, records accepted and rejected.
export function rows(conversations, component) {
  return (conversations || []).map((c) => {
    const inbound = component ? c.server === component : false;
    const r = {
      local: inbound ? c.server : c.client,
      remote: inbound ? c.client : c.server,
      port: c.server_port,
      portSide: component ? (inbound ? "local" : "remote") : "server",
      protocol: protoName(c.protocol),
      direction: component ? (inbound ? "inbound" : "outbound") : "",
      bytesIn: inbound ? c.bytes_to_server : c.bytes_to_client,
      bytesOut: inbound ? c.bytes_to_client : c.bytes_to_server,
      packetsIn: inbound ? c.packets_to_server : c.packets_to_client,
      packetsOut: inbound ? c.packets_to_client : c.packets_to_server,
      accepted: c.accepted_records,
      rejected: c.rejected_records,
      firstSeen: c.first_seen,
      lastSeen: c.last_seen,
    };
    r.action = r.rejected && !r.accepted ? "REJECT" : r.rejected ? "both" : "ACCEPT";
    return r;
  });
}

// SORTS are the table's sort keys.
export const SORTS = {
  total: (r) => r.bytesIn + r.bytesOut,
  in: (r) => r.bytesIn,
  out: (r) => r.bytesOut,
};

// sortRows returns rs sorted by key (a key of SORTS), biggest first.
export function sortRows(rs, key) {
  const f = SORTS[key] || SORTS.total;
  return rs.slice().sort((a, b) => f(b) - f(a));
}

// hostAddr is the address of an urn:host:/<ip> endpoint (one skymap does
// not know as a component), or "".
export function hostAddr(id) {
  const m = /^urn:host:\/([0-9a-fA-F.:]+)$/.exec(id || "");
  return m ? m[1] : "";
}

// vpcCIDR is the VPC component c's primary IPv4 CIDR block, or "".
export function vpcCIDR(c) {
  const d = (c && c.data) || {};
  return d.CidrBlock || "";
}

// fmtBytes formats n bytes: 1.5 kB, 20 MB.
export function fmtBytes(n) {
  if (!n) return "0 B";
  for (const [d, unit] of [[1e12, "TB"], [1e9, "GB"], [1e6, "MB"], [1e3, "kB"]]) {
    if (n >= d) return +(n / d).toFixed(1) + " " + unit;
  }
  return n + " B";
}

// flowmodel.test.js: node --test web/src (make ui-test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { fmtBytes, hostAddr, rows, series, sortRows, stepFor } from "./flowmodel.js";

test("stepFor keeps the chart under 300 whole-minute steps", () => {
  assert.equal(stepFor(3600e3), 1);
  assert.equal(stepFor(6 * 3600e3), 2);
  assert.equal(stepFor(24 * 3600e3), 5);
  assert.equal(stepFor(1), 1);
});

test("series aligns points on every step, zero where none", () => {
  const from = new Date("2026-12-07T10:00:30Z"), to = new Date("2026-12-07T10:03:30Z");
  const [xs, ins, outs, rej] = series(
    [{ time: "2026-12-07T10:01:00Z", bytes_in: 10, bytes_out: 20 }, { time: "2026-12-07T09:00:00Z", bytes_in: 1, bytes_out: 1 }],
    [{ time: "2026-12-07T10:02:00Z", bytes_in: 3, bytes_out: 4 }], from, to, 1);
  assert.deepEqual(xs.map((x) => new Date(x * 1000).toISOString().slice(11, 16)), ["10:00", "10:01", "10:02", "10:03"]);
  assert.deepEqual(ins, [0, 10, 0, 0]);
  assert.deepEqual(outs, [0, 20, 0, 0]);
  assert.deepEqual(rej, [0, 0, 7, 0]);
});

const conv = (client, server, port, extra = {}) => ({ client, server, server_port: port, protocol: 6,
  bytes_to_server: 100, bytes_to_client: 1000, packets_to_server: 1, packets_to_client: 2,
  accepted_records: 2, rejected_records: 0, ...extra });

test("rows are seen from the component: inbound where it serves", () => {
  const [a, b] = rows([conv("urn:host:/1.2.3.4", "i-web", 443), conv("i-web", "i-app", 8080, { protocol: 17 })], "i-web");
  assert.deepEqual([a.local, a.remote, a.direction, a.port, a.portSide, a.bytesIn, a.bytesOut, a.packetsIn, a.action],
    ["i-web", "urn:host:/1.2.3.4", "inbound", 443, "local", 100, 1000, 1, "ACCEPT"]);
  assert.deepEqual([b.local, b.remote, b.direction, b.portSide, b.protocol, b.bytesIn, b.bytesOut],
    ["i-web", "i-app", "outbound", "remote", "udp", 1000, 100]);
});

test("rows without a component: the client is local; rejected marked", () => {
  const [r] = rows([conv("urn:host:/5.6.7.8", "i-web", 22, { accepted_records: 0, rejected_records: 3, bytes_to_client: 0 })], "");
  assert.deepEqual([r.local, r.remote, r.direction, r.portSide, r.bytesOut, r.action], ["urn:host:/5.6.7.8", "i-web", "", "server", 100, "REJECT"]);
});

test("sortRows sorts biggest first by the key", () => {
  const rs = rows([conv("a", "b", 1, { bytes_to_server: 5, bytes_to_client: 1 }), conv("c", "d", 2, { bytes_to_server: 1, bytes_to_client: 9 })], "");
  assert.deepEqual(sortRows(rs, "out").map((r) => r.local), ["a", "c"]);
  assert.deepEqual(sortRows(rs, "in").map((r) => r.local), ["c", "a"]);
  assert.deepEqual(sortRows(rs, "total").map((r) => r.local), ["c", "a"]);
});

test("hostAddr and fmtBytes", () => {
  assert.equal(hostAddr("urn:host:/198.51.100.7"), "198.51.100.7");
  assert.equal(hostAddr("urn:host:/web-1.shop.example.com"), "");
  assert.equal(hostAddr("i-123"), "");
  assert.equal(fmtBytes(0), "0 B");
  assert.equal(fmtBytes(999), "999 B");
  assert.equal(fmtBytes(1500), "1.5 kB");
  assert.equal(fmtBytes(20e6), "20 MB");
});

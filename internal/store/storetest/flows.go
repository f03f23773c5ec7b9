// Package storetest holds the conformance tests every backend of a store
// contract runs: Flows for store.Flows, Topology for store.Topology, State
// for store.State and Views for store.Views.
package storetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// DefaultHeader is the header line of flow logs in AWS's default format.
const DefaultHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// t0 is the minute the test traffic starts (2026-11-22T10:00:00Z).
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// Flows runs the conformance tests of store.Flows; open returns an empty
// store that the test may use until it ends.
func Flows(t *testing.T, open func(t *testing.T) store.Flows) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, func(t *testing.T) store.Flows)
	}{
		{"CommitOnce", testCommitOnce},
		{"Conversations", testFlowConversations},
		{"Traffic", testFlowTraffic},
		{"QueryErrors", testFlowQueryErrors},
		{"SQL", testFlowSQL},
		{"SQLRefusals", testSQLRefusals},
		{"Prune", testPrune},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open) })
	}
}

// GzipText is a gzip flow-log body of lines.
func GzipText(t testing.TB, lines ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for _, l := range lines {
		fmt.Fprintln(zw, l)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TextObject is a default-format object of the given records, starting at
// 2026-11-22T10:00:00Z.
func TextObject(t testing.TB, key string, records ...string) *store.FlowObject {
	return &store.FlowObject{
		Bucket: "logs", Key: key, ETag: "e1", Account: "123456789012", Region: "eu-west-1",
		Body: GzipText(t, append([]string{DefaultHeader}, records...)...), Format: DefaultHeader,
		Start: t0, End: t0.Add(time.Minute), Records: int64(len(records)),
	}
}

// rows runs q and returns its rows as JSON would carry them (numbers as
// float64), so that backends may differ in integer types.
func rows(t *testing.T, d store.Flows, q string) [][]any {
	t.Helper()
	res, err := d.FlowSQL(context.Background(), q, 0)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	b, err := json.Marshal(res.Rows)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func testCommitOnce(t *testing.T, open func(t *testing.T) store.Flows) {
	d := open(t)
	ctx := context.Background()
	o := TextObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(Rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	if done, err := d.FlowObjectDone(ctx, "logs", "k1", "e1"); err != nil || done {
		t.Fatalf("done before commit: %v %v", done, err)
	}
	for range 2 {
		if err := d.CommitFlowObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if done, err := d.FlowObjectDone(ctx, "logs", "k1", "e1"); err != nil || !done {
		t.Fatalf("done after commit: %v %v", done, err)
	}
	if done, _ := d.FlowObjectDone(ctx, "logs", "k1", "e2"); done {
		t.Error("another etag is done")
	}
	got := rows(t, d, `SELECT (SELECT count(*) FROM vpc_flow_logs), (SELECT sum(bytes_to_server) FROM flow_rollups)`)
	if diff := cmp.Diff([][]any{{1.0, 1000.0}}, got); diff != "" {
		t.Errorf("after two commits (-want +got):\n%s", diff)
	}
}

func testFlowSQL(t *testing.T, open func(t *testing.T) store.Flows) {
	d := open(t)
	ctx := context.Background()
	if got := rows(t, d, `SELECT count(*) FROM vpc_flow_logs`); got[0][0] != 0.0 {
		t.Errorf("empty archive: %v", got)
	}
	a := TextObject(t, "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/a.log.gz",
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK",
		"2 123456789012 eni-1 - - - - - - - 1795341600 1795341660 - NODATA",
		"2 123456789012 eni-1 10.0.0.9 10.0.0.2 40001 22 6 1 40 1795341600 1795341660 REJECT OK")
	v5 := DefaultHeader + " flow-direction pkt-dst-aws-service"
	b := &store.FlowObject{Bucket: "logs", Key: "../../etc/b.log.gz", ETag: "e2", Account: "210987654321", Region: "us-east-1",
		Body:   GzipText(t, v5, "5 210987654321 eni-2 10.1.0.1 52.94.0.1 50000 443 6 5 500 1795341600 1795341660 ACCEPT OK egress S3"),
		Format: v5, Start: t0.Add(2 * time.Hour), End: t0.Add(2*time.Hour + time.Minute), Records: 1}
	for _, o := range []*store.FlowObject{a, b} {
		if err := d.CommitFlowObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	got := rows(t, d, `SELECT account_id, interface_id, srcaddr, dstport, bytes, action, log_status, flow_direction, pkt_dst_aws_service, "end", vpc_id
		FROM vpc_flow_logs ORDER BY account_id, bytes NULLS FIRST`)
	want := [][]any{
		{"123456789012", "eni-1", nil, nil, nil, nil, "NODATA", nil, nil, 1795341660.0, nil},
		{"123456789012", "eni-1", "10.0.0.9", 22.0, 40.0, "REJECT", "OK", nil, nil, 1795341660.0, nil},
		{"123456789012", "eni-1", "10.0.0.1", 443.0, 1000.0, "ACCEPT", "OK", nil, nil, 1795341660.0, nil},
		{"210987654321", "eni-2", "10.1.0.1", 443.0, 500.0, "ACCEPT", "OK", "egress", "S3", 1795341660.0, nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	res, err := d.FlowSQL(ctx, `SELECT srcaddr FROM vpc_flow_logs ORDER BY bytes DESC NULLS LAST`, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]any{{"10.0.0.1"}, {"10.1.0.1"}}, res.Rows); diff != "" || !res.Truncated || len(res.Columns) != 1 {
		t.Errorf("max rows: truncated %v, columns %v, rows (-want +got):\n%s", res.Truncated, res.Columns, diff)
	}
}

func testSQLRefusals(t *testing.T, open func(t *testing.T) store.Flows) {
	d := open(t)
	ctx := context.Background()
	o := TextObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(Rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	if err := d.CommitFlowObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT * FROM read_csv('/etc/passwd')`,
		`SELECT * FROM '/etc/passwd'`,
		`DELETE FROM flow_rollups`,
		`DROP TABLE flow_rollups`,
		`UPDATE flow_rollups SET bytes_to_server = 0`,
		`INSERT INTO flow_rollups SELECT * FROM flow_rollups`,
		`SELECT 1; DELETE FROM flow_rollups`,
		`SELECT 1; SELECT 2`,
		`SELECT no_such_column FROM flow_rollups`,
		`SELEC 1`,
		``,
	} {
		if _, err := d.FlowSQL(ctx, q, 10); !errors.Is(err, store.ErrBadQuery) {
			t.Errorf("%q: got %v, want ErrBadQuery", q, err)
		}
	}
	got := rows(t, d, `SELECT (SELECT count(*) FROM flow_rollups), (SELECT count(*) FROM vpc_flow_logs)`)
	if diff := cmp.Diff([][]any{{1.0, 1.0}}, got); diff != "" {
		t.Errorf("after refusals (-want +got):\n%s", diff)
	}
}

func testPrune(t *testing.T, open func(t *testing.T) store.Flows) {
	d := open(t)
	ctx := context.Background()
	old := TextObject(t, "old", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	old.Rollups = model.NewFlowRollups(Rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	v3 := DefaultHeader + " vpc-id"
	recent := &store.FlowObject{Bucket: "logs", Key: "new", ETag: "e", Body: GzipText(t, v3,
		"3 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 7 1795345200 1795345260 ACCEPT OK vpc-1"),
		Format: v3, Start: t0.Add(time.Hour), End: t0.Add(time.Hour + time.Minute)}
	recent.Rollups = model.NewFlowRollups(at(Rollup("i-a", "i-b", 443, model.FlowServer, true, 7, 1), 60))
	for _, o := range []*store.FlowObject{old, recent} {
		if err := d.CommitFlowObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.PruneFlows(ctx, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, d, `SELECT (SELECT count(*) FROM vpc_flow_logs), (SELECT count(*) FROM flow_rollups)`); got[0][0] != 2.0 || got[0][1] != 2.0 {
		t.Errorf("zero times pruned: %v", got)
	}
	if err := d.PruneFlows(ctx, t0.Add(30*time.Minute), t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// One query per table, not list() or groupArray(): the SQL is the
	// part all backends share.
	got := append(rows(t, d, `SELECT bytes, vpc_id FROM vpc_flow_logs`), rows(t, d, `SELECT bytes_to_server, NULL FROM flow_rollups`)...)
	if diff := cmp.Diff([][]any{{7.0, "vpc-1"}, {7.0, nil}}, got); diff != "" {
		t.Errorf("after prune (-want +got):\n%s", diff)
	}
	if done, _ := d.FlowObjectDone(ctx, "logs", "old", "e1"); done {
		t.Error("pruned object still done")
	}
	if done, _ := d.FlowObjectDone(ctx, "logs", "new", "e"); !done {
		t.Error("kept object not done")
	}
	if err := d.PruneFlows(ctx, t0.Add(24*time.Hour), t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, d, `SELECT (SELECT count(*) FROM vpc_flow_logs), (SELECT count(*) FROM flow_rollups)`); got[0][0] != 0.0 || got[0][1] != 0.0 {
		t.Errorf("after pruning all: %v", got)
	}
}

var addrs = map[string]netip.Addr{
	"i-a": netip.MustParseAddr("10.0.0.1"), "i-b": netip.MustParseAddr("10.0.0.2"),
	"i-c": netip.MustParseAddr("10.1.0.3"), "db": netip.MustParseAddr("2001:db8::5"),
	"urn:host:/203.0.113.9": netip.MustParseAddr("203.0.113.9"),
}

// Rollup is a minute at t0 of client talking to server; bytes and packets
// back are half and a tenth of those to the server.
func Rollup(client, server string, port uint16, side model.FlowSide, accepted bool, bytes, records uint64) model.FlowRollup {
	iface := "eni-" + client
	if side == model.FlowServer {
		iface = "eni-" + server
	}
	return model.FlowRollup{Minute: t0, Account: "123456789012", Region: "eu-west-1", Interface: iface, Reporter: side,
		Client: client, Server: server, ClientAddr: addrs[client], ServerAddr: addrs[server], ServerPort: port, Protocol: 6,
		Accepted: accepted, BytesToServer: bytes, BytesToClient: bytes / 2, PacketsToServer: bytes / 10, PacketsToClient: bytes / 20,
		Records: records}
}

func at(r model.FlowRollup, minutes int) model.FlowRollup {
	r.Minute = t0.Add(time.Duration(minutes) * time.Minute)
	return r
}

// trafficDB holds: i-a -> i-b:443 seen by both sides at minute 0 (server
// figures 1000, client 990), by the client only at minute 1 (300); i-c ->
// i-b:22 rejected by the server at minute 0; an internet host ->
// db:5432 (IPv6) at minute 5 from the server side, UDP i-a -> i-c:53.
func trafficFlows(t *testing.T, open func(t *testing.T) store.Flows) store.Flows {
	d := open(t)
	udp := Rollup("i-a", "i-c", 53, model.FlowClient, true, 60, 2)
	udp.Protocol = 17
	o := &store.FlowObject{Bucket: "logs", Key: "k", ETag: "e", Body: GzipText(t, DefaultHeader), Format: DefaultHeader, Start: t0, End: t0,
		Rollups: model.NewFlowRollups(
			Rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 4),
			Rollup("i-a", "i-b", 443, model.FlowClient, true, 990, 4),
			at(Rollup("i-a", "i-b", 443, model.FlowClient, true, 300, 1), 1),
			Rollup("i-c", "i-b", 22, model.FlowServer, false, 40, 1),
			Rollup("i-c", "i-b", 22, model.FlowClient, true, 40, 1),
			at(Rollup("urn:host:/203.0.113.9", "db", 5432, model.FlowServer, true, 5000, 3), 5),
			udp,
		)}
	if err := d.CommitFlowObject(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return d
}

func testFlowConversations(t *testing.T, open func(t *testing.T) store.Flows) {
	d := trafficFlows(t, open)
	conv := func(client, server string, port uint16, proto uint8, bts, btc, pts, ptc, acc, rej uint64, first, last int) store.FlowConversation {
		return store.FlowConversation{Client: client, Server: server, ServerPort: port, Protocol: proto,
			BytesToServer: bts, BytesToClient: btc, PacketsToServer: pts, PacketsToClient: ptc, Accepted: acc, Rejected: rej,
			FirstSeen: t0.Add(time.Duration(first) * time.Minute), LastSeen: t0.Add(time.Duration(last) * time.Minute),
			Account: "123456789012", Region: "eu-west-1"}
	}
	ab := conv("i-a", "i-b", 443, 6, 1300, 650, 130, 65, 5, 0, 0, 1)
	host := conv("urn:host:/203.0.113.9", "db", 5432, 6, 5000, 2500, 500, 250, 3, 0, 5, 5)
	cb := conv("i-c", "i-b", 22, 6, 40, 20, 4, 2, 0, 1, 0, 0)
	dns := conv("i-a", "i-c", 53, 17, 60, 30, 6, 3, 2, 0, 0, 0)
	for _, tc := range []struct {
		name string
		q    store.FlowQuery
		want []store.FlowConversation
	}{
		{"all, biggest first, server side wins", store.FlowQuery{}, []store.FlowConversation{host, ab, dns, cb}},
		{"limit", store.FlowQuery{Limit: 2}, []store.FlowConversation{host, ab}},
		{"rejected: the server's REJECT, not the client's ACCEPT", store.FlowQuery{Action: "REJECT"}, []store.FlowConversation{cb}},
		{"accepted", store.FlowQuery{Action: "ACCEPT"}, []store.FlowConversation{host, ab, dns}},
		{"component", store.FlowQuery{Component: "i-b"}, []store.FlowConversation{ab, cb}},
		{"inbound of i-c", store.FlowQuery{Component: "i-c", Direction: "inbound"}, []store.FlowConversation{dns}},
		{"outbound of i-c", store.FlowQuery{Component: "i-c", Direction: "outbound"}, []store.FlowConversation{cb}},
		{"local port", store.FlowQuery{Component: "i-b", LocalPort: 22}, []store.FlowConversation{cb}},
		{"remote port", store.FlowQuery{Component: "i-a", RemotePort: 53}, []store.FlowConversation{dns}},
		{"remote port of a server: none", store.FlowQuery{Component: "i-b", RemotePort: 443}, []store.FlowConversation{}},
		{"port", store.FlowQuery{Port: 5432}, []store.FlowConversation{host}},
		{"protocol", store.FlowQuery{Protocol: 17}, []store.FlowConversation{dns}},
		{"account", store.FlowQuery{Account: "123456789012", Port: 443}, []store.FlowConversation{ab}},
		{"another account", store.FlowQuery{Account: "111111111111"}, []store.FlowConversation{}},
		{"IPv4 prefix", store.FlowQuery{Addr: netip.MustParsePrefix("10.1.0.0/16")}, []store.FlowConversation{dns, cb}},
		{"single address", store.FlowQuery{Addr: netip.MustParsePrefix("10.0.0.2/32")}, []store.FlowConversation{ab, cb}},
		{"IPv6 prefix", store.FlowQuery{Addr: netip.MustParsePrefix("2001:db8::/32")}, []store.FlowConversation{host}},
		{"public address", store.FlowQuery{Addr: netip.MustParsePrefix("203.0.113.0/24")}, []store.FlowConversation{host}},
		{"window", store.FlowQuery{From: t0.Add(time.Minute), To: t0.Add(5 * time.Minute)},
			[]store.FlowConversation{conv("i-a", "i-b", 443, 6, 300, 150, 30, 15, 1, 0, 1, 1)}},
		{"window end excluded", store.FlowQuery{From: t0.Add(2 * time.Minute), To: t0.Add(5 * time.Minute)}, []store.FlowConversation{}},
		{"SQL in a filter is a value", store.FlowQuery{Component: "x' OR 1=1 --"}, []store.FlowConversation{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.FlowConversations(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func testFlowTraffic(t *testing.T, open func(t *testing.T) store.Flows) {
	d := trafficFlows(t, open)
	pt := func(minute int, in, out, pin, pout, acc, rej uint64) store.FlowPoint {
		return store.FlowPoint{Time: t0.Add(time.Duration(minute) * time.Minute), BytesIn: in, BytesOut: out,
			PacketsIn: pin, PacketsOut: pout, Accepted: acc, Rejected: rej}
	}
	for _, tc := range []struct {
		name string
		q    store.FlowQuery
		want []store.FlowPoint
	}{
		{"i-b per minute: server of both", store.FlowQuery{Component: "i-b"},
			[]store.FlowPoint{pt(0, 1040, 520, 104, 52, 4, 1), pt(1, 300, 150, 30, 15, 1, 0)}},
		{"i-a per minute: client", store.FlowQuery{Component: "i-a"},
			[]store.FlowPoint{pt(0, 530, 1060, 53, 106, 6, 0), pt(1, 150, 300, 15, 30, 1, 0)}},
		{"estate, 5 minute steps", store.FlowQuery{Step: 5 * time.Minute},
			[]store.FlowPoint{pt(0, 650+20+30, 1300+40+60, 65+2+3, 130+4+6, 7, 1), pt(5, 2500, 5000, 250, 500, 3, 0)}},
		{"i-b accepted only", store.FlowQuery{Component: "i-b", Action: "ACCEPT", From: t0, To: t0.Add(time.Minute)},
			[]store.FlowPoint{pt(0, 1000, 500, 100, 50, 4, 0)}},
		{"nothing", store.FlowQuery{Component: "nope"}, []store.FlowPoint{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.FlowTraffic(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func testFlowQueryErrors(t *testing.T, open func(t *testing.T) store.Flows) {
	d := trafficFlows(t, open)
	for _, q := range []store.FlowQuery{
		{Direction: "inbound"},
		{Component: "i-a", Direction: "sideways"},
		{Action: "DROP"},
		{LocalPort: 22},
		{RemotePort: 22},
		{Step: 90 * time.Second},
	} {
		_, err := d.FlowTraffic(context.Background(), q)
		if !errors.Is(err, store.ErrBadQuery) {
			t.Errorf("%+v: got %v, want ErrBadQuery", q, err)
		}
	}
}

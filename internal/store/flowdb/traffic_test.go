package flowdb

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

var addrs = map[string]netip.Addr{
	"i-a": netip.MustParseAddr("10.0.0.1"), "i-b": netip.MustParseAddr("10.0.0.2"),
	"i-c": netip.MustParseAddr("10.1.0.3"), "db": netip.MustParseAddr("2001:db8::5"),
	"urn:host:/203.0.113.9": netip.MustParseAddr("203.0.113.9"),
}

// rollup is a minute at t0 of client talking to server; bytes and packets
// back are half and a tenth of those to the server.
func rollup(client, server string, port uint16, side model.FlowSide, accepted bool, bytes, records uint64) model.FlowRollup {
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
func trafficDB(t *testing.T) *DB {
	d := open(t, t.TempDir(), Options{})
	udp := rollup("i-a", "i-c", 53, model.FlowClient, true, 60, 2)
	udp.Protocol = 17
	o := &store.FlowObject{Bucket: "logs", Key: "k", ETag: "e", Body: gz(t, defaultHeader), Format: defaultHeader, Start: t0, End: t0,
		Rollups: []model.FlowRollup{
			rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 4),
			rollup("i-a", "i-b", 443, model.FlowClient, true, 990, 4),
			at(rollup("i-a", "i-b", 443, model.FlowClient, true, 300, 1), 1),
			rollup("i-c", "i-b", 22, model.FlowServer, false, 40, 1),
			rollup("i-c", "i-b", 22, model.FlowClient, true, 40, 1),
			at(rollup("urn:host:/203.0.113.9", "db", 5432, model.FlowServer, true, 5000, 3), 5),
			udp,
		}}
	if err := d.CommitFlowObject(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFlowConversations(t *testing.T) {
	d := trafficDB(t)
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

func TestFlowTraffic(t *testing.T) {
	d := trafficDB(t)
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

func TestFlowQueryErrors(t *testing.T) {
	d := trafficDB(t)
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

func TestPrefixRange(t *testing.T) {
	for _, tc := range []struct{ p, lo, hi string }{
		{"10.0.0.0/8", "00000000000000000000ffff0a000000", "00000000000000000000ffff0affffff"},
		{"10.0.0.7/32", "00000000000000000000ffff0a000007", "00000000000000000000ffff0a000007"},
		{"2001:db8::/32", "20010db8000000000000000000000000", "20010db8ffffffffffffffffffffffff"},
		{"10.1.2.3/16", "00000000000000000000ffff0a010000", "00000000000000000000ffff0a01ffff"},
	} {
		lo, hi := prefixRange(netip.MustParsePrefix(tc.p))
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("%s: %s..%s, want %s..%s", tc.p, lo, hi, tc.lo, tc.hi)
		}
	}
	if got := addrKey(netip.MustParseAddr("10.0.0.7")); got != "00000000000000000000ffff0a000007" {
		t.Errorf("addrKey %s", got)
	}
}

package flowdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

// randomRollups returns n rollups over the given minutes, numbered by
// Records (1 to n), naming interfaces of two accounts and endpoints
// with IPv4, IPv6 and no addresses, some entries unused and some
// repeated.
func randomRollups(n int, minutes []uint32, seed uint64) model.FlowRollups {
	return randomRollupsOver(n, 3000, minutes, seed)
}

// randomRollupsOver is randomRollups over eps endpoints.
func randomRollupsOver(n, eps int, minutes []uint32, seed uint64) model.FlowRollups {
	rnd := rand.New(rand.NewPCG(seed, 1))
	var s model.FlowRollups
	for i := range 40 {
		s.Interfaces = append(s.Interfaces, model.FlowInterface{ID: fmt.Sprintf("eni-%d", i%30),
			Account: fmt.Sprintf("1234567890%02d", i%2), Region: "eu-west-1"})
	}
	for i := range eps {
		var a netip.Addr
		switch i % 5 {
		case 0:
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		case 1:
		default:
			a = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		}
		s.Endpoints = append(s.Endpoints, model.FlowEndpoint{ID: fmt.Sprintf("i-%d", i%700), Addr: a})
	}
	for i := range n {
		s.Rows = append(s.Rows, model.FlowRollupRow{
			Minute: minutes[rnd.IntN(len(minutes))], Interface: uint32(rnd.IntN(35)),
			Client: uint32(rnd.IntN(eps * 29 / 30)), Server: uint32(rnd.IntN(eps * 29 / 30)),
			ServerPort: uint16(rnd.Uint32()), Protocol: uint8(rnd.Uint32()), Reporter: model.FlowSide(1 + rnd.IntN(2)),
			Accepted: rnd.IntN(3) > 0, BytesToServer: rnd.Uint64(), BytesToClient: rnd.Uint64() >> 3,
			PacketsToServer: uint64(rnd.IntN(1000)), PacketsToClient: uint64(rnd.IntN(1 << 20)), Records: uint64(i + 1),
		})
	}
	return s
}

// Every value of a file of several pages, from dictionaries of hundreds
// of entries, reads back as written.
func TestRollupFileRoundTrip(t *testing.T) {
	base := uint32(t0.Unix() / 60)
	for _, tt := range []struct {
		name    string
		n       int
		minutes []uint32
	}{
		{"one page", 1000, []uint32{base, base + 1, base + 7}},
		{"pages", 2*rollupPageRows + 123, []uint32{base, base + 1, base + 2, base + 59}},
		{"spread", 3000, []uint32{base, base + 5_000_000, base + 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := open(t, t.TempDir(), Options{})
			o := textObject(t, "k")
			o.Rollups = randomRollups(tt.n, tt.minutes, uint64(tt.n))
			if err := d.CommitFlowObject(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			rows, err := d.db.Query(`SELECT minute, account, region, interface_id, reporter, client, server, client_addr, server_addr,
				server_port, protocol, action, bytes_to_server, bytes_to_client, packets_to_server, packets_to_client, records,
				client_addr_key, server_addr_key FROM flow_rollups ORDER BY records`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []model.FlowRollup
			var keys [][2]string
			for rows.Next() {
				var r model.FlowRollup
				var reporter, caddr, saddr, action, ckey, skey string
				if err := rows.Scan(&r.Minute, &r.Account, &r.Region, &r.Interface, &reporter, &r.Client, &r.Server, &caddr, &saddr,
					&r.ServerPort, &r.Protocol, &action, &r.BytesToServer, &r.BytesToClient, &r.PacketsToServer, &r.PacketsToClient,
					&r.Records, &ckey, &skey); err != nil {
					t.Fatal(err)
				}
				r.Minute = r.Minute.UTC()
				r.Reporter = map[string]model.FlowSide{"client": model.FlowClient, "server": model.FlowServer}[reporter]
				r.Accepted = action == "ACCEPT"
				if caddr != "" {
					r.ClientAddr = netip.MustParseAddr(caddr)
				}
				if saddr != "" {
					r.ServerAddr = netip.MustParseAddr(saddr)
				}
				got = append(got, r)
				keys = append(keys, [2]string{ckey, skey})
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			want := o.Rollups.Slice()
			var wantKeys [][2]string
			for _, r := range want {
				wantKeys = append(wantKeys, [2]string{addrKey(r.ClientAddr), addrKey(r.ServerAddr)})
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("rollups (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantKeys, keys); diff != "" {
				t.Errorf("address keys (-want +got):\n%s", diff)
			}
		})
	}
}

// Rows are ordered by minute, stably.
func TestByMinute(t *testing.T) {
	for _, minutes := range [][]uint32{{5, 3, 3, 9, 5, 3}, {3, 3, 5, 9}} {
		rows := make([]model.FlowRollupRow, len(minutes))
		for i, m := range minutes {
			rows[i] = model.FlowRollupRow{Minute: m, Records: uint64(i)}
		}
		in := slices.Clone(rows)
		got := byMinute(rows)
		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b model.FlowRollupRow) int { return int(a.Minute) - int(b.Minute) })
		if !slices.Equal(got, want) || !slices.Equal(rows, in) {
			t.Errorf("%v: %v, want %v (input now %v)", minutes, got, want, rows)
		}
	}
}

// A rollup naming an entry its tables lack is an error, not a panic.
func TestRollupFileBadIndex(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	o := textObject(t, "k")
	o.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 1, 1))
	o.Rollups.Rows[0].Server = 9
	if err := d.CommitFlowObject(context.Background(), o); err == nil {
		t.Fatal("committed")
	}
	if res := mustSQL(t, d, `SELECT count(*) FROM flow_objects`); res.Rows[0][0] != int64(0) {
		t.Errorf("catalog rows %v", res.Rows)
	}
}

// BenchmarkRollupFileEncode is the making of one object's rollups file in
// memory: 100,000 rollups sorted by minute over 60,000 endpoints, as an
// object of the ingest benchmark's corpus makes.
func BenchmarkRollupFileEncode(b *testing.B) {
	base := uint32(t0.Unix() / 60)
	rs := randomRollupsOver(100_000, 60_000, []uint32{base, base + 1, base + 2, base + 3, base + 4}, 1)
	rs.Rows = byMinute(rs.Rows)
	b.ReportAllocs()
	var size int
	d := &DB{writers: make(chan *rollupFile, 1)}
	for b.Loop() {
		w, done := d.writer()
		body, _, err := w.encode(&rs)
		if err != nil {
			b.Fatal(err)
		}
		size = 0
		for _, p := range body {
			size += len(p)
		}
		done()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rs.Rows)), "ns/rollup")
	b.ReportMetric(float64(size)/float64(len(rs.Rows)), "bytes/rollup")
}

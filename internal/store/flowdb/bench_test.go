package flowdb

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/storetest"
)

// BenchmarkCommitFlowObject commits objects of 10,000 rollups each (and
// a body of a header only); the figure is rollups/s.
func BenchmarkCommitFlowObject(b *testing.B) {
	storetest.BenchmarkCommitRollups(b, open(b, b.TempDir(), Options{}), defaultHeader, gz(b, defaultHeader))
}

// BenchmarkCommitRecords: storetest.BenchmarkCommitRecords, archiving the
// raw records; set beside the ClickHouse store's of that name.
func BenchmarkCommitRecords(b *testing.B) {
	storetest.BenchmarkCommitRecords(b, open(b, b.TempDir(), Options{}))
}

// BenchmarkFlowSQLScan sums the bytes of 1,000,000 archived records (100
// gzip objects of 10,000 records); the figure is records/s scanned.
func BenchmarkFlowSQLScan(b *testing.B) {
	d := open(b, b.TempDir(), Options{})
	ctx := context.Background()
	const objects, perObject = 100, 10000
	for o := range objects {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		fmt.Fprintln(zw, defaultHeader)
		for i := range perObject {
			fmt.Fprintf(zw, "2 123456789012 eni-0123456789abcdef0 10.0.%d.%d 10.1.0.1 %d 443 6 %d %d 1795341600 1795341660 ACCEPT OK\n",
				o, i%256, 1024+i, 1+i%10, 40+i)
		}
		zw.Close()
		obj := &store.FlowObject{Bucket: "logs", Key: fmt.Sprintf("k%d", o), ETag: "e", Body: buf.Bytes(), Format: defaultHeader,
			Start: t0.Add(time.Duration(o) * time.Minute), End: t0.Add(time.Duration(o+1) * time.Minute), Records: perObject}
		if err := d.CommitFlowObject(ctx, obj); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := d.FlowSQL(ctx, `SELECT count(*), sum(bytes) FROM vpc_flow_logs`, 1)
		if err != nil {
			b.Fatal(err)
		}
		if res.Rows[0][0] != int64(objects*perObject) {
			b.Fatalf("count %v", res.Rows[0][0])
		}
	}
	b.ReportMetric(float64(b.N*objects*perObject)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFlowQueries answers FlowTraffic (whole estate, 5-minute steps)
// and FlowConversations (top 100) over 1,000,000 rollups (20 objects of
// 50,000, a minute of an hour each) and FlowTraffic over one hour of the
// 20; the figure is rollups/s for the queries over everything.
func BenchmarkFlowQueries(b *testing.B) {
	d := open(b, b.TempDir(), Options{})
	ctx := context.Background()
	const objects, n = 20, 50000
	body := gz(b, defaultHeader)
	for o := range objects {
		rollups := make([]model.FlowRollup, n)
		start := t0.Add(time.Duration(o) * time.Hour)
		for i := range rollups {
			c := netip.AddrFrom4([4]byte{10, byte(o), byte(i >> 8), byte(i)})
			s := netip.AddrFrom4([4]byte{10, 1, 0, byte(i % 50)})
			rollups[i] = model.FlowRollup{Minute: start.Add(time.Duration(i%60) * time.Minute), Account: "123456789012", Region: "eu-west-1",
				Interface: "eni-0123456789abcdef0", Reporter: model.FlowSide(1 + i%2), Client: model.HostURN(c), Server: fmt.Sprintf("i-%d", i%50),
				ClientAddr: c, ServerAddr: s, ServerPort: 443, Protocol: 6, Accepted: i%7 != 0,
				BytesToServer: uint64(i), BytesToClient: 2 * uint64(i), PacketsToServer: 3, PacketsToClient: 4, Records: 1}
		}
		obj := &store.FlowObject{Bucket: "logs", Key: fmt.Sprintf("k%d", o), ETag: "e", Body: body, Format: defaultHeader,
			Start: start, End: start.Add(time.Hour), Rollups: model.NewFlowRollups(rollups...)}
		if err := d.CommitFlowObject(ctx, obj); err != nil {
			b.Fatal(err)
		}
	}
	var all, hour time.Duration
	b.ResetTimer()
	for b.Loop() {
		s := time.Now()
		if _, err := d.FlowTraffic(ctx, store.FlowQuery{Step: 5 * time.Minute}); err != nil {
			b.Fatal(err)
		}
		if _, err := d.FlowConversations(ctx, store.FlowQuery{}); err != nil {
			b.Fatal(err)
		}
		all += time.Since(s)
		s = time.Now()
		if _, err := d.FlowTraffic(ctx, store.FlowQuery{From: t0.Add(5 * time.Hour), To: t0.Add(6 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
		hour += time.Since(s)
	}
	b.ReportMetric(float64(b.N*objects*n)/all.Seconds(), "rollups/s")
	b.ReportMetric(all.Seconds()*1000/float64(b.N), "ms/all-queries")
	b.ReportMetric(hour.Seconds()*1000/float64(b.N), "ms/hour-traffic")
}

package storetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/collect/flowlogs/flowlogstest"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

var benchStart = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// BenchmarkCommitRecords commits gzip text objects of 100,000 records of
// flowlogstest's estate (as BenchmarkFlowIngest reads) without rollups,
// into d; the figure is records/s, the same work for every flow store.
func BenchmarkCommitRecords(b *testing.B, d store.Flows) {
	ctx := context.Background()
	const n = 100000
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := flowlogstest.NewEstate(1, 3000).Write(zw, 1, n, benchStart.Unix()); err != nil {
		b.Fatal(err)
	}
	zw.Close()
	body := buf.Bytes()
	for i := 0; b.Loop(); i++ {
		o := &store.FlowObject{Bucket: "logs", Key: fmt.Sprintf("k%d", i), ETag: "e", Body: body, Format: flowlogstest.Header,
			Start: benchStart, End: benchStart.Add(time.Hour), Records: n, ReadWhole: true}
		if err := d.CommitFlowObject(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCommitRollups commits objects of 10,000 rollups each, with body
// (nil for none) in format, into d; the figure is rollups/s.
func BenchmarkCommitRollups(b *testing.B, d store.Flows, format string, body []byte) {
	ctx := context.Background()
	const n = 10000
	rollups := make([]model.FlowRollup, n)
	for i := range rollups {
		c := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		rollups[i] = model.FlowRollup{Minute: benchStart.Add(time.Duration(i%60) * time.Minute), Account: "123456789012", Region: "eu-west-1",
			Interface: "eni-0123456789abcdef0", Reporter: model.FlowServer, Client: model.HostURN(c), Server: "i-0123456789abcdef0",
			ClientAddr: c, ServerAddr: netip.MustParseAddr("10.1.0.1"), ServerPort: 443, Protocol: 6, Accepted: true,
			BytesToServer: uint64(i), BytesToClient: 2 * uint64(i), PacketsToServer: 3, PacketsToClient: 4, Records: 1}
	}
	set := model.NewFlowRollups(rollups...)
	for i := 0; b.Loop(); i++ {
		o := &store.FlowObject{Bucket: "logs", Key: fmt.Sprintf("k%d", i), ETag: "e", Body: body, Format: format,
			Start: benchStart, End: benchStart, Rollups: set}
		if err := d.CommitFlowObject(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rollups/s")
}

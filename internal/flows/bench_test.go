package flows

import (
	"bytes"
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/collect/flowlogs/flowlogstest"
	"github.com/skymap/skymap/internal/model"
)

// cpuTime is the CPU time the process has used, user and system: on a
// shared machine it tells a benchmark's cost better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const (
	benchRecords = 100_000
	benchStart   = 1767225600
)

// benchEstate returns the components of flowlogstest's 3,000-interface
// estate as the inventory describes them (an instance per interface,
// carrying its urn:vpcip identifier, and the interface; one VPC per
// account), the accounts, and 100,000 default-format records of it as
// text.
func benchEstate(tb testing.TB) ([]model.Component, []string, []byte) {
	tb.Helper()
	e := flowlogstest.NewEstate(1, 3000)
	var comps []model.Component
	accounts := map[string]bool{}
	for i, n := range e.Interfaces() {
		vpc := "vpc-" + n.Account
		accounts[n.Account] = true
		inst := testInstance(fmt.Sprintf("i-%05d", i), vpc, n.Addr)
		inst.Account = n.Account
		eni := testENI(n.ID, vpc, map[string]any{"Kind": "instance", "Id": inst.ID}, false, n.Addr)
		eni.Account = n.Account
		comps = append(comps, inst, eni)
	}
	var list []string
	for a := range accounts {
		list = append(list, a)
	}
	var text bytes.Buffer
	if err := e.Write(&text, 7, benchRecords, benchStart); err != nil {
		tb.Fatal(err)
	}
	return comps, list, text.Bytes()
}

// BenchmarkProcess is the whole ingest of one object: 100,000
// default-format records in gzip, read, attributed to 3,000 interfaces'
// owners and rolled up.
func BenchmarkProcess(b *testing.B) {
	comps, accounts, text := benchEstate(b)
	body := gzipped(b, string(text))
	p := NewProcessor(NewIndex(comps, time.Unix(benchStart, 0)), Options{Accounts: accounts})
	meta := ObjectMeta{Bucket: "bench", Key: "k", Account: accounts[0], Region: region}
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	var rollups int
	start, cpu := time.Now(), cpuTime()
	for b.Loop() {
		res, err := p.Process(context.Background(), meta, body)
		if err != nil || res.Records != benchRecords {
			b.Fatal(err, res.Records)
		}
		rollups = res.Rollups.Len()
		p.Release(res) // as the ingest does once the object is committed
	}
	b.ReportMetric(float64(b.N*benchRecords)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N*benchRecords), "cpu-ns/record")
	b.ReportMetric(float64(rollups), "rollups")
}

// BenchmarkReadOnly reads the same object as BenchmarkProcess with the
// flowlogs Reader alone: the baseline that BenchmarkProcess's extra cost,
// attribution and rollup, is measured against in the same run.
func BenchmarkReadOnly(b *testing.B) {
	_, _, text := benchEstate(b)
	body := gzipped(b, string(text))
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	var rd *flowlogs.Reader
	start, cpu := time.Now(), cpuTime()
	for b.Loop() {
		if rd == nil {
			rd = flowlogs.NewReader(bytes.NewReader(body), "bench", nil)
		} else {
			rd.Reset(bytes.NewReader(body), "bench", nil)
		}
		n := 0
		for rd.Next() {
			n++
		}
		if rd.Err() != nil || n != benchRecords {
			b.Fatal(n, rd.Err())
		}
	}
	b.ReportMetric(float64(b.N*benchRecords)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N*benchRecords), "cpu-ns/record")
}

// BenchmarkProcessParallel is BenchmarkProcess with one object per core
// at a time, as the ingest runs.
func BenchmarkProcessParallel(b *testing.B) {
	comps, accounts, text := benchEstate(b)
	body := gzipped(b, string(text))
	p := NewProcessor(NewIndex(comps, time.Unix(benchStart, 0)), Options{Accounts: accounts})
	meta := ObjectMeta{Bucket: "bench", Key: "k", Account: accounts[0], Region: region}
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	start, cpu := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := p.Process(context.Background(), meta, body)
			if err != nil || res.Records != benchRecords {
				b.Error(err)
				return
			}
			p.Release(res)
		}
	})
	b.ReportMetric(float64(b.N*benchRecords)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N*benchRecords), "cpu-ns/record")
}

// parsedRecords parses text's lines into records (each keeps its line).
func parsedRecords(tb testing.TB, text []byte) []flowlogs.Record {
	tb.Helper()
	lines := bytes.Split(bytes.TrimSpace(text), []byte("\n"))[1:]
	recs := make([]flowlogs.Record, len(lines))
	for i, l := range lines {
		if err := flowlogs.DefaultFormat().ParseLine(l, &recs[i]); err != nil {
			tb.Fatal(err)
		}
	}
	return recs
}

// benchRun returns a run ready to add the records of one object.
func benchRun(tb testing.TB) (*run, []flowlogs.Record) {
	comps, accounts, text := benchEstate(tb)
	p := NewProcessor(NewIndex(comps, time.Unix(benchStart, 0)), Options{Accounts: accounts})
	r := newRun()
	r.begin(p, ObjectMeta{Account: accounts[0], Region: region})
	return r, parsedRecords(tb, text)
}

// BenchmarkAttribute is the per-record path alone on parsed records:
// attribution of both addresses, the client/server decision and the
// rollup. It must not allocate.
func BenchmarkAttribute(b *testing.B) {
	r, recs := benchRun(b)
	var res Result
	for i := range recs { // the object's interfaces, addresses and rollups seen once
		r.add(&recs[i], &res)
	}
	b.ReportAllocs()
	i := 0
	cpu, n := cpuTime(), 0
	for b.Loop() {
		n++
		rec := &recs[i]
		if rec.LogStatus != flowlogs.LogStatusNoData && rec.LogStatus != flowlogs.LogStatusSkipData {
			r.add(rec, &res)
		}
		if i++; i == len(recs) {
			i = 0
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(n), "cpu-ns/record")
}

// TestAttributeAllocs fails if adding a record allocates once the
// object's interfaces, addresses and conversations have been seen.
func TestAttributeAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-record corpus")
	}
	r, recs := benchRun(t)
	var res Result
	ok := recs[:0:0]
	for _, rec := range recs {
		if rec.LogStatus == flowlogs.LogStatusOK {
			ok = append(ok, rec)
		}
	}
	for i := range ok {
		r.add(&ok[i], &res)
	}
	allocs := testing.AllocsPerRun(10, func() {
		for i := range ok {
			r.add(&ok[i], &res)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per %d records, want 0", allocs, len(recs))
	}
	if res.Dropped != 0 || res.Filtered != 0 {
		t.Errorf("dropped %d, filtered %d", res.Dropped, res.Filtered)
	}
}

// TestProcessAllocs bounds the allocations of a whole Process call: per
// object and per rollup, not per record.
func TestProcessAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-record corpus")
	}
	comps, accounts, text := benchEstate(t)
	body := gzipped(t, string(text))
	p := NewProcessor(NewIndex(comps, time.Unix(benchStart, 0)), Options{Accounts: accounts})
	meta := ObjectMeta{Bucket: "bench", Key: "k", Account: accounts[0], Region: region}
	var res *Result
	allocs := testing.AllocsPerRun(3, func() {
		var err error
		if res, err = p.Process(context.Background(), meta, body); err != nil {
			t.Fatal(err)
		}
	})
	if limit := float64(benchRecords) / 100; allocs > limit {
		t.Errorf("%v allocations for %d records (%d rollups), want under %v", allocs, benchRecords, res.Rollups.Len(), limit)
	}
	t.Logf("%v allocations per object of %d records, %d rollups", allocs, benchRecords, res.Rollups.Len())
}

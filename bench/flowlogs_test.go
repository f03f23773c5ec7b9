package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/collect/flowlogs/flowlogstest"
	"github.com/skymap/skymap/internal/inflate"
)

// The flow-log corpus: 20 gzip objects of 100,000 default-format records
// each, drawn from an estate of 3,000 network interfaces.
const (
	flowFiles      = 20
	flowPerFile    = 100_000
	flowENIs       = 3000
	flowCorpusName = "skymap-bench-flowlogs-v2"
)

// flowCorpus returns the corpus's files, generating them once into
// $SKYMAP_BENCH_CACHE (default the system temp dir) and reusing them in
// later runs: they are the same in every run.
func flowCorpus(b *testing.B) []string {
	root := os.Getenv("SKYMAP_BENCH_CACHE")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, flowCorpusName)
	files := make([]string, flowFiles)
	for i := range files {
		files[i] = filepath.Join(dir, fmt.Sprintf("123456789012_vpcflowlogs_eu-west-1_fl-0bench_20260101T%02d00Z_%04d.log.gz", i%24, i))
	}
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return files
	}
	tmp, err := os.MkdirTemp(root, flowCorpusName+".tmp")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	estate := flowlogstest.NewEstate(1, flowENIs)
	for i, name := range files {
		f, err := os.Create(filepath.Join(tmp, filepath.Base(name)))
		if err != nil {
			b.Fatal(err)
		}
		zw, _ := gzip.NewWriterLevel(f, gzip.DefaultCompression)
		if err := estate.Write(zw, uint64(100+i), flowPerFile, 1767225600+int64(i)*3600); err != nil {
			b.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	return files
}

// BenchmarkFlowlogsSummarize measures `skymap flowlogs summarize` on
// 2,000,000 default-format records in 20 gzip files against `gzip -dc` of
// the same files to /dev/null, in the same run. Each of the three is run
// three times, in turn, and the fastest run of each counts:
//
//   - gzip-dc-s: the gzip binary, the baseline;
//   - summarize-s: flowlogs.Summarize, the function the command calls,
//     with GOMAXPROCS workers;
//   - binary-json-s: the built skymap binary writing the JSON summary
//     (every group) to /dev/null.
//
// It reports their wall times, summarize/gzip, records/s, the CPU time
// of gzip and of Summarize (the machines are shared: CPU time varies less
// than wall time), and the heap allocations per record of the Summarize
// runs (files, readers and groups; the parse itself allocates nothing:
// BenchmarkFlowlogsParse).
// Run it alone: go test ./bench -run '^$' -bench FlowlogsSummarize -benchtime 1x
func BenchmarkFlowlogsSummarize(b *testing.B) {
	files := flowCorpus(b)
	gz, err := exec.LookPath("gzip")
	if err != nil {
		b.Fatal("the baseline needs the gzip binary: ", err)
	}
	bin := filepath.Join(b.TempDir(), "skymap")
	build := []string{"build", "-o", bin}
	if inflate.Available { // the binary as this test was built: with libdeflate or without
		build = append(build, "-tags", "libdeflate")
	}
	b.Logf("libdeflate: %v", inflate.Available)
	if out, err := exec.Command("go", append(build, "../cmd/skymap")...).CombinedOutput(); err != nil {
		b.Fatalf("build skymap: %v\n%s", err, out)
	}
	var compressed int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		compressed += st.Size()
	}
	n := float64(flowFiles * flowPerFile)
	for range b.N {
		var gzipRuns, sumRuns, binRuns, gzipCPU, sumCPU []time.Duration
		var allocs float64
		var groups int
		for range 3 {
			wall, cpu := timeCommand(b, gz, append([]string{"-dc"}, files...)...)
			gzipRuns, gzipCPU = append(gzipRuns, wall), append(gzipCPU, cpu)

			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			cpu0, t0 := cpuTime(), time.Now()
			sum, results := flowlogs.Summarize(context.Background(), files, flowlogs.SummarizeOptions{})
			sumRuns, sumCPU = append(sumRuns, time.Since(t0)), append(sumCPU, cpuTime()-cpu0)
			runtime.ReadMemStats(&m1)
			for _, r := range results {
				if r.Failed() {
					b.Fatalf("%s: %v, %d malformed", r.Path, r.Err, r.Malformed)
				}
			}
			if sum.Records != flowFiles*flowPerFile {
				b.Fatalf("%d records, want %d", sum.Records, flowFiles*flowPerFile)
			}
			allocs = float64(m1.Mallocs-m0.Mallocs) / float64(sum.Records)
			groups = len(sum.Groups)

			wall, _ = timeCommand(b, bin, append([]string{"flowlogs", "summarize", "--output", "json"}, files...)...)
			binRuns = append(binRuns, wall)
		}
		for _, d := range [][]time.Duration{gzipRuns, sumRuns, binRuns, gzipCPU, sumCPU} {
			slices.Sort(d)
		}
		g, s := gzipRuns[0], sumRuns[0]
		b.ReportMetric(g.Seconds(), "gzip-dc-s")
		b.ReportMetric(s.Seconds(), "summarize-s")
		b.ReportMetric(binRuns[0].Seconds(), "binary-json-s")
		b.ReportMetric(s.Seconds()/g.Seconds(), "summarize/gzip")
		b.ReportMetric(binRuns[0].Seconds()/g.Seconds(), "binary/gzip")
		b.ReportMetric(n/s.Seconds(), "records/s")
		b.ReportMetric(allocs, "allocs/record")
		b.ReportMetric(float64(groups), "groups")
		b.ReportMetric(float64(compressed)/(1<<20), "gzip-MiB")
		b.ReportMetric(gzipCPU[0].Seconds(), "gzip-cpu-s")
		b.ReportMetric(sumCPU[0].Seconds(), "summarize-cpu-s")
		b.Logf("wall: gzip -dc %v; Summarize %v; binary %v; GOMAXPROCS %d", gzipRuns, sumRuns, binRuns, runtime.GOMAXPROCS(0))
		b.Logf("cpu: gzip -dc %v; Summarize %v", gzipCPU, sumCPU)
	}
}

// timeCommand runs a command with its output to /dev/null and returns its
// wall time and CPU time (user and system).
func timeCommand(b *testing.B, name string, args ...string) (wall, cpu time.Duration) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr // Stdout nil: /dev/null
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return time.Since(t0), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// BenchmarkFlowlogsParse parses the records of one corpus file, already
// decompressed, into one reused Record: the parse hot path, whose
// allocs/op must be 0.
func BenchmarkFlowlogsParse(b *testing.B) {
	f, err := os.Open(flowCorpus(b)[0])
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(text), []byte("\n"))[1:]
	format := flowlogs.DefaultFormat()
	var r flowlogs.Record
	b.SetBytes(int64(len(text) / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := format.ParseLine(lines[i%len(lines)], &r); err != nil {
			b.Fatal(err)
		}
	}
}

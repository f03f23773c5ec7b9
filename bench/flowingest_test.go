package bench

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/collect/flowlogs/flowlogstest"
	"github.com/skymap/skymap/internal/flows"
	"github.com/skymap/skymap/internal/inflate"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store/flowdb"
)

// flowIngestWorkers is how many objects the ingest handles at once, as
// skymap serve's flow-log sources do.
const flowIngestWorkers = 2

// flowEstate returns the components owning the corpus's 3,000 interfaces
// as the inventory emits them (an instance per interface carrying its
// urn:vpcip:<vpc>/<ip> identifier, and the aws.ec2.network-interface with
// VpcId, PrivateIpAddress and Owner; one VPC per account) and the
// accounts.
func flowEstate() ([]model.Component, []string) {
	e := flowlogstest.NewEstate(1, flowENIs)
	var comps []model.Component
	seen := map[string]bool{}
	var accounts []string
	for i, n := range e.Interfaces() {
		vpc := "vpc-" + n.Account
		if !seen[n.Account] {
			seen[n.Account] = true
			accounts = append(accounts, n.Account)
		}
		id := fmt.Sprintf("i-%05d", i)
		comps = append(comps, model.Component{
			ID: id, Type: "aws.ec2.instance", Name: id, Account: n.Account, Region: "eu-west-1",
			Identifiers: []string{"urn:host:/" + id, "urn:vpcip:" + vpc + "/" + n.Addr},
			Layer:       model.LayerMachines,
			Data:        map[string]any{"InstanceId": id, "VpcId": vpc, "PrivateIpAddress": n.Addr},
		}, model.Component{
			ID: n.ID, Type: "aws.ec2.network-interface", Name: n.ID, Account: n.Account, Region: "eu-west-1",
			Identifiers: []string{"arn:aws:ec2:eu-west-1:" + n.Account + ":network-interface/" + n.ID},
			Layer:       model.LayerNetworking,
			Data: map[string]any{
				"NetworkInterfaceId": n.ID, "VpcId": vpc, "PrivateIpAddress": n.Addr,
				"PrivateIpAddresses": []any{map[string]any{"PrivateIpAddress": n.Addr, "Primary": true}},
				"Owner":              map[string]any{"Kind": "instance", "Id": id},
			},
		})
	}
	return comps, accounts
}

// BenchmarkFlowIngest measures skymap serve's ingest of flow-log objects
// on the corpus of BenchmarkFlowlogsSummarize (2,000,000 records in 20
// gzip objects, read into memory first as S3 bodies are): per object,
// flows.Processor.Process (parse, attribute to the components owning the
// 3,000 interfaces, roll up), flowdb.CommitFlowObject into a fresh
// database (archive the body, write the rollups as a Parquet file, then
// the catalog row)
// and Release, two objects at a time with GOMAXPROCS 2, as
// internal/app's sourceHandler does. The baseline is `gzip -dc` of the
// same files, fastest of three runs in the same iteration.
//
// It reports the ingest's wall time, records/s, ingest/gzip, its CPU
// time, the peak RSS of the process during the ingest (DuckDB's memory
// included; the bodies, 73 MiB, are held before it starts), the largest
// Go HeapInuse seen after an object, the rollups stored, the bytes
// archived and the size of the rollup files.
// Run it alone: go test ./bench -run '^$' -bench FlowIngest -benchtime 1x -count 3
func BenchmarkFlowIngest(b *testing.B) {
	files := flowCorpus(b)
	gz, err := exec.LookPath("gzip")
	if err != nil {
		b.Fatal("the baseline needs the gzip binary: ", err)
	}
	bodies := make([][]byte, len(files))
	var compressed int64
	for i, f := range files {
		if bodies[i], err = os.ReadFile(f); err != nil {
			b.Fatal(err)
		}
		compressed += int64(len(bodies[i]))
	}
	comps, accounts := flowEstate()
	b.Logf("libdeflate: %v", inflate.Available)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(flowIngestWorkers))
	ctx := context.Background()
	n := float64(flowFiles * flowPerFile)
	for range b.N {
		var gzipRuns, gzipCPU []time.Duration
		for range 3 {
			wall, cpu := timeCommand(b, gz, append([]string{"-dc"}, files...)...)
			gzipRuns, gzipCPU = append(gzipRuns, wall), append(gzipCPU, cpu)
		}
		slices.Sort(gzipRuns)
		slices.Sort(gzipCPU)

		dir := b.TempDir()
		db, err := flowdb.Open(dir, flowdb.Options{})
		if err != nil {
			b.Fatal(err)
		}
		p := flows.NewProcessor(flows.NewIndex(comps, time.Unix(1767225600, 0)), flows.Options{Accounts: accounts})
		runtime.GC()
		resetPeakRSS()
		var (
			mu                         sync.Mutex
			records, filtered, dropped int64
			maxHeap                    uint64
			heaps                      []uint64
			firstErr                   error
			next                       = make(chan int)
			wg                         sync.WaitGroup
			ms                         runtime.MemStats
			processTime, commitTime    time.Duration
		)
		cpu0, t0 := cpuTime(), time.Now()
		for range flowIngestWorkers {
			wg.Go(func() {
				for i := range next {
					meta := flows.ObjectMeta{Bucket: "bench-flowlogs", Key: filepath.Base(files[i]), ETag: "e",
						Account: "123456789012", Region: "eu-west-1"}
					s := time.Now()
					res, err := p.Process(ctx, meta, bodies[i])
					pt := time.Since(s)
					if err == nil {
						s = time.Now()
						err = db.CommitFlowObject(ctx, &res.FlowObject)
					}
					ct := time.Since(s)
					mu.Lock()
					if err != nil {
						if firstErr == nil {
							firstErr = fmt.Errorf("%s: %w", meta.Key, err)
						}
					} else {
						records += res.Records
						filtered += res.Filtered
						dropped += res.Dropped
						processTime += pt
						commitTime += ct
					}
					p.Release(res)
					runtime.ReadMemStats(&ms)
					heaps = append(heaps, ms.HeapInuse)
					maxHeap = max(maxHeap, ms.HeapInuse)
					mu.Unlock()
				}
			})
		}
		for i := range bodies {
			next <- i
		}
		close(next)
		wg.Wait()
		wall, cpu := time.Since(t0), cpuTime()-cpu0
		peak := rssKiB("VmHWM")
		if firstErr != nil {
			b.Fatal(firstErr)
		}
		if records != flowFiles*flowPerFile {
			b.Fatalf("%d records, want %d", records, flowFiles*flowPerFile)
		}
		res, err := db.FlowSQL(ctx, `SELECT count(*), sum(records) FROM flow_rollups`, 1)
		if err != nil {
			b.Fatal(err)
		}
		rollups := res.Rows[0][0].(int64)
		var archived, rollupBytes int64
		rollupsDir := filepath.Join(dir, "raw", "rollups") + string(filepath.Separator)
		filepath.WalkDir(filepath.Join(dir, "raw"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					if strings.HasPrefix(p, rollupsDir) {
						rollupBytes += fi.Size()
					} else {
						archived += fi.Size()
					}
				}
			}
			return nil
		})
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		var dbSize int64
		if fi, err := os.Stat(filepath.Join(dir, "flows.duckdb")); err == nil {
			dbSize = fi.Size()
		}
		if archived != compressed {
			b.Errorf("archived %d bytes, the bodies are %d", archived, compressed)
		}

		g := gzipRuns[0]
		b.ReportMetric(wall.Seconds(), "ingest-s")
		b.ReportMetric(n/wall.Seconds(), "records/s")
		b.ReportMetric(g.Seconds(), "gzip-dc-s")
		b.ReportMetric(wall.Seconds()/g.Seconds(), "ingest/gzip")
		b.ReportMetric(cpu.Seconds(), "ingest-cpu-s")
		b.ReportMetric(gzipCPU[0].Seconds(), "gzip-cpu-s")
		b.ReportMetric(peak/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(maxHeap)/(1<<20), "max-heap-inuse-MiB")
		b.ReportMetric(float64(rollups), "rollups")
		b.ReportMetric(float64(archived)/(1<<20), "archived-MiB")
		b.ReportMetric(float64(dbSize)/(1<<20), "duckdb-file-MiB")
		b.ReportMetric(float64(rollupBytes)/(1<<20), "rollup-files-MiB")
		b.ReportMetric(processTime.Seconds(), "process-s")
		b.ReportMetric(commitTime.Seconds(), "commit-s")
		mib := make([]uint64, len(heaps))
		for i, h := range heaps {
			mib[i] = h >> 20
		}
		b.Logf("wall %v, cpu %v, gzip -dc %v (cpu %v); %d records, %d filtered, %d dropped, %d rollups (%v records); process %v + commit %v summed over objects",
			wall, cpu, gzipRuns, gzipCPU, records, filtered, dropped, rollups, res.Rows[0][1], processTime, commitTime)
		b.Logf("HeapInuse MiB after each object: %v", mib)
	}
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux).
func resetPeakRSS() {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

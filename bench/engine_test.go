// Package bench holds the benchmarks whose figures bench/README.md quotes.
package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// rssKiB reads the process's resident set (VmRSS) or its peak (VmHWM).
func rssKiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return v
		}
	}
	return 0
}

// engineScope makes the snapshot of scope s of an estate of scopes x per
// components: instances with realistic identifiers, labels and data, each
// with three relations: to its subnet by id, to its security group by ARN,
// and to a peer instance by its urn:host identifier.
func engineScope(s, scopes, per int) model.Snapshot {
	account := fmt.Sprintf("%012d", s/20)
	region := []string{"eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"}[s%4]
	snap := model.Snapshot{Scope: model.Scope{Account: account, Region: region, Type: fmt.Sprintf("aws.ec2.instance/%d", s)}, Complete: true}
	snap.Components = make([]model.Component, 0, per)
	snap.Relations = make([]model.Relation, 0, 3*per)
	total := scopes * per
	for i := range per {
		n := s*per + i
		id := fmt.Sprintf("i-%017x", n)
		snap.Components = append(snap.Components, model.Component{
			ID: id, Type: "aws.ec2.instance", Name: fmt.Sprintf("web-%d", n),
			Identifiers: []string{
				"arn:aws:ec2:" + region + ":" + account + ":instance/" + id,
				"urn:host:/" + id,
				fmt.Sprintf("urn:vpcip:vpc-%08x/10.%d.%d.%d", s, n>>16&255, n>>8&255, n&255),
			},
			Labels:  []string{"aws-account:" + account, "aws-region:" + region, "stackpack:aws-v2", "team:platform", "env:prod"},
			Account: account, Region: region, Layer: model.LayerMachines,
			ConsoleURL: "https://" + region + ".console.aws.amazon.com/ec2/home?region=" + region + "#InstanceDetails:instanceId=" + id,
			Data: map[string]any{"InstanceId": id, "InstanceType": "m5.large", "State": map[string]any{"Name": "running"},
				"PrivateIpAddress": fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255), "ImageId": "ami-04681a1dbd79675a5"},
		})
		peer := fmt.Sprintf("i-%017x", (n*7919+1)%total)
		snap.Relations = append(snap.Relations,
			model.Relation{Source: id, Target: fmt.Sprintf("i-%017x", (n/100)*100), Type: model.UsesService},
			model.Relation{Source: "urn:host:/" + id, Target: "arn:aws:ec2:" + region + ":" + account + ":instance/" + fmt.Sprintf("i-%017x", (n/1000)*1000+1), Type: model.UsesService},
			model.Relation{Source: id, Target: "urn:host:/" + peer, Type: model.UsesService},
		)
	}
	return snap
}

// BenchmarkEngineMillion ingests 1,000,000 components and 3,000,000
// relations into the topology engine, scope by scope as scans deliver them,
// then measures neighbour queries. It reports the ingest time, the peak
// and settled RSS of the process, and the p50/p99 neighbour-query latency.
// Run it alone: go test ./bench -run '^$' -bench EngineMillion -benchtime 1x
func BenchmarkEngineMillion(b *testing.B) {
	scopes, per := 1000, 1000
	if v, err := strconv.Atoi(os.Getenv("SKYMAP_BENCH_SCOPES")); err == nil {
		scopes = v
	}
	for range b.N {
		g := topology.New(nil)
		ctx := context.Background()
		start := time.Now()
		for s := range scopes {
			if _, err := g.Apply(ctx, "scan", []model.Snapshot{engineScope(s, scopes, per)}); err != nil {
				b.Fatal(err)
			}
		}
		ingest := time.Since(start)
		if g.Len() != scopes*per {
			b.Fatalf("%d components, want %d", g.Len(), scopes*per)
		}
		if p := g.PendingCount(); p != 0 {
			b.Fatalf("%d pending relations, want 0", p)
		}
		runtime.GC()
		debug.FreeOSMemory()
		settled := rssKiB("VmRSS")
		peak := rssKiB("VmHWM")
		if path := os.Getenv("SKYMAP_BENCH_HEAPPROFILE"); path != "" {
			if f, err := os.Create(path); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)

		lat := make([]time.Duration, 0, 100000)
		edges := 0
		for q := range 100000 {
			id := fmt.Sprintf("i-%017x", (q*104729)%(scopes*per))
			t0 := time.Now()
			out, in, ok := g.Neighbours(id)
			lat = append(lat, time.Since(t0))
			if !ok {
				b.Fatalf("%s not found", id)
			}
			edges += len(out) + len(in)
		}
		slices.Sort(lat)
		b.ReportMetric(ingest.Seconds(), "ingest-s")
		b.ReportMetric(float64(scopes*per)/ingest.Seconds(), "components/s")
		b.ReportMetric(peak/1024, "peak-RSS-MiB")
		b.ReportMetric(settled/1024, "settled-RSS-MiB")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "neighbours-p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "neighbours-p99-µs")
		b.ReportMetric(float64(edges)/float64(len(lat)), "edges/query")
		runtime.KeepAlive(g)
	}
}

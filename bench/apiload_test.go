package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/flows"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store/flowdb"
	"github.com/skymap/skymap/internal/topology"
)

// BenchmarkAPILoad is issue 7's API load test: the HTTP API of skymap
// serve (api.Server over a loopback listener) on an estate of 100,000
// components (the 6,000 owning the flow corpus's interfaces and 94,000
// instances of BenchmarkEngineMillion's shape, 282,000 relations), with
// the flows of 4 objects of the flow corpus (400,000 records) in a flows
// database, under 50 concurrent clients for SKYMAP_BENCH_SECONDS (default
// 20) seconds, then it stops. Each client asks in turn for a page of 100
// components filtered by type at a random offset, the relations of a
// random component (its neighbours), the traffic of a random flow
// component over the corpus's hours in steps of 5 minutes, its top
// conversations, and GET /healthz, the baseline: the HTTP and JSON floor
// on the same connections in the same run.
//
// It reports p50 and p99 per kind, each kind's p50 as a ratio of the
// baseline's, the requests per second and the errors (any answer but 200).
// Run it alone: go test -tags libdeflate ./bench -run '^$' -bench APILoad -benchtime 1x
func BenchmarkAPILoad(b *testing.B) {
	seconds := envInt(b, "SKYMAP_BENCH_SECONDS", 20)
	const clients = 50
	files := flowCorpus(b)[:4]
	flowComps, accounts := flowEstate()
	ctx := context.Background()

	g := topology.New(nil)
	byAccount := map[string][]model.Component{}
	for _, c := range flowComps {
		byAccount[c.Account] = append(byAccount[c.Account], c)
	}
	for _, acct := range slices.Sorted(maps.Keys(byAccount)) {
		snap := model.Snapshot{Scope: model.Scope{Account: acct, Region: "eu-west-1", Type: "bench/flows"}, Complete: true,
			Components: byAccount[acct]}
		if _, err := g.Apply(ctx, "scan", []model.Snapshot{snap}); err != nil {
			b.Fatal(err)
		}
	}
	const scopes = 94
	for s := range scopes {
		if _, err := g.Apply(ctx, "scan", []model.Snapshot{engineScope(s, scopes, 1000)}); err != nil {
			b.Fatal(err)
		}
	}
	if g.Len() != 100_000 {
		b.Fatalf("%d components, want 100,000", g.Len())
	}

	db, err := flowdb.Open(b.TempDir(), flowdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	p := flows.NewProcessor(flows.NewIndex(flowComps, time.Unix(1767225600, 0)), flows.Options{Accounts: accounts})
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		res, err := p.Process(ctx, flows.ObjectMeta{Bucket: "bench-flowlogs", Key: f, ETag: "e", Account: "123456789012", Region: "eu-west-1"}, body)
		if err == nil {
			err = db.CommitFlowObject(ctx, &res.FlowObject)
		}
		if err != nil {
			b.Fatal(err)
		}
		p.Release(res)
	}

	srv := httptest.NewServer((&api.Server{Graph: g, Flows: db, Status: func(context.Context) any { return nil }}).Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}

	from, to := time.Unix(1767225600, 0).UTC(), time.Unix(1767225600+4*3600, 0).UTC()
	window := "&from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339))
	kinds := []struct {
		name string
		path func(r *rand.Rand) string
	}{
		{"components", func(r *rand.Rand) string {
			return fmt.Sprintf("/api/components?type=aws.ec2.instance&limit=100&offset=%d", r.IntN(95_000))
		}},
		{"neighbours", func(r *rand.Rand) string {
			return "/api/relations?component=" + fmt.Sprintf("i-%017x", r.IntN(scopes*1000))
		}},
		{"flow-traffic", func(r *rand.Rand) string {
			return "/api/flows/traffic?step=5m&component=" + url.QueryEscape(flowComps[2*r.IntN(len(flowComps)/2)].ID) + window
		}},
		{"flow-top", func(r *rand.Rand) string {
			return "/api/flows/conversations?component=" + url.QueryEscape(flowComps[2*r.IntN(len(flowComps)/2)].ID) + window
		}},
		{"healthz", func(*rand.Rand) string { return "/healthz" }},
	}

	for range b.N {
		lat := make([][]time.Duration, len(kinds))
		var mu sync.Mutex
		var errs []string
		deadline := time.Now().Add(time.Duration(seconds) * time.Second)
		var wg sync.WaitGroup
		start := time.Now()
		for c := range clients {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(c), 7))
				mine := make([][]time.Duration, len(kinds))
				var bad []string
				for i := c; time.Now().Before(deadline); i++ {
					k := i % len(kinds)
					path := kinds[k].path(r)
					t0 := time.Now()
					resp, err := client.Get(srv.URL + path)
					if err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err == nil && resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("%s", resp.Status)
						}
					}
					mine[k] = append(mine[k], time.Since(t0))
					if err != nil {
						bad = append(bad, path+": "+err.Error())
					}
				}
				mu.Lock()
				for k := range kinds {
					lat[k] = append(lat[k], mine[k]...)
				}
				errs = append(errs, bad...)
				mu.Unlock()
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		total := 0
		for k := range kinds {
			slices.Sort(lat[k])
			total += len(lat[k])
		}
		base := percentile(lat[len(kinds)-1], 0.5)
		for k, kd := range kinds {
			p50, p99 := percentile(lat[k], 0.5), percentile(lat[k], 0.99)
			b.ReportMetric(ms(p50), kd.name+"-p50-ms")
			b.ReportMetric(ms(p99), kd.name+"-p99-ms")
			b.Logf("%-12s %7d requests  p50 %8.2f ms  p99 %8.2f ms  p50/healthz %6.1fx", kd.name, len(lat[k]), ms(p50), ms(p99),
				float64(p50)/float64(base))
		}
		b.ReportMetric(float64(total)/elapsed.Seconds(), "requests/s")
		b.ReportMetric(float64(len(errs)), "errors")
		b.ReportMetric(rssKiB("VmHWM")/1024, "peak-RSS-MiB")
		if len(errs) > 0 {
			b.Errorf("%d errors, the first: %s", len(errs), errs[0])
		}
	}
}

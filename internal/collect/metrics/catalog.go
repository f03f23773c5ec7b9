package metrics

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// ListAPI is the CloudWatch call a Catalog makes.
type ListAPI interface {
	ListMetrics(ctx context.Context, in *cloudwatch.ListMetricsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error)
}

// Catalog caches what ListMetrics lists per account, region and namespace,
// so that a Fetcher does not ask (and pay) for metrics CloudWatch does not
// have: a metric of a default set that a component never published (a
// Lambda function never throttled has no Throttles metric; an instance
// without detailed status checks...). ListMetrics lists the metrics with
// data in the last two weeks, 500 a page, and costs no GetMetricData
// charge.
//
// A query is left out only when the listing knows its dimensions (the
// component published other metrics) but not its metric; a component the
// listing does not know at all (launched since it was made) is asked for
// anyway, as is everything when the listing failed. The listing holds two
// 64-bit hashes per listed metric: bounded by the estate, not by time.
// Safe for concurrent use.
type Catalog struct {
	// Client returns the CloudWatch client of an account and region.
	Client func(ctx context.Context, account, region string) (ListAPI, error)
	// TTL is how long a listing is used before it is made again; 0 means
	// one hour.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	listings map[listingKey]*listing

	calls, failed, skipped atomic.Int64
}

type listingKey struct{ account, region, namespace string }

// listing is one namespace's metrics in an account and region.
type listing struct {
	ready   chan struct{} // closed once made
	made    time.Time
	err     error
	metrics map[uint64]struct{} // hash of name and dimensions
	dims    map[uint64]struct{} // hash of dimensions
}

// CatalogStats count what a Catalog did.
type CatalogStats struct {
	Calls   int64 `json:"list_metrics_calls"`
	Failed  int64 `json:"list_metrics_failed"`
	Skipped int64 `json:"metrics_skipped_unlisted"`
}

// Stats returns the counts since the Catalog was made.
func (c *Catalog) Stats() CatalogStats {
	return CatalogStats{Calls: c.calls.Load(), Failed: c.failed.Load(), Skipped: c.skipped.Load()}
}

var hashSeed = maphash.MakeSeed()

// hashDims hashes dimensions, in any order, and the metric name ("" for
// the dimensions alone).
func hashDims(name string, dims [][2]string) uint64 {
	sorted := slices.Clone(dims)
	slices.SortFunc(sorted, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	var h maphash.Hash
	h.SetSeed(hashSeed)
	h.WriteString(name)
	for _, d := range sorted {
		h.WriteByte(0)
		h.WriteString(d[0])
		h.WriteByte(1)
		h.WriteString(d[1])
	}
	return h.Sum64()
}

// Listed tells, for each query, whether to ask for it: false only for a
// query whose dimensions the listing of its namespace knows without its
// metric. Listings are made (once per TTL, one at a time per namespace)
// when first needed; one that fails keeps every query of its namespace
// and is made again on the next call. Listed fails only when ctx ends.
func (c *Catalog) Listed(ctx context.Context, queries []Query) ([]bool, error) {
	keep := make([]bool, len(queries))
	var keys []listingKey
	for i := range queries {
		q := &queries[i]
		k := listingKey{q.Account, q.Region, q.Namespace}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	got := make(map[listingKey]*listing, len(keys))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := c.listing(ctx, k)
			mu.Lock()
			got[k] = l
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range queries {
		q := &queries[i]
		l := got[listingKey{q.Account, q.Region, q.Namespace}]
		keep[i] = true
		if l == nil || l.err != nil {
			continue
		}
		if _, ok := l.metrics[hashDims(q.Name, q.Dimensions)]; ok {
			continue
		}
		if _, ok := l.dims[hashDims("", q.Dimensions)]; ok {
			keep[i] = false
			c.skipped.Add(1)
		}
	}
	return keep, nil
}

// listing returns the listing of k, made now if it is missing, older than
// the TTL or failed; nil when ctx ended first.
func (c *Catalog) listing(ctx context.Context, k listingKey) *listing {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	c.mu.Lock()
	if c.listings == nil {
		c.listings = map[listingKey]*listing{}
	}
	l := c.listings[k]
	if l != nil {
		select {
		case <-l.ready:
			if l.err != nil || now().Sub(l.made) >= ttl {
				l = nil
			}
		default: // being made: wait for it
		}
	}
	mine := l == nil
	if mine {
		l = &listing{ready: make(chan struct{})}
		c.listings[k] = l
	}
	c.mu.Unlock()
	if mine {
		l.metrics, l.dims, l.err = c.list(ctx, k)
		l.made = now()
		close(l.ready)
	}
	select {
	case <-l.ready:
		return l
	case <-ctx.Done():
		return nil
	}
}

// list pages through ListMetrics of one namespace.
func (c *Catalog) list(ctx context.Context, k listingKey) (metrics, dims map[uint64]struct{}, err error) {
	api, err := c.Client(ctx, k.account, k.region)
	if err != nil {
		c.failed.Add(1)
		return nil, nil, err
	}
	metrics, dims = map[uint64]struct{}{}, map[uint64]struct{}{}
	in := &cloudwatch.ListMetricsInput{Namespace: aws.String(k.namespace)}
	var pair [][2]string
	for {
		c.calls.Add(1)
		out, err := api.ListMetrics(ctx, in)
		if err != nil {
			c.failed.Add(1)
			return nil, nil, fmt.Errorf("cloudwatch:ListMetrics of %s in %s/%s: %w", k.namespace, k.account, k.region, err)
		}
		for _, m := range out.Metrics {
			pair = pair[:0]
			for _, d := range m.Dimensions {
				pair = append(pair, [2]string{aws.ToString(d.Name), aws.ToString(d.Value)})
			}
			metrics[hashDims(aws.ToString(m.MetricName), pair)] = struct{}{}
			dims[hashDims("", pair)] = struct{}{}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return metrics, dims, nil
		}
		in.NextToken = out.NextToken
	}
}

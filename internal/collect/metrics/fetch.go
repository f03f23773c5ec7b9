package metrics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// API is the CloudWatch call a Fetcher makes: GetMetricData only (one call
// answers up to 500 metrics; GetMetricStatistics answers one).
type API interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// IAMActions are the IAM actions fetching metrics needs in a monitored
// account.
var IAMActions = []string{"cloudwatch:GetMetricData", "cloudwatch:ListMetrics"}

// MaxQueriesPerCall is GetMetricData's limit of metric queries per call.
const MaxQueriesPerCall = 500

// CostPerMetric is what CloudWatch charges per metric requested through
// GetMetricData (USD 0.01 per 1,000, us-east-1 list price).
const CostPerMetric = 0.01 / 1000

// Fetcher fetches metrics through GetMetricData: the queries of a request
// are grouped by account and region, deduplicated, and packed 500 to a
// call; calls run at most PerRegion at a time per account and region,
// whatever the number of requests in flight. Safe for concurrent use.
type Fetcher struct {
	// Client returns the CloudWatch client of an account and region.
	Client func(ctx context.Context, account, region string) (API, error)
	// PerRegion bounds the calls in flight per account and region; 0
	// means 2.
	PerRegion int
	// Catalog, when set, leaves out the queries of metrics CloudWatch does
	// not list for their component: they are answered Unlisted, without
	// being asked for or paid.
	Catalog *Catalog

	mu   sync.Mutex
	sems map[string]chan struct{}

	calls, metrics, datapoints, failed, splits atomic.Int64
}

// Stats count what a Fetcher asked of CloudWatch.
type Stats struct {
	Calls      int64 `json:"get_metric_data_calls"`
	Metrics    int64 `json:"metrics_requested"`
	Datapoints int64 `json:"datapoints"`
	Failed     int64 `json:"failed_calls"`
	// Splits are the failed calls asked again in halves to find the
	// query at fault.
	Splits  int64   `json:"split_calls"`
	CostUSD float64 `json:"estimated_cost_usd"`
	// CatalogStats are the Catalog's counts, zero without one.
	CatalogStats
}

// Stats returns the counts since the Fetcher was made, with the cost they
// are estimated to have had.
func (f *Fetcher) Stats() Stats {
	m := f.metrics.Load()
	s := Stats{Calls: f.calls.Load(), Metrics: m, Datapoints: f.datapoints.Load(), Failed: f.failed.Load(), Splits: f.splits.Load(),
		CostUSD: float64(m) * CostPerMetric}
	if f.Catalog != nil {
		s.CatalogStats = f.Catalog.Stats()
	}
	return s
}

// Series is the answer to one query: its datapoints, oldest first, or the
// error that kept them.
type Series struct {
	Query
	Period     int32       `json:"period"`
	Timestamps []time.Time `json:"timestamps"`
	Values     []float64   `json:"values"`
	// Error says why the series is missing or partial: the call failed
	// (AccessDenied...), or CloudWatch answered a status other than
	// Complete for it.
	Error string `json:"error,omitempty"`
	// Unlisted is true for a metric CloudWatch does not list for the
	// component (no data in the last two weeks): it was not asked for.
	Unlisted bool `json:"unlisted,omitempty"`
}

// Fetch asks for queries over [from, to) in steps of period seconds (at
// least each query's MinPeriod) and returns one series per query, in
// order (those the Catalog does not list marked Unlisted, not asked). A call that fails marks its series with the error; Fetch itself
// fails only when ctx ends.
func (f *Fetcher) Fetch(ctx context.Context, queries []Query, from, to time.Time, period int32) ([]Series, error) {
	out := make([]Series, len(queries))
	var listed []bool
	if f.Catalog != nil {
		var err error
		if listed, err = f.Catalog.Listed(ctx, queries); err != nil {
			return nil, err
		}
	}
	// Unique metrics per account and region, and where each query's
	// answer goes.
	type group struct {
		account, region string
		keys            []string
		uniq            []int // index in queries of each unique metric
	}
	groups := map[[2]string]*group{}
	var order [][2]string
	where := make(map[string][]int, len(queries))
	for i := range queries {
		q := &queries[i]
		out[i] = Series{Query: *q, Period: max(period, q.MinPeriod)}
		if listed != nil && !listed[i] {
			out[i].Unlisted = true
			continue
		}
		gk := [2]string{q.Account, q.Region}
		g := groups[gk]
		if g == nil {
			g = &group{account: q.Account, region: q.Region}
			groups[gk] = g
			order = append(order, gk)
		}
		k := gk[0] + "|" + gk[1] + "|" + q.Key() + "|" + strconv.Itoa(int(out[i].Period))
		if _, ok := where[k]; !ok {
			g.keys = append(g.keys, k)
			g.uniq = append(g.uniq, i)
		}
		where[k] = append(where[k], i)
	}
	eg, ctx := errgroup.WithContext(ctx)
	var resMu sync.Mutex
	for _, gk := range order {
		g := groups[gk]
		for start := 0; start < len(g.uniq); start += MaxQueriesPerCall {
			chunk := g.uniq[start:min(start+MaxQueriesPerCall, len(g.uniq))]
			keys := g.keys[start : start+len(chunk)]
			eg.Go(func() error {
				res, err := f.callSplit(ctx, g.account, g.region, queries, chunk, out, from, to, 0)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				resMu.Lock()
				defer resMu.Unlock()
				for j, k := range keys {
					for _, i := range where[k] {
						if err != nil {
							out[i].Error = err.Error()
							continue
						}
						out[i].Timestamps, out[i].Values, out[i].Error = res[j].ts, res[j].vs, res[j].err
					}
				}
				return nil
			})
		}
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// callSplit is call, but when a call of several queries fails in a way
// one bad query can cause (a server error, an invalid parameter), it asks
// again for parts of it, with one retry each, so that queries CloudWatch
// cannot answer do not take the others' answers with them: first halves
// of the metrics and statistics in the chunk, down to one (moto fails
// every percentile over datapoints), then halves of that one's queries,
// at most maxSplitDepth times; the queries of a part that still fails
// carry the error. Errors that hold for every query (access denied,
// throttling past the retries, a missing client) fail the chunk at once.
// The answers are in chunk's order.
func (f *Fetcher) callSplit(ctx context.Context, account, region string, queries []Query, chunk []int, series []Series,
	from, to time.Time, depth int, optFns ...func(*cloudwatch.Options)) ([]answer, error) {
	res, err := f.call(ctx, account, region, queries, chunk, series, from, to, optFns...)
	if err == nil || ctx.Err() != nil || !queryFault(err) {
		return res, err
	}
	var sigs []string
	for _, i := range chunk {
		if sig := signature(&queries[i]); !slices.Contains(sigs, sig) {
			sigs = append(sigs, sig)
		}
	}
	if len(chunk) == 1 || (len(sigs) == 1 && depth >= maxSplitDepth) {
		res = make([]answer, len(chunk))
		for j := range res {
			res[j].err = err.Error()
		}
		return res, nil
	}
	// The positions in chunk of each part.
	var parts [2][]int
	for j, i := range chunk {
		half := j >= len(chunk)/2
		if len(sigs) > 1 {
			half = slices.Index(sigs, signature(&queries[i])) >= len(sigs)/2
		} else if j == 0 {
			depth++
		}
		if half {
			parts[1] = append(parts[1], j)
		} else {
			parts[0] = append(parts[0], j)
		}
	}
	f.splits.Add(1)
	once := func(o *cloudwatch.Options) { o.RetryMaxAttempts = 2 }
	res = make([]answer, len(chunk))
	for _, pos := range parts {
		sub := make([]int, len(pos))
		for k, j := range pos {
			sub[k] = chunk[j]
		}
		got, err := f.callSplit(ctx, account, region, queries, sub, series, from, to, depth, once)
		if err != nil {
			return nil, err
		}
		for k, j := range pos {
			res[j] = got[k]
		}
	}
	return res, nil
}

// maxSplitDepth bounds the halvings of the queries of one metric and
// statistic: a failing call of 500 is asked again in at most about 40
// calls.
const maxSplitDepth = 3

// signature is a query's namespace, metric and statistic.
func signature(q *Query) string { return q.Namespace + "|" + q.Name + "|" + q.Stat }

// queryFault tells an error one query of a call may have caused: an HTTP
// 5xx (moto answers 500 to a percentile statistic over datapoints) or a
// parameter CloudWatch refused.
func queryFault(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidParameterValue", "InvalidParameterCombination", "ValidationError", "MissingParameter":
			return true
		}
	}
	return false
}

// answer is the datapoints of one query of a call.
type answer struct {
	ts  []time.Time
	vs  []float64
	err string
}

// call asks for the queries chunk (indices in queries, at most 500, of
// one account and region) in one GetMetricData call and its next pages.
func (f *Fetcher) call(ctx context.Context, account, region string, queries []Query, chunk []int, series []Series,
	from, to time.Time, optFns ...func(*cloudwatch.Options)) ([]answer, error) {
	api, err := f.Client(ctx, account, region)
	if err != nil {
		return nil, err
	}
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(from), EndTime: aws.Time(to), ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: make([]types.MetricDataQuery, len(chunk))}
	for j, i := range chunk {
		q := &queries[i]
		dims := make([]types.Dimension, len(q.Dimensions))
		for k, d := range q.Dimensions {
			dims[k] = types.Dimension{Name: aws.String(d[0]), Value: aws.String(d[1])}
		}
		in.MetricDataQueries[j] = types.MetricDataQuery{Id: aws.String("m" + strconv.Itoa(j)), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String(q.Namespace), MetricName: aws.String(q.Name), Dimensions: dims},
			Period: aws.Int32(series[i].Period), Stat: aws.String(q.Stat)}}
	}
	sem := f.sem(account, region)
	res := make([]answer, len(chunk))
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		f.calls.Add(1)
		if in.NextToken == nil {
			f.metrics.Add(int64(len(chunk)))
		}
		outp, err := api.GetMetricData(ctx, in, optFns...)
		<-sem
		if err != nil {
			f.failed.Add(1)
			return nil, fmt.Errorf("cloudwatch:GetMetricData in %s/%s: %w", account, region, err)
		}
		for _, r := range outp.MetricDataResults {
			j, err := strconv.Atoi(aws.ToString(r.Id)[1:])
			if err != nil || j < 0 || j >= len(res) {
				return nil, fmt.Errorf("cloudwatch:GetMetricData in %s/%s: an answer for unknown query id %q", account, region, aws.ToString(r.Id))
			}
			if len(r.Timestamps) != len(r.Values) {
				return nil, fmt.Errorf("cloudwatch:GetMetricData in %s/%s: %d timestamps for %d values", account, region, len(r.Timestamps), len(r.Values))
			}
			a := &res[j]
			a.ts = append(a.ts, r.Timestamps...)
			a.vs = append(a.vs, r.Values...)
			f.datapoints.Add(int64(len(r.Values)))
			if r.StatusCode != types.StatusCodeComplete && r.StatusCode != "" && outp.NextToken == nil {
				a.err = "CloudWatch answered " + string(r.StatusCode)
			}
			for _, m := range r.Messages {
				msg := aws.ToString(m.Code) + ": " + aws.ToString(m.Value)
				if a.err != "" {
					msg = a.err + "; " + msg
				}
				a.err = msg
			}
		}
		if outp.NextToken == nil {
			break
		}
		in.NextToken = outp.NextToken
	}
	for j := range res {
		sortPoints(&res[j])
	}
	return res, nil
}

// sortPoints orders an answer's points by time (pages may interleave).
func sortPoints(a *answer) {
	if slices.IsSortedFunc(a.ts, func(x, y time.Time) int { return x.Compare(y) }) {
		return
	}
	idx := make([]int, len(a.ts))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return a.ts[x].Compare(a.ts[y]) })
	ts, vs := make([]time.Time, len(idx)), make([]float64, len(idx))
	for k, i := range idx {
		ts[k], vs[k] = a.ts[i], a.vs[i]
	}
	a.ts, a.vs = ts, vs
}

// sem returns the semaphore of an account and region.
func (f *Fetcher) sem(account, region string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sems == nil {
		f.sems = map[string]chan struct{}{}
	}
	k := account + "/" + region
	s := f.sems[k]
	if s == nil {
		n := f.PerRegion
		if n <= 0 {
			n = 2
		}
		s = make(chan struct{}, n)
		f.sems[k] = s
	}
	return s
}

package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// fakeCW answers GetMetricData with one point per query whose value is
// the query's Period, in pages of pageSize results; it counts calls,
// checks the 500 limit and records the calls in flight.
type fakeCW struct {
	pageSize int
	deny     bool
	delay    time.Duration
	// failName fails a whole call with an HTTP 500 when one of its
	// queries asks for this metric, as moto does for a percentile.
	failName string

	calls, inFlight, maxInFlight atomic.Int64
	mu                           sync.Mutex
	pages                        map[string]int // by first query id and token
}

func (f *fakeCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.calls.Add(1)
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(f.delay)
	if len(in.MetricDataQueries) > MaxQueriesPerCall {
		return nil, fmt.Errorf("%d queries in one call", len(in.MetricDataQueries))
	}
	if f.deny {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform cloudwatch:GetMetricData"}
	}
	for _, q := range in.MetricDataQueries {
		if f.failName != "" && aws.ToString(q.MetricStat.Metric.MetricName) == f.failName {
			return nil, &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}}, Err: errors.New("deserialization failed")}}
		}
	}
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	size := f.pageSize
	if size == 0 {
		size = len(in.MetricDataQueries)
	}
	out := &cloudwatch.GetMetricDataOutput{}
	end := min(start+size, len(in.MetricDataQueries))
	for _, q := range in.MetricDataQueries[start:end] {
		out.MetricDataResults = append(out.MetricDataResults, types.MetricDataResult{Id: q.Id, StatusCode: types.StatusCodeComplete,
			Timestamps: []time.Time{in.StartTime.Add(time.Minute)}, Values: []float64{float64(*q.MetricStat.Period)}})
	}
	if end < len(in.MetricDataQueries) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func instanceQueries(account, region string, n int) []Query {
	var qs []Query
	for i := 0; len(qs) < n; i++ {
		for _, m := range SetFor("aws.ec2.instance").Metrics {
			if len(qs) == n {
				break
			}
			qs = append(qs, Query{Component: fmt.Sprintf("i-%d", i), Account: account, Region: region, Namespace: "AWS/EC2",
				Name: m.Name, Stat: m.Stat, Dimensions: [][2]string{{"InstanceId", fmt.Sprintf("i-%d", i)}}})
		}
	}
	return qs
}

func TestFetchPacks(t *testing.T) {
	fake := &fakeCW{delay: time.Millisecond}
	var clients atomic.Int64
	f := &Fetcher{Client: func(_ context.Context, account, region string) (API, error) {
		clients.Add(1)
		return fake, nil
	}}
	qs := append(instanceQueries("111111111111", "eu-west-1", 1234), instanceQueries("222222222222", "us-east-1", 501)...)
	// A duplicate of the first: asked once, answered twice.
	qs = append(qs, qs[0])
	from := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	series, err := f.Fetch(context.Background(), qs, from, from.Add(time.Hour), 300)
	if err != nil {
		t.Fatal(err)
	}
	// ceil(1234/500) + ceil(501/500) calls.
	if got := fake.calls.Load(); got != 3+2 {
		t.Errorf("%d calls, want 5", got)
	}
	if st := f.Stats(); st.Metrics != 1234+501 || st.Calls != 5 || st.Datapoints != 1234+501 || st.CostUSD != float64(1735)*CostPerMetric {
		t.Errorf("stats %+v", st)
	}
	if len(series) != len(qs) {
		t.Fatalf("%d series for %d queries", len(series), len(qs))
	}
	for i, s := range series {
		if s.Query.Key() != qs[i].Key() || s.Error != "" || len(s.Values) != 1 || s.Values[0] != 300 || s.Period != 300 {
			t.Fatalf("series %d: %+v", i, s)
		}
	}
	if m := fake.maxInFlight.Load(); m > 2*2 {
		t.Errorf("%d calls in flight, want at most 2 per account-region", m)
	}
}

func TestFetchPagesAndMinPeriod(t *testing.T) {
	fake := &fakeCW{pageSize: 7}
	f := &Fetcher{Client: func(context.Context, string, string) (API, error) { return fake, nil }}
	qs := instanceQueries("111111111111", "eu-west-1", 20)
	qs[3].MinPeriod = 86400
	from := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	series, err := f.Fetch(context.Background(), qs, from, from.Add(time.Hour), 60)
	if err != nil {
		t.Fatal(err)
	}
	if fake.calls.Load() != 3 {
		t.Errorf("%d calls for 20 results in pages of 7", fake.calls.Load())
	}
	for i, s := range series {
		want := 60.0
		if i == 3 {
			want = 86400
		}
		if len(s.Values) != 1 || s.Values[0] != want {
			t.Errorf("series %d: %v, want [%v]", i, s.Values, want)
		}
	}
	if st := f.Stats(); st.Metrics != 20 || st.Calls != 3 {
		t.Errorf("stats %+v: pages are calls, not metrics", st)
	}
}

// A denied account-region marks its series; the others are answered.
func TestFetchDenied(t *testing.T) {
	ok, denied := &fakeCW{}, &fakeCW{deny: true}
	f := &Fetcher{Client: func(_ context.Context, account, _ string) (API, error) {
		if account == "222222222222" {
			return denied, nil
		}
		if account == "333333333333" {
			return nil, errors.New("assume role: AccessDenied")
		}
		return ok, nil
	}}
	qs := append(instanceQueries("111111111111", "eu-west-1", 3), instanceQueries("222222222222", "eu-west-1", 3)...)
	qs = append(qs, instanceQueries("333333333333", "eu-west-1", 1)...)
	from := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	series, err := f.Fetch(context.Background(), qs, from, from.Add(time.Hour), 60)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range series {
		switch {
		case i < 3 && (s.Error != "" || len(s.Values) != 1):
			t.Errorf("series %d of the allowed account: %+v", i, s)
		case i >= 3 && i < 6 && (s.Error == "" || len(s.Values) != 0):
			t.Errorf("series %d of the denied account: %+v", i, s)
		case i == 6 && s.Error != "assume role: AccessDenied":
			t.Errorf("series of the unreachable account: %+v", s)
		}
	}
	if want := "cloudwatch:GetMetricData in 222222222222/eu-west-1: api error AccessDenied: not authorized to perform cloudwatch:GetMetricData"; series[3].Error != want {
		t.Errorf("error %q, want %q", series[3].Error, want)
	}
	if st := f.Stats(); st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
}

// BenchmarkPacking fetches 10,000 metrics of one account and region (1,250
// instances' default sets) and reports metrics per GetMetricData call and
// the cost of one refresh.
func BenchmarkPacking(b *testing.B) {
	fake := &fakeCW{}
	f := &Fetcher{Client: func(context.Context, string, string) (API, error) { return fake, nil }}
	qs := instanceQueries("111111111111", "eu-west-1", 10_000)
	from := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := f.Fetch(context.Background(), qs, from, from.Add(time.Hour), 60); err != nil {
			b.Fatal(err)
		}
	}
	st := f.Stats()
	b.ReportMetric(float64(st.Metrics)/float64(st.Calls), "metrics/call")
	b.ReportMetric(float64(st.Calls)/float64(b.N), "calls/refresh")
	b.ReportMetric(st.CostUSD/float64(b.N), "usd/refresh")
}

func TestPromName(t *testing.T) {
	for _, tt := range []struct{ ns, name, stat, want string }{
		{"AWS/EC2", "CPUUtilization", "Average", "aws_ec2_cpuutilization_average"},
		{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "aws_sqs_approximate_number_of_messages_visible_maximum"},
		{"AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "Maximum", "aws_kinesis_get_records_iterator_age_milliseconds_maximum"},
		{"AWS/ApiGateway", "4XXError", "Sum", "aws_apigateway_4xxerror_sum"},
		{"AWS/Lambda", "Duration", "p99", "aws_lambda_duration_p99"},
		{"ContainerInsights", "node_cpu_utilization", "Average", "aws_containerinsights_node_cpu_utilization_average"},
	} {
		if got := PromName(tt.ns, tt.name, tt.stat); got != tt.want {
			t.Errorf("PromName(%s, %s, %s) = %s, want %s", tt.ns, tt.name, tt.stat, got, tt.want)
		}
	}
	if got := PromLabel("tag_", "aws:cloudformation:stack-name"); got != "tag_aws_cloudformation_stack_name" {
		t.Errorf("PromLabel = %s", got)
	}
}

// A call failed by one query's server error is asked again in halves:
// that query carries the error, every other one its answer.
func TestFetchSplitsAroundAFaultyQuery(t *testing.T) {
	fake := &fakeCW{failName: "StatusCheckFailed_System"}
	f := &Fetcher{Client: func(context.Context, string, string) (API, error) { return fake, nil }}
	qs := instanceQueries("111111111111", "eu-west-1", 100) // 12 instances' sets of 8 and 4 of the 13th's
	from := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	series, err := f.Fetch(context.Background(), qs, from, from.Add(time.Hour), 60)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, s := range series {
		switch {
		case s.Name == "StatusCheckFailed_System":
			failed++
			if s.Error == "" || !strings.Contains(s.Error, "500") || len(s.Values) != 0 {
				t.Errorf("%s %s: %+v", s.Component, s.Name, s)
			}
		case s.Error != "" || len(s.Values) != 1:
			t.Errorf("%s %s lost its answer to another query's fault: %+v", s.Component, s.Name, s)
		}
	}
	if failed != 12 {
		t.Errorf("%d faulty series, want 12", failed)
	}
	// Bounded: the 8 metrics halved down to the faulty one (7 calls), then
	// its 12 queries at most 3 times (15 calls).
	if st := f.Stats(); st.Splits == 0 || st.Calls > 1+6+15 {
		t.Errorf("stats %+v", st)
	}
	fake.deny = true
	fake.calls.Store(0)
	series, _ = f.Fetch(context.Background(), qs, from.Add(time.Hour), from.Add(2*time.Hour), 60)
	if fake.calls.Load() != 1 || !strings.Contains(series[0].Error, "AccessDenied") {
		t.Errorf("a denied call was split: %d calls, %+v", fake.calls.Load(), series[0])
	}
}

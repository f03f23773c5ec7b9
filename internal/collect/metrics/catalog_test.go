package metrics

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/model"
)

// fakeList lists its metrics in pages of two, counting calls.
type fakeList struct {
	metrics []types.Metric
	deny    atomic.Bool
	calls   atomic.Int64
}

func (f *fakeList) ListMetrics(_ context.Context, in *cloudwatch.ListMetricsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error) {
	f.calls.Add(1)
	if f.deny.Load() {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform cloudwatch:ListMetrics"}
	}
	var ms []types.Metric
	for _, m := range f.metrics {
		if aws.ToString(m.Namespace) == aws.ToString(in.Namespace) {
			ms = append(ms, m)
		}
	}
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	out := &cloudwatch.ListMetricsOutput{Metrics: ms[start:min(start+2, len(ms))]}
	if start+2 < len(ms) {
		out.NextToken = aws.String(strconv.Itoa(start + 2))
	}
	return out, nil
}

func listed(namespace, name string, dims ...[2]string) types.Metric {
	m := types.Metric{Namespace: aws.String(namespace), MetricName: aws.String(name)}
	for _, d := range dims {
		m.Dimensions = append(m.Dimensions, types.Dimension{Name: aws.String(d[0]), Value: aws.String(d[1])})
	}
	return m
}

func ec2Queries(t *testing.T, ids ...string) []Query {
	t.Helper()
	var out []Query
	for _, id := range ids {
		c := model.Component{ID: "arn:aws:ec2:eu-west-1:123456789012:instance/" + id, Type: "aws.ec2.instance",
			Account: "123456789012", Region: "eu-west-1", Data: map[string]any{"InstanceId": id}}
		qs, err := Queries(&c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, qs...)
	}
	return out
}

// A metric the listing knows the component of, but not the metric, is
// left out; a component the listing does not know is asked for whole;
// pages are followed; the listing is made once per TTL.
func TestCatalogLeavesOutUnlisted(t *testing.T) {
	inst := [2]string{"InstanceId", "i-1"}
	fl := &fakeList{metrics: []types.Metric{
		listed("AWS/EC2", "CPUUtilization", inst),
		listed("AWS/EC2", "NetworkIn", inst),
		listed("AWS/EC2", "NetworkOut", inst),
		listed("AWS/EC2", "CPUUtilization", [2]string{"InstanceId", "i-other"}),
		listed("AWS/EC2", "CPUUtilization", [2]string{"AutoScalingGroupName", "asg"}),
	}}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := &Catalog{Client: func(context.Context, string, string) (ListAPI, error) { return fl, nil }, Now: func() time.Time { return now }}
	qs := ec2Queries(t, "i-1", "i-new")
	keep, err := c.Listed(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range qs {
		want := q.Dimensions[0][1] == "i-new" || q.Name == "CPUUtilization" || q.Name == "NetworkIn" || q.Name == "NetworkOut"
		if keep[i] != want {
			t.Errorf("%s %s: keep %v, want %v", q.Dimensions[0][1], q.Name, keep[i], want)
		}
	}
	if got := fl.calls.Load(); got != 3 {
		t.Errorf("%d ListMetrics calls for 5 metrics in pages of 2, want 3", got)
	}
	set := SetFor("aws.ec2.instance")
	if s := c.Stats(); s.Skipped != int64(len(set.Metrics)-3) || s.Calls != 3 {
		t.Errorf("stats %+v", s)
	}
	if _, err := c.Listed(context.Background(), qs); err != nil {
		t.Fatal(err)
	}
	if got := fl.calls.Load(); got != 3 {
		t.Errorf("listing made again within its TTL: %d calls", got)
	}
	now = now.Add(time.Hour)
	if _, err := c.Listed(context.Background(), qs); err != nil {
		t.Fatal(err)
	}
	if got := fl.calls.Load(); got != 6 {
		t.Errorf("listing not made again after its TTL: %d calls", got)
	}
}

// A listing that fails keeps every query and is made again next time.
func TestCatalogFailureKeepsAll(t *testing.T) {
	fl := &fakeList{metrics: []types.Metric{listed("AWS/EC2", "CPUUtilization", [2]string{"InstanceId", "i-1"})}}
	fl.deny.Store(true)
	c := &Catalog{Client: func(context.Context, string, string) (ListAPI, error) { return fl, nil }}
	qs := ec2Queries(t, "i-1")
	keep, err := c.Listed(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keep {
		if !k {
			t.Errorf("%s left out after a failed listing", qs[i].Name)
		}
	}
	if s := c.Stats(); s.Failed != 1 {
		t.Errorf("stats %+v", s)
	}
	fl.deny.Store(false)
	if keep, _ = c.Listed(context.Background(), qs); keep[1] {
		t.Errorf("NetworkIn kept once the listing succeeded: %v", keep)
	}
}

// Through moto: only the metric put is asked for, the others of the
// instance's set answer Unlisted, and the fetched value is the one put.
func TestFetcherCatalogMoto(t *testing.T) {
	m := awstest.StartT(t)
	ctx := context.Background()
	cfg, err := m.Config(ctx, "eu-west-1", "")
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(cfg)
	now := time.Now().UTC().Truncate(time.Minute)
	if _, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: []types.MetricDatum{{
		MetricName: aws.String("CPUUtilization"), Dimensions: []types.Dimension{{Name: aws.String("InstanceId"), Value: aws.String("i-1")}},
		Timestamp: aws.Time(now.Add(-2 * time.Minute)), Value: aws.Float64(37.5)}}}); err != nil {
		t.Fatal(err)
	}
	f := &Fetcher{Client: func(context.Context, string, string) (API, error) { return c, nil },
		Catalog: &Catalog{Client: func(context.Context, string, string) (ListAPI, error) { return c, nil }}}
	qs := ec2Queries(t, "i-1")
	series, err := f.Fetch(ctx, qs, now.Add(-time.Hour), now.Add(time.Minute), 60)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range series {
		switch {
		case s.Name == "CPUUtilization":
			if s.Unlisted || len(s.Values) != 1 || s.Values[0] != 37.5 || s.Error != "" {
				t.Errorf("CPUUtilization: %+v", s)
			}
		case !s.Unlisted || len(s.Values) != 0:
			t.Errorf("%s: asked for, or answered, though moto lists no such metric: %+v", s.Name, s)
		}
	}
	if st := f.Stats(); st.Metrics != 1 || st.Calls != 1 || st.CatalogStats.Calls != 1 || st.Skipped != int64(len(qs)-1) {
		t.Errorf("stats %+v", st)
	}
}

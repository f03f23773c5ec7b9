package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

// pointsCW is a fake CloudWatch holding the points of one metric (any
// dimensions), answered for [StartTime, EndTime) in one page; every other
// metric has none.
type pointsCW struct {
	metric string
	points map[time.Time]float64
}

func (p *pointsCW) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		r := types.MetricDataResult{Id: q.Id, StatusCode: types.StatusCodeComplete}
		if aws.ToString(q.MetricStat.Metric.MetricName) == p.metric {
			for at, v := range p.points {
				if !at.Before(*in.StartTime) && at.Before(*in.EndTime) {
					r.Timestamps = append(r.Timestamps, at)
					r.Values = append(r.Values, v)
				}
			}
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

// OnPoints is given every datapoint a refresh fetched once, with its own
// time and value, though refreshes every minute ask for overlapping
// 5-minute windows; a value CloudWatch revised is given again.
func TestRefresherOnPoints(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	cw := &pointsCW{metric: "CPUUtilization", points: map[time.Time]float64{}}
	for i := -10; i <= 2; i++ {
		cw.points[t0.Add(time.Duration(i)*time.Minute)] = float64(100 + i)
	}
	inst := model.Component{ID: "i-1", Type: "aws.ec2.instance", Account: "123456789012", Region: "eu-west-1",
		Labels: []string{"Name:web"}, Data: map[string]any{"InstanceId": "i-1"}}
	now := t0.Add(30 * time.Second)
	type point struct {
		Component, Name string
		Minute          int
		Value           float64
	}
	var got []point
	r := &Refresher{Fetcher: &Fetcher{Client: func(context.Context, string, string) (API, error) { return cw, nil }},
		Components: func() []model.Component { return []model.Component{inst} }, Types: []string{"aws.ec2.instance"},
		Interval: time.Minute, Now: func() time.Time { return now },
		OnPoints: func(ps []Sample) {
			for _, p := range ps {
				if p.Labels[0] != "Name:web" || p.Account != "123456789012" {
					t.Errorf("point %+v", p)
				}
				got = append(got, point{p.Component, p.Name, int(p.Time.Sub(t0) / time.Minute), p.Value})
			}
		}}
	r.Refresh(context.Background()) // [t0-5m, t0)
	now = now.Add(time.Minute)
	r.Refresh(context.Background()) // [t0-4m, t0+1m): t0 is new
	cw.points[t0.Add(-2*time.Minute)] = 42
	now = now.Add(time.Minute)
	r.Refresh(context.Background()) // [t0-3m, t0+2m): t0+1m is new, t0-2m revised
	want := []point{
		{"i-1", "CPUUtilization", -5, 95}, {"i-1", "CPUUtilization", -4, 96}, {"i-1", "CPUUtilization", -3, 97},
		{"i-1", "CPUUtilization", -2, 98}, {"i-1", "CPUUtilization", -1, 99},
		{"i-1", "CPUUtilization", 0, 100},
		{"i-1", "CPUUtilization", -2, 42}, {"i-1", "CPUUtilization", 1, 101},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("points given (-want +got):\n%s", diff)
	}
	if s := r.Samples(); len(s) != 1 || s[0].Value != 101 {
		t.Errorf("samples %+v, want the newest point only", s)
	}
}

// OTLPName is PromName with dots between namespace, metric and statistic.
func TestOTLPName(t *testing.T) {
	for _, tt := range []struct{ ns, name, stat, want string }{
		{"AWS/EC2", "CPUUtilization", "Average", "aws.ec2.cpuutilization.average"},
		{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "aws.sqs.approximate_number_of_messages_visible.maximum"},
		{"AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "Maximum", "aws.kinesis.get_records_iterator_age_milliseconds.maximum"},
		{"AWS/Lambda", "Duration", "p99", "aws.lambda.duration.p99"},
		{"My/App", "queue.depth", "Sum", "aws.my_app.queue_depth.sum"},
	} {
		got := OTLPName(tt.ns, tt.name, tt.stat)
		if got != tt.want {
			t.Errorf("OTLPName(%s, %s, %s) = %s, want %s", tt.ns, tt.name, tt.stat, got, tt.want)
		}
		if prom := PromName(tt.ns, tt.name, tt.stat); strings.ReplaceAll(got, ".", "_") != prom {
			t.Errorf("OTLPName(%s, %s, %s) = %s, which Prometheus would not call %s", tt.ns, tt.name, tt.stat, got, prom)
		}
	}
}

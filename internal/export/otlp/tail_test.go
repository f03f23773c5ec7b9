package otlp

import (
	"context"
	"github.com/skymap/skymap/internal/export/otlp/otlptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/store/storetest"
)

// oneGroup is a fake CloudWatch Logs of one log group, answering
// FilterLogEvents within [StartTime, EndTime] in one page.
type oneGroup struct {
	mu     sync.Mutex
	events []types.FilteredLogEvent
}

func (g *oneGroup) add(id string, at time.Time, msg string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events = append(g.events, types.FilteredLogEvent{EventId: aws.String(id), Timestamp: aws.Int64(at.UnixMilli()),
		IngestionTime: aws.Int64(at.UnixMilli()), LogStreamName: aws.String("s1"), Message: aws.String(msg)})
}

func (g *oneGroup) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := &cloudwatchlogs.FilterLogEventsOutput{}
	for _, e := range g.events {
		if ts := aws.ToInt64(e.Timestamp); ts >= aws.ToInt64(in.StartTime) && ts <= aws.ToInt64(in.EndTime) {
			out.Events = append(out.Events, e)
		}
	}
	return out, nil
}

func (g *oneGroup) DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	return &cloudwatchlogs.DescribeLogGroupsOutput{}, nil
}

// The logs tail and the exporter together: every new event is exported
// once, and a restart on the same state (a new tail and exporter) sends
// none again, though the tail's overlap reads them again.
func TestTailExportAcrossRestart(t *testing.T) {
	rc := otlptest.NewReceiver(t)
	api := &oneGroup{}
	api.add("old", t0.Add(-time.Hour), "before skymap")
	state := &storetest.MemState{}
	now := t0
	run := func(polls func(tail *logs.Tail)) {
		e := New(Options{LogsURL: rc.URL + "/v1/logs", Component: lookup, Linger: time.Millisecond})
		stop := start(t, e)
		tail := &logs.Tail{Client: func(context.Context, string, string) (logs.API, error) { return api, nil }, State: state,
			Targets: func() []logs.Target {
				return []logs.Target{{Component: function.ID, Group: logs.Group{Account: "123456789012", Region: "eu-west-1", Name: "/aws/lambda/api"}}}
			},
			Now: func() time.Time { return now }, OnEvents: e.ExportEvents}
		polls(tail)
		stop() // sends what is queued
	}
	run(func(tail *logs.Tail) {
		tail.Poll(context.Background())
		api.add("e1", t0.Add(time.Second), "line 1")
		api.add("e2", t0.Add(2*time.Second), "line 2")
		now = t0.Add(time.Minute)
		tail.Poll(context.Background())
		tail.Poll(context.Background())
	})
	run(func(tail *logs.Tail) {
		tail.Poll(context.Background())
		api.add("e3", t0.Add(70*time.Second), "line 3")
		now = t0.Add(2 * time.Minute)
		tail.Poll(context.Background())
	})
	var got []string
	for _, r := range rc.Records() {
		got = append(got, r.Body+" @"+r.Time.Sub(t0).String()+" "+r.Attrs["aws.log.group.names"]+" "+r.Resource["skymap.component.id"])
	}
	want := []string{
		"line 1 @1s [/aws/lambda/api] " + function.ID,
		"line 2 @2s [/aws/lambda/api] " + function.ID,
		"line 3 @1m10s [/aws/lambda/api] " + function.ID,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records received (-want +got):\n%s", diff)
	}
}

package logs

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/store/storetest"
)

// groupLogs is a fake CloudWatch Logs: groups of events (in timestamp
// order), answered two to a page within [StartTime, EndTime].
type groupLogs struct {
	mu     sync.Mutex
	events map[string][]types.FilteredLogEvent
	denied map[string]bool
	calls  map[string]int
}

func (g *groupLogs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	name := aws.ToString(in.LogGroupName)
	g.calls[name]++
	if g.denied[name] {
		return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: logs:FilterLogEvents"}
	}
	all, ok := g.events[name]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("The specified log group does not exist.")}
	}
	var match []types.FilteredLogEvent
	for _, e := range all {
		if ts := aws.ToInt64(e.Timestamp); ts >= aws.ToInt64(in.StartTime) && ts <= aws.ToInt64(in.EndTime) {
			match = append(match, e)
		}
	}
	start, _ := strconv.Atoi(aws.ToString(in.NextToken))
	end := min(start+2, len(match))
	out := &cloudwatchlogs.FilterLogEventsOutput{Events: match[start:end]}
	if end < len(match) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (g *groupLogs) DescribeLogGroups(_ context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	out := &cloudwatchlogs.DescribeLogGroupsOutput{}
	for name := range g.events {
		if strings.HasPrefix(name, aws.ToString(in.LogGroupNamePrefix)) {
			out.LogGroups = append(out.LogGroups, types.LogGroup{LogGroupName: aws.String(name)})
		}
	}
	return out, nil
}

func (g *groupLogs) add(group string, id string, at time.Time, msg string) {
	g.events[group] = append(g.events[group], types.FilteredLogEvent{EventId: aws.String(id), Timestamp: aws.Int64(at.UnixMilli()),
		IngestionTime: aws.Int64(at.UnixMilli()), LogStreamName: aws.String("s"), Message: aws.String(msg)})
}

// The tail reads new events only, resumes from its persisted cursor after
// a restart, takes events ingested late within the overlap, keeps the last
// events per component (a group of two components read once for both), and counts a denied group without stopping the others.
func TestTail(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	now := t0
	api := &groupLogs{events: map[string][]types.FilteredLogEvent{"/fn": nil, "/rds/a/error": nil}, denied: map[string]bool{"/secret": true},
		calls: map[string]int{}}
	api.add("/fn", "old", t0.Add(-time.Hour), "before skymap")
	st := &storetest.MemState{}
	g := func(name string, prefix bool) Group {
		return Group{Account: "123456789012", Region: "eu-west-1", Name: name, Prefix: prefix}
	}
	targets := []Target{{"fn", g("/fn", false)}, {"db", g("/rds/a/", true)}, {"fn", g("/secret", false)}, {"gone", g("/never", false)}, {"fn-too", g("/f", true)}}
	newTail := func() *Tail {
		return &Tail{Client: func(context.Context, string, string) (API, error) { return api, nil }, State: st,
			Targets: func() []Target { return targets }, Keep: 3, Now: func() time.Time { return now }}
	}
	tail := newTail()
	tail.Poll(context.Background())
	if r := tail.Recent("fn"); len(r) != 0 {
		t.Errorf("first poll read history: %+v", r)
	}
	for i := range 5 {
		api.add("/fn", "e"+strconv.Itoa(i), t0.Add(time.Duration(i+1)*time.Second), "line "+strconv.Itoa(i))
	}
	api.add("/rds/a/error", "r1", t0.Add(2*time.Second), "rds \xff")
	now = t0.Add(time.Minute)
	tail.Poll(context.Background())
	msgs := func(evs []Event) string {
		var s []string
		for _, e := range evs {
			s = append(s, e.Message)
		}
		return strings.Join(s, ",")
	}
	if got := msgs(tail.Recent("fn")); got != "line 2,line 3,line 4" {
		t.Errorf("fn's last 3: %s", got)
	}
	if got := msgs(tail.Recent("fn-too")); got != "line 2,line 3,line 4" {
		t.Errorf("a second component of fn's group: %s", got)
	}
	if r := tail.Recent("db"); len(r) != 1 || !r[0].InvalidUTF8 || r[0].Group != "/rds/a/error" {
		t.Errorf("db: %+v", r)
	}
	sts := tail.Statuses()
	if len(sts) != 1 || sts[0].Events != 6 || sts[0].Errors != 2 || sts[0].Missing != 1 || sts[0].Groups != 4 ||
		!strings.Contains(sts[0].LastError, "logs:FilterLogEvents on log group /secret in 123456789012/eu-west-1") {
		t.Errorf("status %+v", sts)
	}

	// A restart: the cursor is in the state; an event ingested late (its
	// timestamp before the newest read, within the overlap) is taken, none
	// twice.
	api.add("/fn", "late", t0.Add(3*time.Second), "late line")
	api.add("/fn", "e5", t0.Add(70*time.Second), "line 5")
	api.add("/fn", "future", t0.Add(time.Hour), "a clock ahead")
	now = t0.Add(2 * time.Minute)
	tail = newTail()
	tail.Poll(context.Background())
	if got := msgs(tail.Recent("fn")); got != "late line,line 5" {
		t.Errorf("after restart: %s", got)
	}
	// An event stamped ahead of the clock is not read before its time
	// (reads end now), so it cannot move the cursor past events to come.
	api.add("/fn", "e6", t0.Add(125*time.Second), "line 6")
	calls := api.calls["/never"]
	now = t0.Add(3 * time.Minute)
	tail.Poll(context.Background())
	if got := msgs(tail.Recent("fn")); got != "late line,line 5,line 6" || api.calls["/never"] != calls {
		t.Errorf("poll without news: %s; the missing group asked again", got)
	}
}

// With a call budget smaller than a poll needs, a poll reads what the
// budget allows in each account and region, counts the groups it left,
// and the next polls read those first: every event is read once, none
// lost, and no region's budget is spent by another's.
func TestTailBudget(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	now := t0
	api := &groupLogs{events: map[string][]types.FilteredLogEvent{}, calls: map[string]int{}}
	var targets []Target
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		for i := range 5 {
			name := "/" + region + "/g" + strconv.Itoa(i)
			api.events[name] = nil
			targets = append(targets, Target{Component: name, Group: Group{Account: "123456789012", Region: region, Name: name}})
		}
	}
	tail := &Tail{Client: func(context.Context, string, string) (API, error) { return api, nil }, State: &storetest.MemState{},
		Targets: func() []Target { return targets }, Now: func() time.Time { return now }, CallsPerPoll: 4}
	tail.Poll(context.Background()) // cursors of the groups read start now
	for range 10 {
		tail.Poll(context.Background())
	}
	api.mu.Lock()
	for name := range api.events {
		for k := range 3 { // 3 events: 2 pages
			api.add(name, name+"#"+strconv.Itoa(k), now.Add(time.Duration(k+1)*time.Second), "line")
		}
	}
	api.mu.Unlock()
	now = now.Add(time.Minute)
	api.calls = map[string]int{}
	tail.Poll(context.Background())
	st := tail.Statuses()
	if len(st) != 2 {
		t.Fatalf("statuses %+v", st)
	}
	for _, s := range st {
		// 4 calls: two groups of 2 pages; three left.
		if s.Events != 6 || s.Deferred != 3 {
			t.Errorf("%s after the first poll: %d events read, %d groups deferred; want 6 and 3", s.Region, s.Events, s.Deferred)
		}
	}
	for range 3 {
		tail.Poll(context.Background())
	}
	for _, c := range targets {
		if got := tail.Recent(c.Component); len(got) != 3 {
			t.Errorf("%s: %d events kept, want its 3", c.Component, len(got))
		}
	}
	for _, s := range tail.Statuses() {
		if s.Events != 15 {
			t.Errorf("%s at the end: %d events read, want 15", s.Region, s.Events)
		}
	}
}

// OnEvents is given each new event once per component of its group:
// nothing of the history before the first poll, nothing again on a poll
// without news, and nothing again after a restart on the same state, even
// for events the overlap reads twice.
func TestTailOnEvents(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	now := t0
	api := &groupLogs{events: map[string][]types.FilteredLogEvent{"/fn": nil}, calls: map[string]int{}}
	api.add("/fn", "old", t0.Add(-time.Hour), "before skymap")
	st := &storetest.MemState{}
	targets := []Target{{"fn", Group{Account: "123456789012", Region: "eu-west-1", Name: "/fn"}},
		{"fn-too", Group{Account: "123456789012", Region: "eu-west-1", Name: "/fn"}}}
	given := map[string][]string{} // component -> messages, in the order given
	newTail := func() *Tail {
		return &Tail{Client: func(context.Context, string, string) (API, error) { return api, nil }, State: st,
			Targets: func() []Target { return targets }, Now: func() time.Time { return now },
			OnEvents: func(c string, evs []Event) {
				for _, e := range evs {
					given[c] = append(given[c], e.Message)
				}
			}}
	}
	tail := newTail()
	tail.Poll(context.Background())
	if len(given) != 0 {
		t.Fatalf("the first poll gave the history: %v", given)
	}
	api.add("/fn", "e1", t0.Add(time.Second), "line 1")
	api.add("/fn", "e2", t0.Add(2*time.Second), "line 2")
	now = t0.Add(time.Minute)
	tail.Poll(context.Background())
	tail.Poll(context.Background()) // no news
	// A restart on the same state; the overlap reads e1 and e2 again.
	api.add("/fn", "e3", t0.Add(70*time.Second), "line 3")
	now = t0.Add(2 * time.Minute)
	tail = newTail()
	tail.Poll(context.Background())
	tail.Poll(context.Background())
	want := map[string][]string{"fn": {"line 1", "line 2", "line 3"}, "fn-too": {"line 1", "line 2", "line 3"}}
	if diff := cmp.Diff(want, given); diff != "" {
		t.Errorf("events given (-want +got):\n%s", diff)
	}
}

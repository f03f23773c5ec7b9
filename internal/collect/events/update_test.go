package events

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/model"
)

// fakeTopology records what an Updater asks of the inventory and the graph:
// every resource named comes back as a version of its own.
type fakeTopology struct {
	refreshed  []string // "account region type=ids ..."
	applied    []string // "id: cause | actor" of each version
	refreshErr error
	problems   []inventory.Problem
	applyErr   error
}

func (f *fakeTopology) refresh(_ context.Context, account, region string, want []inventory.Wanted) ([]model.Snapshot, []inventory.Problem, error) {
	line := account + " " + region
	for _, w := range want {
		line += " " + w.Type + "=" + strings.Join(w.IDs, ",")
	}
	f.refreshed = append(f.refreshed, line)
	if f.refreshErr != nil {
		return nil, nil, f.refreshErr
	}
	var snaps []model.Snapshot
	for _, w := range want {
		snaps = append(snaps, model.Snapshot{Scope: model.Scope{Account: account, Region: region, Type: w.Type}, Only: w.IDs})
	}
	return snaps, f.problems, nil
}

func (f *fakeTopology) apply(_ context.Context, cause string, label func(*model.Version), snaps []model.Snapshot) ([]model.Version, error) {
	var vs []model.Version
	for _, s := range snaps {
		for _, id := range s.Only {
			v := model.Version{Entity: "component", ID: id, Cause: cause}
			label(&v)
			f.applied = append(f.applied, v.ID+": "+v.Cause+" | "+v.Actor)
			vs = append(vs, v)
		}
	}
	// A relation whose source no event named goes to the event naming its target.
	v := model.Version{Entity: "relation", ID: "x|uses-service|i-1", Cause: cause}
	label(&v)
	f.applied = append(f.applied, v.ID+": "+v.Cause+" | "+v.Actor)
	return append(vs, v), f.applyErr
}

func parse(t *testing.T, s string) Event {
	t.Helper()
	e, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestUpdaterHandle(t *testing.T) {
	ctx := context.Background()
	f := &fakeTopology{}
	u := &Updater{Refresh: f.refresh, Apply: f.apply}
	// evA deletes a queue; evB terminates an instance; then an unmapped
	// call, a failed one, and one of another region: handled together, the
	// first two take one refresh and one commit.
	var evs []Event
	for _, raw := range []string{evA, evB,
		`{"eventID":"u","eventSource":"example.amazonaws.com","eventName":"DoSomething","awsRegion":"eu-west-1","recipientAccountId":"123456789012"}`,
		`{"eventID":"x","eventSource":"sqs.amazonaws.com","eventName":"DeleteQueue","errorCode":"AccessDenied","awsRegion":"eu-west-1",` +
			`"recipientAccountId":"123456789012","requestParameters":{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/q"}}`,
		`{"eventID":"c","eventSource":"sqs.amazonaws.com","eventName":"DeleteQueue","awsRegion":"us-east-1","recipientAccountId":"123456789012",` +
			`"userIdentity":{"arn":"arn:aws:iam::123456789012:user/bo"},"requestParameters":{"queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}`,
	} {
		evs = append(evs, parse(t, raw))
	}
	if err := u.Handle(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	wantRefreshed := []string{
		"123456789012 eu-west-1 aws.sqs.queue=arn:aws:sqs:eu-west-1:123456789012:Zürich-東京 aws.ec2.instance=i-1",
		"123456789012 us-east-1 aws.sqs.queue=arn:aws:sqs:us-east-1:123456789012:q",
	}
	if d := cmp.Diff(wantRefreshed, f.refreshed); d != "" {
		t.Errorf("refreshes (-want +got):\n%s", d)
	}
	wantApplied := []string{
		"arn:aws:sqs:eu-west-1:123456789012:Zürich-東京: event:a DeleteQueue | arn:aws:iam::123456789012:user/zoë",
		"i-1: event:b EC2 Instance State-change Notification | ",
		"x|uses-service|i-1: event:b EC2 Instance State-change Notification | ",
		"arn:aws:sqs:us-east-1:123456789012:q: event:c DeleteQueue | arn:aws:iam::123456789012:user/bo",
		"x|uses-service|i-1: event:c DeleteQueue | arn:aws:iam::123456789012:user/bo",
	}
	if d := cmp.Diff(wantApplied, f.applied); d != "" {
		t.Errorf("versions (-want +got):\n%s", d)
	}
	if d := cmp.Diff(Stats{Events: 5, Applied: 3, Unmapped: 1, Versions: 5, Refreshes: 2}, u.Stats()); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
}

func TestUpdaterFailures(t *testing.T) {
	ctx := context.Background()
	// An account no instance monitors is counted, not an error.
	f := &fakeTopology{refreshErr: inventory.ErrNotMonitored}
	u := &Updater{Refresh: f.refresh, Apply: f.apply}
	if err := u.Handle(ctx, parse(t, evA)); err != nil || u.Stats().NotMonitored != 1 {
		t.Errorf("not monitored: err %v, stats %+v", err, u.Stats())
	}
	// AWS trouble while refreshing: what was read is applied, the event counted as failed.
	f = &fakeTopology{problems: []inventory.Problem{{Account: "1", Region: "r", What: "list", Err: errors.New("throttled")}}}
	u = &Updater{Refresh: f.refresh, Apply: f.apply}
	if err := u.Handle(ctx, parse(t, evA)); err != nil || u.Stats().Failed != 1 || len(f.applied) == 0 {
		t.Errorf("incomplete refresh: err %v, stats %+v, applied %v", err, u.Stats(), f.applied)
	}
	// A commit that fails is returned, so the event's object or message is kept.
	stored := errors.New("disk full")
	f = &fakeTopology{applyErr: stored}
	u = &Updater{Refresh: f.refresh, Apply: f.apply}
	if err := u.Handle(ctx, parse(t, evA)); !errors.Is(err, stored) {
		t.Errorf("failed commit: err %v, want it returned", err)
	}
}

func TestUpdaterObservesDelay(t *testing.T) {
	f := &fakeTopology{}
	var delays []time.Duration
	u := &Updater{Refresh: f.refresh, Apply: f.apply, ObserveDelay: func(d time.Duration) { delays = append(delays, d) }}
	applied, unmapped := parse(t, evA), parse(t, `{"eventID":"u","eventSource":"example.amazonaws.com","eventName":"DoSomething",`+
		`"awsRegion":"eu-west-1","recipientAccountId":"123456789012"}`)
	applied.Time = time.Now().Add(-time.Hour)
	unmapped.Time = applied.Time
	if err := u.Handle(context.Background(), applied, unmapped); err != nil {
		t.Fatal(err)
	}
	if len(delays) != 1 || delays[0] < time.Hour || delays[0] > time.Hour+time.Minute {
		t.Errorf("delays observed = %v, want one of about 1h (the applied event's)", delays)
	}
}

package events

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/model"
)

// fakeTopology records what an Updater asks of the inventory and the graph.
type fakeTopology struct {
	refreshed  []string // "account region types"
	applied    []string // "cause | actor | scopes"
	refreshErr error
	problems   []inventory.Problem
	applyErr   error
}

func (f *fakeTopology) refresh(_ context.Context, account, region string, types []string) ([]model.Snapshot, []inventory.Problem, error) {
	f.refreshed = append(f.refreshed, account+" "+region+" "+joinTypes(types))
	if f.refreshErr != nil {
		return nil, nil, f.refreshErr
	}
	var snaps []model.Snapshot
	for _, t := range types {
		snaps = append(snaps, model.Snapshot{Scope: model.Scope{Account: account, Region: region, Type: t}, Complete: true})
	}
	return snaps, f.problems, nil
}

func (f *fakeTopology) apply(_ context.Context, cause, actor string, snaps []model.Snapshot) ([]model.Version, error) {
	f.applied = append(f.applied, cause+" | "+actor)
	return []model.Version{{Cause: cause, Actor: actor}}, f.applyErr
}

func joinTypes(ts []string) string {
	out := ""
	for i, t := range ts {
		if i > 0 {
			out += ","
		}
		out += t
	}
	return out
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
	// evA deletes a queue; evB terminates an instance; then an unmapped call and a failed one.
	for _, raw := range []string{evA, evB,
		`{"eventID":"u","eventSource":"example.amazonaws.com","eventName":"DoSomething","awsRegion":"eu-west-1","recipientAccountId":"123456789012"}`,
		`{"eventID":"x","eventSource":"sqs.amazonaws.com","eventName":"DeleteQueue","errorCode":"AccessDenied","awsRegion":"eu-west-1",` +
			`"recipientAccountId":"123456789012","requestParameters":{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/q"}}`,
	} {
		if err := u.Handle(ctx, parse(t, raw)); err != nil {
			t.Fatal(err)
		}
	}
	wantRefreshed := []string{"123456789012 eu-west-1 aws.sqs.queue", "123456789012 eu-west-1 aws.ec2.instance"}
	if d := cmp.Diff(wantRefreshed, f.refreshed); d != "" {
		t.Errorf("refreshes (-want +got):\n%s", d)
	}
	wantApplied := []string{"event:a DeleteQueue | arn:aws:iam::123456789012:user/zoë",
		"event:b EC2 Instance State-change Notification | "}
	if d := cmp.Diff(wantApplied, f.applied); d != "" {
		t.Errorf("applies (-want +got):\n%s", d)
	}
	if d := cmp.Diff(Stats{Events: 4, Applied: 2, Unmapped: 1, Versions: 2}, u.Stats()); d != "" {
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
	if err := u.Handle(ctx, parse(t, evA)); err != nil || u.Stats().Failed != 1 || len(f.applied) != 1 {
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

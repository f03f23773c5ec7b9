package app

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// nopStore accepts every change.
type nopStore struct{ commits int }

func (s *nopStore) Commit(context.Context, topology.Change) error { s.commits++; return nil }

// TestIndexingStoreFollowsChanges checks that the address index follows
// committed changes at their versions' times: an address moving from one
// instance to another, and going with a deleted one.
func TestIndexingStoreFollowsChanges(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	inst := func(id string, ips ...string) model.Component {
		c := model.Component{ID: id, Type: "aws.ec2.instance"}
		for _, ip := range ips {
			c.Identifiers = append(c.Identifiers, "urn:vpcip:vpc-1/"+ip)
		}
		return c
	}
	base := &nopStore{}
	s := newIndexingStore(base, []model.Component{inst("i-a", "10.0.0.5"), {ID: "q", Type: "aws.sqs.queue"}}, t0)
	if len(s.last) != 1 {
		t.Fatalf("indexed %d components at start, want 1 (the queue owns no address)", len(s.last))
	}
	addr := netip.MustParseAddr("10.0.0.5")
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	change := func(at time.Time, up []model.Component, del ...string) topology.Change {
		c := topology.Change{Deleted: del, Versions: []model.Version{{Time: at}}}
		for _, u := range up {
			c.Upserted = append(c.Upserted, topology.Owned{Component: u})
		}
		return c
	}
	// At t1 the address moves from i-a to i-b.
	if err := s.Commit(context.Background(), change(t1, []model.Component{inst("i-a"), inst("i-b", "10.0.0.5")})); err != nil {
		t.Fatal(err)
	}
	// At t2 i-b is deleted.
	if err := s.Commit(context.Background(), change(t2, nil, "i-b")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{t0.Add(time.Minute), "i-a"},
		{t1.Add(-time.Second), "i-a"},
		{t1.Add(time.Minute), "i-b"},
		{t2.Add(time.Minute), ""},
	} {
		if got := s.index.Lookup("vpc-1", addr, tt.at); got != tt.want {
			t.Errorf("owner at %s = %q, want %q", tt.at.Format(time.TimeOnly), got, tt.want)
		}
	}
	if base.commits != 2 {
		t.Errorf("the wrapped store got %d commits, want 2", base.commits)
	}
	if _, ok := s.last["i-a"]; ok {
		t.Error("i-a owns no address any more but is still tracked")
	}
}

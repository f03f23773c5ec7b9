package topology

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

// A health change is a version caused by the alarm that changed; a scan
// rewriting the component keeps the health; an unchanged health records
// nothing; a failed commit leaves the old health.
func TestSetHealthSurvivesScans(t *testing.T) {
	ctx := context.Background()
	var committed []Change
	g := New(nil, WithClock(fixedClock()), WithStore(storeFunc(func(c Change) error { committed = append(committed, c); return nil })))
	scan := func(v float64) []model.Version {
		t.Helper()
		c := comp("i-1", "aws.ec2.instance", "urn:host:/i-1")
		c.Data["v"] = v
		vs, err := g.Apply(ctx, "scan", []model.Snapshot{{Scope: scInst, Complete: true, Components: []model.Component{c}}})
		if err != nil {
			t.Fatal(err)
		}
		return vs
	}
	scan(1)
	vs, err := g.SetHealth(ctx, []HealthUpdate{{ID: "urn:host:/i-1", Health: model.HealthCritical,
		Reasons: []string{"alarm cpu: ALARM"}, Cause: "alarm", Actor: "cpu"}, {ID: "i-unknown", Health: model.HealthClear}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Cause != "alarm" || vs[0].Actor != "cpu" || vs[0].ID != "i-1" ||
		!strings.Contains(string(vs[0].Diff), `"health":{"old":null,"new":"CRITICAL"}`) {
		t.Fatalf("versions %+v", vs)
	}
	if last := committed[len(committed)-1]; len(last.Upserted) != 1 || last.Upserted[0].Component.Health != model.HealthCritical {
		t.Errorf("committed %+v", last)
	}
	if vs, _ := g.SetHealth(ctx, []HealthUpdate{{ID: "i-1", Health: model.HealthCritical, Reasons: []string{"alarm cpu: ALARM"}}}); len(vs) != 0 {
		t.Errorf("unchanged health recorded %+v", vs)
	}
	// A scan changing the data keeps the health and records only the data.
	vs = scan(2)
	if len(vs) != 1 || strings.Contains(string(vs[0].Diff), "health") {
		t.Errorf("scan versions %+v", vs)
	}
	c, _ := g.Lookup("i-1")
	if c.Health != model.HealthCritical || !cmp.Equal(c.HealthReasons, []string{"alarm cpu: ALARM"}) {
		t.Errorf("after a scan: health %q %v", c.Health, c.HealthReasons)
	}
	if vs := scan(2); len(vs) != 0 {
		t.Errorf("an unchanged scan recorded %+v", vs)
	}
	g.store = failingStore{}
	if _, err := g.SetHealth(ctx, []HealthUpdate{{ID: "i-1", Health: model.HealthClear}}); err == nil {
		t.Error("a failed commit did not fail SetHealth")
	}
	if c, _ := g.Lookup("i-1"); c.Health != model.HealthCritical {
		t.Errorf("after a failed commit: %q", c.Health)
	}
}

type storeFunc func(Change) error

func (f storeFunc) Commit(_ context.Context, c Change) error { return f(c) }

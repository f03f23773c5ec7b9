package app

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/collect/traces"
	"github.com/skymap/skymap/internal/model"
)

// TestServeTelemetry is issue 6's acceptance as the demo shows it: on the
// sample estate with its telemetry (awstest.SeedTelemetry, what `make
// demo` seeds) and its applications' spans (awstest.SendDemoTraces, sent
// through the official OTLP exporter), the EC2 instance web-1 and the
// Lambda function skymap-demo-api each show, through the API, their
// CloudWatch metrics, their logs, their alarm-driven health and their
// trace-derived relations.
func TestServeTelemetry(t *testing.T) {
	m, b := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := awstest.SeedTelemetry(ctx, m, b); err != nil {
		t.Fatal(err)
	}
	instanceID, ok := b.ID("<i:web-1>")
	if !ok {
		t.Fatal("no <i:web-1>")
	}
	const (
		function = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-api"
		table    = "arn:aws:dynamodb:eu-west-1:123456789012:table/sessions"
	)
	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\nhealth: {interval: 1}\n"+
		"logs: {groups: [{component: 'urn:host:/web-1.shop.example.com', group: '"+awstest.DemoWebLogGroup+"'}]}\n", t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	base := "http://" + addr + "/api/components/"
	var inst model.Component
	getJSON(t, base+url.PathEscape("urn:host:/web-1.shop.example.com"), &struct {
		Component *model.Component `json:"component"`
	}{&inst})
	if inst.ID != instanceID {
		t.Fatalf("web-1 is %q", inst.ID)
	}
	instance := inst.ID

	// Metrics: the hour put, CPU past 80% at its end.
	var ml api.MetricList
	getJSON(t, base+url.PathEscape(instance)+"/metrics", &ml)
	cpu := series(t, ml, "CPUUtilization")
	if len(cpu.Values) < 55 || cpu.Values[len(cpu.Values)-1] <= 80 {
		t.Errorf("web-1 CPUUtilization: %d points, %v", len(cpu.Values), cpu.Values)
	}
	var fl api.MetricList
	getJSON(t, base+url.PathEscape(function)+"/metrics", &fl)
	if inv := series(t, fl, "Invocations"); len(inv.Values) < 55 || inv.Values[0] < 120 || inv.Error != "" {
		t.Errorf("%s Invocations: %d points, %v %s", function, len(inv.Values), inv.Values, inv.Error)
	}
	if d := series(t, fl, "Duration"); len(d.Values) < 55 {
		t.Errorf("%s Duration: %d points, %s", function, len(d.Values), d.Error)
	}

	// Logs: the function's own group, and the instance's by the mapping
	// that names it by its urn:host identifier; untrusted text as it was.
	for _, tt := range []struct{ id, want string }{
		{function, "DynamoDB PutItem failed"},
		{instance, `untrusted text`},
	} {
		var l api.LogList
		getJSON(t, base+url.PathEscape(tt.id)+"/logs?filter="+url.QueryEscape(strings.Fields(tt.want)[0]), &l)
		if len(l.Events) == 0 || !strings.Contains(l.Events[0].Message, tt.want) {
			t.Errorf("%s logs filtered by %q: %+v", tt.id, strings.Fields(tt.want)[0], l.Events)
		}
	}

	// Health: the alarm in ALARM makes web-1 CRITICAL; the function's OK
	// alarm keeps it CLEAR.
	for _, tt := range []struct{ id, want, reason string }{
		{instance, model.HealthCritical, "alarm " + awstest.DemoCPUAlarm + ": ALARM"},
		{function, model.HealthClear, ""},
	} {
		var d api.ComponentDetail
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && d.Component.Health != tt.want; time.Sleep(200 * time.Millisecond) {
			getJSON(t, base+url.PathEscape(tt.id), &d)
		}
		if d.Component.Health != tt.want || (tt.reason != "" && !slices.Contains(d.Component.HealthReasons, tt.reason)) {
			t.Errorf("%s: health %q %v, want %s (%s)", tt.id, d.Component.Health, d.Component.HealthReasons, tt.want, tt.reason)
		}
	}

	// Traces: web-1 invokes the function, the function writes the table.
	if err := awstest.SendDemoTraces(ctx, "http://"+addr+"/v1/traces", instanceID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id, target string
		calls      uint64
		errors     uint64
	}{
		{instance, function, 20, 0},
		{function, table, 20, 2},
	} {
		var figures struct {
			Relations []traces.Relation `json:"relations"`
		}
		getJSON(t, "http://"+addr+"/api/traces/relations?component="+url.QueryEscape(tt.id), &figures)
		var got *traces.Relation
		for i, r := range figures.Relations {
			if r.Source == tt.id && r.Target == tt.target {
				got = &figures.Relations[i]
			}
		}
		if got == nil || got.Calls != tt.calls || got.Errors != tt.errors {
			t.Errorf("trace relation %s -> %s: %+v, want %d calls, %d errors (all: %+v)", tt.id, tt.target, got, tt.calls, tt.errors, figures.Relations)
		}
		// and the uses-service relation in the map, source trace.
		var rels struct{ Relations, Pending []model.Relation }
		found := false
		for deadline := time.Now().Add(20 * time.Second); !found && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			getJSON(t, "http://"+addr+"/api/relations?component="+url.QueryEscape(tt.id), &rels)
			for _, r := range rels.Relations {
				found = found || (r.Source == tt.id && r.Target == tt.target && r.Type == "uses-service" && r.Data["source"] == "trace")
			}
		}
		if !found {
			t.Errorf("no uses-service relation %s -> %s with source trace in %+v", tt.id, tt.target, rels.Relations)
		}
	}
}

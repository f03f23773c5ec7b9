package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// export --format stackstate prints, a line each, the intake bodies of a
// push of the served map: a snapshot per account, relations with their
// source, a health stream when components have health.
func TestExportStackState(t *testing.T) {
	const lines = `{"kind":"component","id":"q1","type":"aws.sqs.queue","name":"orders","account":"111111111111","region":"eu-west-1","health":"CRITICAL","health_reasons":["alarm depth: ALARM"]}
{"kind":"component","id":"f1","type":"aws.lambda.function","name":"fn","account":"222222222222","region":"eu-west-1"}
{"kind":"relation","source":"q1","target":"f1","type":"uses-service","data":{}}
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/export" && r.URL.RawQuery == "" {
			w.Write([]byte(lines))
			return
		}
		if r.URL.Path == "/api/export" { // any ?at= gets a line of an unknown kind
			w.Write([]byte(`{"kind":"widget"}` + "\n"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	code, out, stderr := run(t, "export", "--server", srv.URL, "--format", "stackstate", "--hostname", "box")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var bodies []exportedBody
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var b exportedBody
		if err := json.Unmarshal([]byte(l), &b); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		bodies = append(bodies, b)
	}
	if len(bodies) != 2 {
		t.Fatalf("%d bodies, want one per account:\n%s", len(bodies), out)
	}
	a, b := bodies[0], bodies[1]
	if a.InternalHostname != "box" || len(a.Topologies) != 1 || a.Topologies[0].Instance.URL != "111111111111" ||
		a.Topologies[0].Instance.Type != "aws-v2" || !a.Topologies[0].StartSnapshot || !a.Topologies[0].StopSnapshot ||
		len(a.Topologies[0].Components) != 1 || len(a.Topologies[0].Relations) != 1 ||
		a.Topologies[0].Relations[0].ExternalID != "q1-uses-service-f1" {
		t.Errorf("first body: %+v", a)
	}
	if len(a.Health) != 1 || a.Health[0].Stream.URN != "urn:health:skymap:111111111111" || len(a.Health[0].CheckStates) != 1 ||
		a.Health[0].CheckStates[0].Health != "CRITICAL" || a.Health[0].CheckStates[0].Message != "- alarm depth: ALARM" {
		t.Errorf("first body's health: %+v", a.Health)
	}
	if len(b.Topologies) != 1 || b.Topologies[0].Instance.URL != "222222222222" || len(b.Topologies[0].Components) != 1 ||
		len(b.Topologies[0].Relations) != 0 || len(b.Health) != 1 || len(b.Health[0].CheckStates) != 0 {
		t.Errorf("second body: %+v", b)
	}

	if code, _, stderr := run(t, "export", "--server", srv.URL, "--format", "stackstate", "--at", "2026-01-01T00:00:00Z"); code != exitFailure ||
		!strings.Contains(stderr, `read the map: line 1: kind "widget": want component or relation`) {
		t.Errorf("bad line: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := run(t, "export", "--format", "xml"); code != exitUsage || !strings.Contains(stderr, "want ndjson or stackstate") {
		t.Errorf("bad --format: exit %d, stderr %q", code, stderr)
	}
}

// exportedBody is what the test reads of an intake body.
type exportedBody struct {
	InternalHostname string `json:"internalHostname"`
	Topologies       []struct {
		StartSnapshot bool `json:"start_snapshot"`
		StopSnapshot  bool `json:"stop_snapshot"`
		Instance      struct{ Type, URL string }
		Components    []struct {
			ExternalID string `json:"externalId"`
		}
		Relations []struct {
			ExternalID string `json:"externalId"`
		}
	}
	Health []struct {
		Stream      struct{ URN string }
		CheckStates []struct {
			CheckStateID, Health, Message string
		} `json:"check_states"`
	}
}

package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store/embedded"
)

// nopMetrics and nopLogs answer nothing, so that requests get as far as
// their parameters.
type nopMetrics struct{}

func (nopMetrics) Fetch(context.Context, []metrics.Query, time.Time, time.Time, int32) ([]metrics.Series, error) {
	return nil, nil
}

type nopLogs struct{}

func (nopLogs) Groups(*model.Component, func(string) (string, bool)) ([]logs.Group, error) {
	return nil, nil
}

func (nopLogs) Fetch(context.Context, []logs.Group, logs.Query) (logs.Result, error) {
	return logs.Result{}, nil
}

// Every bad request answers {"error": {"code", "message"}} with its
// status, and the message names the unknown id or the bad parameter.
func TestBadRequests(t *testing.T) {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := testAPI(t)
	s.History, s.Flows, s.Insights, s.Metrics, s.Logs = st, &fakeFlows{}, &fakeInsights{}, nopMetrics{}, nopLogs{}
	h := s.Handler()
	tests := []struct {
		method, path string
		status       int
		code         string
		names        string // what the message must contain
	}{
		// Unknown ids.
		{"GET", "/api/components/i-404", 404, "not_found", `"i-404"`},
		{"GET", "/api/components/arn:aws:ec2:eu-west-1:1:instance%2Fi-404", 404, "not_found", `"arn:aws:ec2:eu-west-1:1:instance/i-404"`},
		{"GET", "/api/components/i-404/history", 404, "not_found", `"i-404"`},
		{"GET", "/api/components/i-404/metrics", 404, "not_found", `"i-404"`},
		{"GET", "/api/components/i-404/logs", 404, "not_found", `"i-404"`},
		{"GET", "/api/components/i-404/insights", 404, "not_found", `"i-404"`},
		{"GET", "/api/relations?component=i-404", 404, "not_found", `"i-404"`},
		// Invalid filters.
		{"GET", "/api/components?limit=abc", 400, "bad_request", "limit"},
		{"GET", "/api/components?limit=10001", 400, "bad_request", "limit"},
		{"GET", "/api/components?offset=-1", 400, "bad_request", "offset"},
		{"GET", "/api/changes?limit=x", 400, "bad_request", "limit"},
		{"GET", "/api/insights?status=sleeping", 400, "bad_request", "status"},
		{"GET", "/api/insights?severity=dire", 400, "bad_request", "severity"},
		{"GET", "/api/components/i-1/logs?limit=0", 400, "bad_request", "limit"},
		{"GET", "/api/components/i-1/metrics?period=90", 400, "bad_request", "period"},
		{"GET", "/api/flows/traffic?step=30s", 400, "bad_request", "step"},
		{"GET", "/api/flows/traffic?addr=10.0.0", 400, "bad_request", "addr"},
		{"GET", "/api/flows/traffic?protocol=tcpp", 400, "bad_request", "protocol"},
		{"GET", "/api/flows/traffic?colour=red", 400, "bad_request", "colour"},
		{"GET", "/api/flows/conversations?action=DROP", 400, "bad_request", "action"},
		{"GET", "/api/flows/conversations?direction=inbound", 400, "bad_request", "direction"},
		{"POST", "/api/sql?max_rows=0", 400, "bad_request", "max_rows"},
		// Invalid times.
		{"GET", "/api/topology?at=yesterday", 400, "bad_request", "at"},
		{"GET", "/api/export?at=2026-13-01T00:00:00Z", 400, "bad_request", "at"},
		{"GET", "/api/changes?from=today", 400, "bad_request", "from"},
		{"GET", "/api/changes?to=1700000000", 400, "bad_request", "to"},
		{"GET", "/api/components/i-1/history?from=x", 400, "bad_request", "from"},
		{"GET", "/api/components/i-1/metrics?from=2026-11-22", 400, "bad_request", "from"},
		{"GET", "/api/components/i-1/metrics?from=2026-11-22T10:00:00Z&to=2026-11-22T09:00:00Z", 400, "bad_request", "from"},
		{"GET", "/api/components/i-1/logs?to=now", 400, "bad_request", "to"},
		{"GET", "/api/flows/traffic?from=noon", 400, "bad_request", "from"},
		{"GET", "/api/flows/conversations?to=noon", 400, "bad_request", "to"},
		// Routes.
		{"GET", "/api/nothing", 404, "not_found", "/api/nothing"},
		{"GET", "/v2/traces", 404, "not_found", "/v2/traces"},
		{"POST", "/api/components", 405, "method_not_allowed", "POST"},
		{"DELETE", "/api/components/i-1", 405, "method_not_allowed", "DELETE"},
		{"GET", "/api/sql", 405, "method_not_allowed", "GET"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader("SELECT 1")))
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Errorf("%s %s: body is not JSON: %v\n%s", tt.method, tt.path, err, rec.Body)
			continue
		}
		if rec.Code != tt.status || body.Error.Code != tt.code || !strings.Contains(body.Error.Message, tt.names) {
			t.Errorf("%s %s = %d %+v; want %d %s naming %s", tt.method, tt.path, rec.Code, body.Error, tt.status, tt.code, tt.names)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", tt.method, tt.path, ct)
		}
		if want := map[string]string{"/api/components": "GET, HEAD", "/api/components/i-1": "GET, HEAD", "/api/sql": "POST"}[tt.path]; tt.status == 405 && rec.Header().Get("Allow") != want {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, rec.Header().Get("Allow"), want)
		}
	}
}

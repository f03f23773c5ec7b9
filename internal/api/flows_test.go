package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/topology"
)

// fakeFlows records what it was asked and answers canned data.
type fakeFlows struct {
	q       store.FlowQuery
	sql     string
	maxRows int
	sqlErr  error
	wait    bool // FlowSQL waits for its context
}

func (f *fakeFlows) CommitFlowObject(context.Context, *store.FlowObject) error { return nil }
func (f *fakeFlows) FlowObjectDone(context.Context, string, string, string) (bool, error) {
	return false, nil
}
func (f *fakeFlows) PruneFlows(context.Context, time.Time, time.Time) error { return nil }

func (f *fakeFlows) FlowTraffic(_ context.Context, q store.FlowQuery) ([]store.FlowPoint, error) {
	f.q = q
	return []store.FlowPoint{{Time: q.From, BytesIn: 1, BytesOut: 2}}, nil
}

func (f *fakeFlows) FlowConversations(_ context.Context, q store.FlowQuery) ([]store.FlowConversation, error) {
	f.q = q
	return []store.FlowConversation{{Client: "i-1", Server: "i-2", ServerPort: 443, Protocol: 6, BytesToServer: 10}}, nil
}

func (f *fakeFlows) FlowSQL(ctx context.Context, query string, maxRows int) (*store.SQLResult, error) {
	f.sql, f.maxRows = query, maxRows
	if f.wait {
		<-ctx.Done()
		return nil, fmt.Errorf("flowdb: query: %w", ctx.Err())
	}
	if f.sqlErr != nil {
		return nil, f.sqlErr
	}
	return &store.SQLResult{Columns: []string{"n"}, Rows: [][]any{{1}}}, nil
}

func flowsServer(t *testing.T, f store.Flows) http.Handler {
	t.Helper()
	g := topology.New(nil)
	sc := model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "aws.ec2.instance"}
	_, err := g.Apply(context.Background(), "scan", []model.Snapshot{{Scope: sc, Complete: true,
		Components: []model.Component{{ID: "i-1", Type: "aws.ec2.instance", Name: "web", Account: sc.Account, Region: sc.Region,
			Identifiers: []string{"arn:aws:ec2:eu-west-1:123456789012:instance/i-1"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return (&Server{Graph: g, Flows: f, SQLTimeout: 100 * time.Millisecond}).Handler()
}

func TestFlowTrafficParams(t *testing.T) {
	f := &fakeFlows{}
	h := flowsServer(t, f)
	from := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	code, body := get(t, h, "/api/flows/traffic?component=arn:aws:ec2:eu-west-1:123456789012:instance/i-1&from=2026-11-22T10:00:00Z"+
		"&to=2026-11-22T12:00:00Z&step=15m&addr=10.0.0.7&port=443&local_port=443&protocol=tcp&action=accept&direction=inbound&account=123456789012")
	if code != 200 {
		t.Fatalf("status %d: %v", code, body)
	}
	want := store.FlowQuery{Component: "i-1", From: from, To: from.Add(2 * time.Hour), Step: 15 * time.Minute,
		Addr: netip.MustParsePrefix("10.0.0.7/32"), Port: 443, LocalPort: 443, Protocol: 6, Action: "ACCEPT", Direction: "inbound", Account: "123456789012"}
	if diff := cmp.Diff(want, f.q, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if body["step_seconds"] != float64(900) || len(body["points"].([]any)) != 1 || body["component"] != "i-1" {
		t.Errorf("answer %v", body)
	}
	// Defaults: the last hour, per minute; an unknown component is taken
	// as given (urn:host:/...).
	code, _ = get(t, h, "/api/flows/traffic?component=urn:host:/203.0.113.9&addr=2001:db8::/32&protocol=17&remote_port=53")
	if code != 200 || f.q.Component != "urn:host:/203.0.113.9" || f.q.To.Sub(f.q.From) != time.Hour || f.q.Step != time.Minute ||
		f.q.Addr != netip.MustParsePrefix("2001:db8::/32") || f.q.Protocol != 17 || f.q.RemotePort != 53 {
		t.Errorf("defaults: %d %+v", code, f.q)
	}
}

func TestFlowParamErrors(t *testing.T) {
	h := flowsServer(t, &fakeFlows{})
	for _, tc := range []struct{ query, param string }{
		{"from=yesterday", "from"},
		{"to=2026-13-01T00:00:00Z", "to"},
		{"from=2026-11-22T12:00:00Z&to=2026-11-22T10:00:00Z", "from"},
		{"step=90s", "step"},
		{"step=abc", "step"},
		{"from=2026-01-01T00:00:00Z&to=2026-11-22T10:00:00Z&step=1m", "step"},
		{"addr=10.0.0.300", "addr"},
		{"addr=10.0.0.0/33", "addr"},
		{"port=0", "port"},
		{"port=65536", "port"},
		{"local_port=x&component=i-1", "local_port"},
		{"remote_port=22", "remote_port"},
		{"protocol=sctpx", "protocol"},
		{"protocol=256", "protocol"},
		{"action=DROP", "action"},
		{"direction=up&component=i-1", "direction"},
		{"direction=inbound", "direction"},
		{"colour=red", "colour"},
		{"port=1&port=2", "port"},
		{"account=12345", "account"},
		{"account=12345678901x", "account"},
	} {
		code, body := get(t, h, "/api/flows/traffic?"+tc.query)
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if code != 400 || !strings.Contains(msg, tc.param) {
			t.Errorf("%s: %d %q, want 400 naming %s", tc.query, code, msg, tc.param)
		}
	}
	for _, q := range []string{"limit=0", "limit=10001", "step=5m"} {
		if code, body := get(t, h, "/api/flows/conversations?"+q); code != 400 {
			t.Errorf("conversations %s: %d %v", q, code, body)
		}
	}
}

func TestFlowConversationsEndpoint(t *testing.T) {
	f := &fakeFlows{}
	h := flowsServer(t, f)
	code, body := get(t, h, "/api/flows/conversations?action=REJECT&limit=5")
	if code != 200 || f.q.Action != "REJECT" || f.q.Limit != 5 {
		t.Fatalf("%d %v %+v", code, body, f.q)
	}
	convs := body["conversations"].([]any)
	if len(convs) != 1 || convs[0].(map[string]any)["server_port"] != float64(443) {
		t.Errorf("answer %v", body)
	}
	if get(t, h, "/api/flows/conversations"); f.q.Limit != 100 {
		t.Errorf("default limit %d", f.q.Limit)
	}
}

func post(t *testing.T, h http.Handler, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("POST %s: body is not JSON: %v\n%s", path, err, rec.Body)
	}
	return rec.Code, out
}

func TestSQLEndpoint(t *testing.T) {
	f := &fakeFlows{}
	h := flowsServer(t, f)
	code, body := post(t, h, "/api/sql", "application/json", `{"query": "SELECT 1", "max_rows": 5}`)
	if code != 200 || f.sql != "SELECT 1" || f.maxRows != 5 {
		t.Fatalf("%d %v: asked %q %d", code, body, f.sql, f.maxRows)
	}
	if diff := cmp.Diff(map[string]any{"columns": []any{"n"}, "rows": []any{[]any{float64(1)}}, "truncated": false}, body); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	if code, _ := post(t, h, "/api/sql?max_rows=7", "text/plain; charset=utf-8", "SELECT 2"); code != 200 || f.sql != "SELECT 2" || f.maxRows != 7 {
		t.Errorf("text/plain: %d, asked %q %d", code, f.sql, f.maxRows)
	}
	if code, _ := post(t, h, "/api/sql", "", `{"query": "SELECT 3"}`); code != 200 || f.sql != "SELECT 3" || f.maxRows != 1000 {
		t.Errorf("JSON without Content-Type: %d, asked %q %d", code, f.sql, f.maxRows)
	}
	for _, tc := range []struct{ ct, body, path, param string }{
		{"application/json", `{"query": "SELECT 1", "max_rows": 0}`, "/api/sql", "max_rows"},
		{"application/json", `{"query": "SELECT 1", "max_rows": 100001}`, "/api/sql", "max_rows"},
		{"application/json", `{"query": "SELECT 1", "rows": 1}`, "/api/sql", "body"},
		{"application/json", `{"query": ""}`, "/api/sql", "query"},
		{"text/plain", `SELECT 1`, "/api/sql?max_rows=x", "max_rows"},
		{"text/plain", `SELECT 1`, "/api/sql?limit=1", "limit"},
		{"image/png", `SELECT 1`, "/api/sql", "Content-Type"},
	} {
		code, body := post(t, h, tc.path, tc.ct, tc.body)
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if code != 400 || !strings.Contains(msg, tc.param) {
			t.Errorf("%s %s: %d %q, want 400 naming %s", tc.path, tc.body, code, msg, tc.param)
		}
	}
	// A refused query: 400 with the store's message.
	f.sqlErr = fmt.Errorf("%w: table function read_csv is not allowed", store.ErrBadQuery)
	code, body = post(t, h, "/api/sql", "text/plain", `SELECT * FROM read_csv('/etc/passwd')`)
	if e := body["error"].(map[string]any); code != 400 || e["code"] != "bad_query" || e["message"] != "bad query: table function read_csv is not allowed" {
		t.Errorf("refused: %d %v", code, body)
	}
	// A query running past the timeout.
	f.sqlErr, f.wait = nil, true
	code, body = post(t, h, "/api/sql", "text/plain", `SELECT 1`)
	if code != http.StatusGatewayTimeout || body["error"].(map[string]any)["code"] != "query_timeout" {
		t.Errorf("timeout: %d %v", code, body)
	}
}

func TestFlowsNotConfigured(t *testing.T) {
	h := flowsServer(t, nil)
	for _, path := range []string{"/api/flows/traffic", "/api/flows/conversations"} {
		code, body := get(t, h, path)
		if code != 503 || body["error"].(map[string]any)["code"] != "flows_not_configured" {
			t.Errorf("%s: %d %v", path, code, body)
		}
	}
	if code, _ := post(t, h, "/api/sql", "text/plain", "SELECT 1"); code != 503 {
		t.Errorf("sql: %d", code)
	}
	if code, _ := get(t, h, "/api/sql"); code != 404 && code != 405 {
		t.Errorf("GET /api/sql: %d", code)
	}
}

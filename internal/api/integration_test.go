package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/collect/flowlogs"
)

// integrationServer serves the problems of two flow-log sources.
func integrationServer(t *testing.T) http.Handler {
	t.Helper()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	statuses := []flowlogs.Status{
		{Source: "s3://flows-a", Problems: []flowlogs.Problem{
			{Category: flowlogs.LogParse, Severity: flowlogs.SeverityError, Bucket: "flows-a", Key: "AWSLogs/1/bad.log.gz",
				Detail: "missing field dstaddr", Fields: []string{"dstaddr"}, Time: t0.Add(3 * time.Minute), Count: 1},
			{Category: flowlogs.LogFilter, Severity: flowlogs.SeverityWarning, Bucket: "flows-a", Key: "AWSLogs/1/other.log.gz",
				Detail: "records of account 999999999999, not monitored", Time: t0.Add(time.Minute), Count: 3},
		}},
		{Source: "https://sqs.eu-west-1.amazonaws.com/1/flows", Problems: []flowlogs.Problem{
			{Category: flowlogs.Subscribe, Severity: flowlogs.SeverityError, Detail: "sqs:ReceiveMessage: AccessDenied", Time: t0.Add(2 * time.Minute), Count: 7},
			{Category: flowlogs.LogDownload, Severity: flowlogs.SeverityError, Bucket: "flows-b", Key: "AWSLogs/2/big.log.gz",
				Detail: "s3:GetObject: NoSuchKey", Time: t0, Count: 1},
		}},
	}
	s := &Server{IntegrationLogs: func() []IntegrationLog { return FlowLogRows(statuses) }}
	return s.Handler()
}

// logKeys are the category and key of each row of an answer.
func logKeys(t *testing.T, body []byte) []string {
	t.Helper()
	var l IntegrationLogs
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	out := []string{}
	for _, r := range l.Logs {
		out = append(out, string(r.Category)+" "+r.Key)
	}
	return out
}

func TestIntegrationLogsFilters(t *testing.T) {
	h := integrationServer(t)
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{"logParse AWSLogs/1/bad.log.gz", "subscribe ", "logFilter AWSLogs/1/other.log.gz", "logDownload AWSLogs/2/big.log.gz"}},
		{"?category=logParse", []string{"logParse AWSLogs/1/bad.log.gz"}},
		{"?category=subscribe&category=LOGDOWNLOAD", []string{"subscribe ", "logDownload AWSLogs/2/big.log.gz"}},
		{"?severity=warning", []string{"logFilter AWSLogs/1/other.log.gz"}},
		{"?severity=ERROR&category=logFilter", []string{}},
		{"?source=SQS", []string{"subscribe ", "logDownload AWSLogs/2/big.log.gz"}},
		{"?q=Dstaddr", []string{"logParse AWSLogs/1/bad.log.gz"}},
		{"?q=other.log", []string{"logFilter AWSLogs/1/other.log.gz"}},
		{"?since=2026-11-22T10:02:00Z", []string{"logParse AWSLogs/1/bad.log.gz", "subscribe "}},
		{"?since=2026-11-22T11:02:00%2B01:00", []string{"logParse AWSLogs/1/bad.log.gz", "subscribe "}},
		{"?limit=1", []string{"logParse AWSLogs/1/bad.log.gz"}},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/integration/logs"+tt.query, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d %s", tt.query, rec.Code, rec.Body)
			continue
		}
		if d := cmp.Diff(tt.want, logKeys(t, rec.Body.Bytes())); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, d)
		}
	}
	// The limit cuts the rows, not the total; a row carries its source,
	// fields and count.
	_, body := get(t, h, "/api/integration/logs?limit=1")
	if body["total"] != 4.0 {
		t.Errorf("total %v with limit=1, want 4", body["total"])
	}
	first := body["logs"].([]any)[0].(map[string]any)
	if first["source"] != "s3://flows-a" || first["severity"] != "error" || first["count"] != 1.0 ||
		first["time"] != "2026-11-22T10:03:00Z" || cmp.Diff([]any{"dstaddr"}, first["fields"]) != "" {
		t.Errorf("first row %v", first)
	}
}

func TestIntegrationLogsBadRequests(t *testing.T) {
	h := integrationServer(t)
	for _, tt := range []struct{ query, want string }{
		{"?category=parse", `category: want subscribe, logDownload, logParse, logFilter, got "parse"`},
		{"?category=logParse&category=x", `category: want subscribe, logDownload, logParse, logFilter, got "x"`},
		{"?severity=fatal", `severity: want error or warning, got "fatal"`},
		{"?since=yesterday", `since: want an RFC 3339 time`},
		{"?limit=5001", `limit: want an integer between 0 and 5000`},
		{"?limit=0", `limit: want an integer between 1 and 5000`},
		{"?limit=x", `limit: want an integer`},
		{"?severity=error&severity=warning", `severity: given more than once`},
		{"?key=a", `"key": unknown parameter; known are category, severity, source, q, since, limit`},
	} {
		code, body := get(t, h, "/api/integration/logs"+tt.query)
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if code != http.StatusBadRequest || !strings.Contains(msg, tt.want) {
			t.Errorf("%s: %d %q, want 400 with %q", tt.query, code, msg, tt.want)
		}
	}
}

// Without flow logs the list is empty, not an error; the answer is what
// the document says.
func TestIntegrationLogsOff(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Handler{"off": (&Server{}).Handler(), "on": integrationServer(t)} {
		code, body := get(t, h, "/api/integration/logs")
		if code != http.StatusOK {
			t.Fatalf("%s: %d %v", name, code, body)
		}
		if err := doc.Components.Schemas["IntegrationLogs"].Value.VisitJSON(body, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: not an IntegrationLogs: %v", name, err)
		}
		if name == "off" && (body["total"] != 0.0 || len(body["logs"].([]any)) != 0) {
			t.Errorf("off: %v, want no rows", body)
		}
	}
}

package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/collect/logs"
)

// A moto-seeded Lambda function's log group shows through the API: its
// events oldest first, a long line cut and flagged, messages valid UTF-8,
// the text filter taken literally, the limit; a function that never logged
// has a missing group, and a group mapped to it by configuration; bad requests are refused with the reason.
func TestServeLogs(t *testing.T) {
	m, b := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	vpc, ok := b.ID("<vpc:prod>")
	if !ok {
		t.Fatal("the estate has no <vpc:prod>")
	}
	const (
		function = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-api"
		worker   = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-worker"
		group    = "/aws/lambda/skymap-demo-api"
	)
	stream := "2026/12/07/[$LATEST]0123456789abcdef"
	now := time.Now().UTC().Truncate(time.Second)
	long := "LONG " + strings.Repeat("y", logs.MaxMessageBytes)
	msgs := []string{"START RequestId: 1", "ERROR payment failed for order 42", "odd bytes \xc3\x28 here", long, `{ $.level = "x" } literal`, "END RequestId: 1"}
	var evs []awstest.LogLine
	for i, msg := range msgs {
		evs = append(evs, awstest.LogLine{At: now.Add(time.Duration(i-10) * time.Minute), Message: msg})
	}
	if err := awstest.PutLogs(ctx, cfg, group, stream, evs...); err != nil {
		t.Fatal(err)
	}

	// The worker is mapped by configuration to the API function's groups too.
	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\nlogs: {poll_interval: 1, groups: [{component: '"+worker+"', group: '/aws/lambda/skymap-demo-a*'}]}\n", t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	base := "http://" + addr + "/api/components/"

	var list api.LogList
	getJSON(t, base+url.PathEscape(function)+"/logs", &list)
	if len(list.Events) != len(msgs) || list.Truncated || len(list.Groups) != 1 || list.Groups[0].Name != group || list.Groups[0].Events != len(msgs) || list.Limit != 100 {
		t.Fatalf("all events: %d, truncated %v, groups %+v", len(list.Events), list.Truncated, list.Groups)
	}
	for i, e := range list.Events {
		if !utf8.ValidString(e.Message) || e.Group != group || e.Stream != stream || e.IngestionTime.IsZero() || e.Source != "cloudwatch" {
			t.Errorf("event %d: %+v", i, e)
		}
		if !e.Timestamp.Equal(now.Add(time.Duration(i-10) * time.Minute)) {
			t.Errorf("event %d at %v: not oldest first", i, e.Timestamp)
		}
	}
	if e := list.Events[3]; !e.Truncated || e.Size != len(long) || len(e.Message) != logs.MaxMessageBytes || !strings.HasPrefix(e.Message, "LONG yyy") {
		t.Errorf("long line: truncated %v, size %d, %d bytes", e.Truncated, e.Size, len(e.Message))
	}
	t.Logf("invalid UTF-8 as served: %q", list.Events[2].Message)

	for _, tt := range []struct {
		query string
		want  []int // indices in msgs
		trunc bool
	}{
		{"filter=payment+failed", []int{1}, false},
		{"filter=" + url.QueryEscape(`{ $.level = "x" }`), nil, false}, // moto matches a quoted term only without quotes in it: no syntax, no error
		{"filter=nothing-like-this", nil, false},
		{"limit=2", []int{0, 1}, true},
		{"from=" + now.Add(-8*time.Minute).Format(time.RFC3339) + "&to=" + now.Add(-6*time.Minute).Format(time.RFC3339), []int{2, 3}, false},
	} {
		var l api.LogList
		getJSON(t, base+url.PathEscape(function)+"/logs?"+tt.query, &l)
		var got []int
		for _, e := range l.Events {
			for i, msg := range msgs {
				if e.Timestamp.Equal(now.Add(time.Duration(i-10)*time.Minute)) && (e.Message == msg || i == 2 || i == 3) {
					got = append(got, i)
				}
			}
		}
		if len(got) != len(tt.want) || l.Truncated != tt.trunc || (len(got) > 0 && got[0] != tt.want[0]) {
			t.Errorf("?%s: events %v truncated %v, want %v truncated %v", tt.query, got, l.Truncated, tt.want, tt.trunc)
		}
	}

	getJSON(t, base+url.PathEscape(worker)+"/logs", &list)
	if len(list.Events) != len(msgs) || len(list.Groups) != 2 {
		t.Fatalf("worker: %d events, groups %+v", len(list.Events), list.Groups)
	}
	if g := list.Groups[0]; g.Name != "/aws/lambda/skymap-demo-a" || !g.Prefix || g.Source != "config" || g.Events != len(msgs) {
		t.Errorf("worker's configured group %+v", g)
	}
	if g := list.Groups[1]; g.Name != "/aws/lambda/skymap-demo-worker" || !g.Missing || g.Error != "" {
		t.Errorf("worker's own group (never logged) %+v", g)
	}

	fn := url.PathEscape(function)
	for _, tt := range []struct{ path, status, want string }{
		{fn + "/logs?limit=0", "400", "limit: want 1 to 10000"},
		{fn + "/logs?limit=10001", "400", "limit: want 1 to 10000"},
		{fn + "/logs?limit=many", "400", "limit: want 1 to 10000"},
		{fn + "/logs?filter=a%0Ab", "400", "filter: contains a control character"},
		{fn + "/logs?filter=%FF", "400", "filter: not valid UTF-8"},
		{fn + "/logs?from=" + now.Format(time.RFC3339) + "&to=" + now.Add(-time.Hour).Format(time.RFC3339), "400", "before to"},
		{fn + "/logs?to=yesterday", "400", "RFC 3339"},
		{"i-nothere/logs", "404", "no component"},
		{vpc + "/logs", "404", "have no log groups"},
	} {
		resp, err := http.Get(base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if !strings.HasPrefix(resp.Status, tt.status) || !strings.Contains(body.Error.Message, tt.want) {
			t.Errorf("GET %s: %s %+v, want %s with %q", tt.path, resp.Status, body.Error, tt.status, tt.want)
		}
	}

	// The periodic reader picks up an event written now (not the older
	// ones: it starts from when it first saw the group), and counts it.
	if err := awstest.PutLogs(ctx, cfg, group, stream, awstest.LogLine{At: time.Now(), Message: "tailed line"}); err != nil {
		t.Fatal(err)
	}
	var recent api.RecentLogList
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		getJSON(t, base+fn+"/logs?recent=true", &recent)
		if len(recent.Events) > 0 {
			break
		}
	}
	if len(recent.Events) != 1 || recent.Events[0].Message != "tailed line" || recent.Events[0].Group != group {
		t.Errorf("recent events of %s: %+v", function, recent.Events)
	}
	getJSON(t, base+url.PathEscape(worker)+"/logs?recent=true", &recent)
	if len(recent.Events) != 1 || recent.Events[0].Message != "tailed line" {
		t.Errorf("recent events of the worker (mapped by configuration): %+v", recent.Events)
	}

	// The integration status takes the call records at the end of a scan:
	// a FilterLogEvents call shows there after the next one, and must be ok.
	var st StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &st)
	for _, c := range st.Calls {
		if strings.HasSuffix(c.API, "|FilterLogEvents") && c.Outcome != "ok" {
			t.Errorf("call status %+v", c)
		}
	}
	if len(st.Logs) != 1 || st.Logs[0].Account != "123456789012" || st.Logs[0].Region != "eu-west-1" || st.Logs[0].Events != 1 || st.Logs[0].Errors != 0 {
		t.Errorf("logs status %+v", st.Logs)
	}
}

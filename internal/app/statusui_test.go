package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/ui/browsertest"
)

// statusShown is true once the status page has shown the integration
// logs of the current route.
const statusShown = `window.__skymap.status && window.__skymap.status.route === location.hash`

// readLogRows is the JavaScript that reads the integration logs' rows.
const readLogRows = `[...document.querySelectorAll("#status-logs-table tbody tr")].map((tr) => ({
	Category: tr.dataset.category, Severity: tr.dataset.severity, Highlighted: tr.classList.contains("sev-error"),
	Text: tr.textContent }))`

// logRow is a row of the integration logs as the test reads it.
type logRow struct {
	Category, Severity, Text string
	Highlighted              bool
}

// TestUIStatus drives the status and SQL pages in Chromium against serve
// on the sample estate with flow logs, one flow-log object of which has
// no dstaddr: the status page shows each account's state as the API
// does, and the integration logs the object's logParse error with its
// key, highlighted; the category, severity and text filters keep what
// the API keeps and go into the route. The SQL page lists the tables,
// runs a query (Ctrl+Enter or Run) whose '<script>' value shows as text,
// keeps it in the route so that a reload runs it again, and shows the
// API's refusal of DELETE and CREATE TABLE; with flow logs off it shows
// the 503's message. With -update it rewrites docs/screenshots/status.png
// and sql.png.
func TestUIStatus(t *testing.T) {
	b := browsertest.New(t)
	m, _ := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, flowRegion, flowAccount)
	if err != nil {
		t.Fatal(err)
	}
	// An object without dstaddr: nothing in it can be attributed. It is
	// removed again: the flow-log tests count the bucket's objects.
	c := awsconn.NewS3(cfg)
	badKey := awstest.FlowLogKey(flowAccount, flowRegion, "fl-statusui", time.Now(), "nodst")
	start := time.Now().Add(-2 * time.Minute).Unix()
	body := awstest.GzipLines([]string{strings.Replace(awstest.FlowLogHeader, " dstaddr", "", 1),
		"2 " + flowAccount + " eni-0aaaaaaaaaaaaaaaa 192.0.2.40 51000 443 6 5 500 " + strconv.FormatInt(start, 10) + " " + strconv.FormatInt(start+60, 10) + " ACCEPT OK"})
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(flowBucket), Key: aws.String(badKey), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put s3://%s/%s: %v", flowBucket, badKey, err)
	}
	t.Cleanup(func() {
		if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(flowBucket), Key: aws.String(badKey)}); err != nil {
			t.Errorf("delete s3://%s/%s: %v", flowBucket, badKey, err)
		}
	})

	addr, stop := serve(t, flowsConfig(""), t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	base := "http://" + addr
	logs := func(query string) api.IntegrationLogs {
		var l api.IntegrationLogs
		getJSON(t, base+"/api/integration/logs"+query, &l)
		return l
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if l := logs("?category=logParse&q=" + url.QueryEscape(badKey)); len(l.Logs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no logParse problem of %s in 30 s: %+v", badKey, logs(""))
		}
	}
	var st StatusDoc
	getJSON(t, base+"/api/status", &st)

	// Each account's state as the API says; the problem of the bad object.
	b.Do(t, time.Minute, browsertest.Navigate(base+"/#/status"))
	b.WaitJS(t, 30*time.Second, statusShown)
	states := browsertest.Eval[map[string]string](t, b, `Object.fromEntries([...document.querySelector("#status table.grid:not(.kv)").tBodies[0].rows]
		.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]))`)
	if len(st.Accounts) < 2 || len(states) != len(st.Accounts) {
		t.Errorf("the page shows accounts %v, the API %+v", states, st.Accounts)
	}
	for _, a := range st.Accounts {
		if states[a.Account] != a.State {
			t.Errorf("account %s shows %q, the API says %q", a.Account, states[a.Account], a.State)
		}
	}
	regions := browsertest.Eval[[]string](t, b, `[...document.querySelectorAll("#status table.regions tbody tr")].map((tr) => tr.cells[1].textContent + " " + tr.cells[2].textContent)`)
	if !strings.Contains(strings.Join(regions, ","), "eu-west-1 ") {
		t.Errorf("the regions table shows %v, want eu-west-1 among them", regions)
	}
	if paths := browsertest.Eval[int](t, b, `document.querySelectorAll("#status-events tbody tr").length`); paths != len(st.Events) {
		t.Errorf("the event paths table has %d rows, the API %d feeds", paths, len(st.Events))
	}
	if src := browsertest.Eval[string](t, b, `document.getElementById("status-flowlogs").textContent`); !strings.Contains(src, "s3://"+flowBucket) {
		t.Errorf("the flow-log sources table lacks s3://%s: %q", flowBucket, src)
	}
	rows := browsertest.Eval[[]logRow](t, b, readLogRows)
	if want := logs(""); len(rows) != len(want.Logs) {
		t.Errorf("the integration logs show %d rows, the API %d", len(rows), len(want.Logs))
	}
	hasBad := func(rows []logRow) bool {
		for _, r := range rows {
			if r.Category == "logParse" && r.Severity == "error" && r.Highlighted && strings.Contains(r.Text, badKey) && strings.Contains(r.Text, "dstaddr") {
				return true
			}
		}
		return false
	}
	if !hasBad(rows) {
		t.Errorf("the integration logs lack the highlighted logParse error of %s naming dstaddr: %+v", badKey, rows)
	}
	// The screenshot shows the event paths, the flow-log sources and the
	// integration logs, the accounts and regions being above.
	b.Do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById("status-events").previousElementSibling.scrollIntoView()`))
	b.Screenshot(t, filepath.Join(screenshotDir(t), "status.png"))
	b.Do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))

	// The filters keep what the API keeps, and go into the route.
	filter := func(js, inHash, query string) []logRow {
		t.Helper()
		b.Do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](js))
		b.WaitJS(t, 10*time.Second, `location.hash.includes(`+browsertest.JSString(inHash)+`) && `+statusShown)
		rows := browsertest.Eval[[]logRow](t, b, readLogRows)
		if want := logs(query); len(rows) != len(want.Logs) {
			t.Errorf("filtered by %s: %d rows, the API keeps %d", query, len(rows), len(want.Logs))
		}
		return rows
	}
	choose := func(id, v string) string {
		return `(() => { const s = document.getElementById(` + browsertest.JSString(id) + `); s.value = ` + browsertest.JSString(v) +
			`; s.dispatchEvent(new Event("change")); })()`
	}
	rows = filter(choose("status-category", "logParse"), "category=logParse", "?category=logParse")
	for _, r := range rows {
		if r.Category != "logParse" {
			t.Errorf("filtered by logParse: row %+v", r)
		}
	}
	if !hasBad(rows) {
		t.Errorf("filtered by logParse: no row of %s", badKey)
	}
	rows = filter(choose("status-severity", "warning"), "severity=warning", "?category=logParse&severity=warning")
	for _, r := range rows {
		if r.Severity != "warning" || r.Highlighted {
			t.Errorf("filtered by warning: row %+v", r)
		}
	}
	rows = filter(choose("status-severity", "error"), "severity=error", "?category=logParse&severity=error")
	if !hasBad(rows) {
		t.Errorf("filtered by logParse errors: no row of %s: %+v", badKey, rows)
	}
	rows = filter(`document.getElementById("status-q").value = "fl-statusui"; document.getElementById("status-apply").click()`,
		"q=fl-statusui", "?category=logParse&severity=error&q=fl-statusui")
	if len(rows) != 1 || !hasBad(rows) {
		t.Errorf("filtered by fl-statusui: %+v, want the bad object's row alone", rows)
	}

	// The SQL page: the tables with their columns, a query whose value
	// holds <script> shown as text.
	b.Do(t, 10*time.Second, browsertest.SetHash("#/sql"))
	b.WaitJS(t, 30*time.Second, `document.querySelector("#sql-tables details")`)
	if tables := browsertest.Eval[string](t, b, `document.getElementById("sql-tables").textContent`); !strings.Contains(tables, "vpc_flow_logs") ||
		!strings.Contains(tables, "flow_rollups") || !strings.Contains(tables, "dstaddr VARCHAR") {
		t.Errorf("the SQL page's tables: %q", tables)
	}
	const tricky = `SELECT '<script>x</script>' AS tag, count(*) AS n FROM vpc_flow_logs`
	runSQL := func(query string, ctrlEnter bool) {
		t.Helper()
		js := `document.getElementById("sql-query").value = ` + browsertest.JSString(query) + `; `
		if ctrlEnter {
			js += `document.getElementById("sql-query").dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", ctrlKey: true, bubbles: true}))`
		} else {
			js += `document.getElementById("sql-run").click()`
		}
		b.Do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](js))
		b.WaitJS(t, 30*time.Second, `window.__skymap.sql && window.__skymap.sql.query === `+browsertest.JSString(query))
	}
	runSQL(tricky, true)
	want := postSQL(t, addr, tricky, http.StatusOK)
	cells := browsertest.Eval[[]string](t, b, `[...document.querySelectorAll("#sql-result tbody td")].map((td) => td.textContent)`)
	if len(cells) != 2 || cells[0] != "<script>x</script>" || cells[1] != jsonText(want.Rows[0][1]) || cells[1] == "0" {
		t.Errorf("the query's cells %q, want <script>x</script> and the API's count %v", cells, want.Rows[0][1])
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#page script, #page img, #page iframe").length`); n != 0 {
		t.Errorf("%d elements made of data in the page", n)
	}
	if text := browsertest.Eval[string](t, b, `document.getElementById("sql-count").textContent`); !strings.HasPrefix(text, "1 row in ") {
		t.Errorf("the row count reads %q", text)
	}
	b.Screenshot(t, filepath.Join(screenshotDir(t), "sql.png"))

	// The route holds the query: a reload runs it again.
	hash := browsertest.Eval[string](t, b, `location.hash`)
	if q, err := url.ParseQuery(strings.TrimPrefix(hash, "#/sql?")); err != nil || q.Get("q") != tricky {
		t.Errorf("the route after the query: %q", hash)
	}
	b.Do(t, 30*time.Second, chromedp.Reload())
	b.WaitJS(t, 30*time.Second, `window.__skymap.sql && window.__skymap.sql.query === `+browsertest.JSString(tricky))
	if cell := browsertest.Eval[string](t, b, `(document.querySelector("#sql-result tbody td") || {}).textContent`); cell != "<script>x</script>" {
		t.Errorf("after a reload the first cell reads %q", cell)
	}

	// Writes are refused with the API's reason.
	for _, q := range []string{"DELETE FROM vpc_flow_logs", "CREATE TABLE t (a INTEGER)"} {
		runSQL(q, false)
		msg := sqlError(t, addr, q)
		if text := browsertest.Eval[string](t, b, `(document.getElementById("sql-error") || {}).textContent || ""`); text != "Refused: "+msg || msg == "" {
			t.Errorf("%s: the page says %q, the API %q", q, text, msg)
		}
	}

	if d := b.Dialogs(); len(d) > 0 {
		t.Errorf("dialogs opened: %v", d)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions: %v", ex)
	}
	if v := browsertest.Eval[[]string](t, b, `window.__skymap.cspViolations`); len(v) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", v)
	}

	// With flow logs off the SQL page says so, in the API's words.
	addrOff, stopOff := serve(t, optOut+"flowlogs: {enabled: false}\n", t.TempDir())
	defer stopOff()
	b.Do(t, time.Minute, browsertest.Navigate("http://"+addrOff+"/#/sql?"+url.Values{"q": {"SELECT 1"}}.Encode()))
	b.WaitJS(t, 30*time.Second, `window.__skymap.sql && window.__skymap.sql.status === 503 && document.getElementById("sql-tables-error")`)
	msg := sqlError(t, addrOff, "SELECT 1")
	if text := browsertest.Eval[string](t, b, `document.getElementById("sql-error").textContent`); text != "Not available: "+msg {
		t.Errorf("with flow logs off the page says %q, the API %q", text, msg)
	}
}

// sqlError is the message of the API's error answer to query.
func sqlError(t *testing.T, addr, query string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := http.Post("http://"+addr+"/api/sql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode < 400 {
		t.Fatalf("POST /api/sql %q: %s %s, want an error", query, resp.Status, b)
	}
	return e.Error.Message
}

// jsonText is a JSON value as the SQL page shows it.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

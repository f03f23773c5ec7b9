package app

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/ui/browsertest"
)

// flowRow is a row of the flows explorer's table as the test reads it.
type flowRow struct {
	Local, Remote string
	Port          int
	BytesIn       uint64
	BytesOut      uint64
	Rejected      bool
}

// readFlowRows is the JavaScript that reads the explorer's table rows.
const readFlowRows = `[...document.querySelectorAll("#flows-table tbody tr")].map((tr) => {
	const ends = tr.querySelectorAll("a.endpoint");
	return { Local: ends[0].dataset.id, Remote: ends[1].dataset.id, Port: +tr.dataset.port,
		BytesIn: +tr.querySelector(".bytes-in").dataset.bytes, BytesOut: +tr.querySelector(".bytes-out").dataset.bytes,
		Rejected: tr.classList.contains("rejected") };
})`

// flowsShown is true once the explorer has drawn the current route and
// named its rows' ends.
const flowsShown = `window.__skymap.flows && window.__skymap.flows.named && window.__skymap.flows.route === location.hash`

// TestUIFlows drives the flows explorer in Chromium against serve on the
// sample estate with its seeded flow logs: web-1's details link to its
// flows; the chart is drawn and sums the API's bytes; the table lists the
// API's conversations with their bytes, the rejected SSH highlighted;
// sorting by bytes in and out reorders the rows; a local-port filter keeps
// port 443 and a bad port shows the API's error; the VPC's scope shows the
// conversations within its CIDR, an account's what its flow logs
// reported; and clicking app-1 opens its details. With -update it rewrites
// docs/screenshots/flows.png.
func TestUIFlows(t *testing.T) {
	b := browsertest.New(t)
	_, built := estate(t)
	addr, stop := serve(t, flowsConfig(""), t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	waitFlowRelations(t, addr, 4)
	base := "http://" + addr
	web1, _ := built.ID("<i:web-1>")
	app1, _ := built.ID("<i:app-1>")
	if web1 == "" || app1 == "" {
		t.Fatal("the estate has no web-1 or app-1")
	}

	// What the API says of web-1 over the last hour.
	convs := conversations(t, addr, "?component="+url.QueryEscape(web1))
	var want []flowRow
	for _, c := range convs {
		r := flowRow{Local: c.Client, Remote: c.Server, Port: int(c.ServerPort), BytesIn: c.BytesToClient, BytesOut: c.BytesToServer,
			Rejected: c.Rejected > 0}
		if c.Server == web1 {
			r = flowRow{Local: c.Server, Remote: c.Client, Port: int(c.ServerPort), BytesIn: c.BytesToServer, BytesOut: c.BytesToClient,
				Rejected: c.Rejected > 0}
		}
		want = append(want, r)
	}
	if len(want) != 3 {
		t.Fatalf("web-1 has %d conversations, want the 3 SeedFlowLogs wrote: %+v", len(convs), convs)
	}
	var tr struct {
		Points []struct {
			BytesIn  uint64 `json:"bytes_in"`
			BytesOut uint64 `json:"bytes_out"`
		} `json:"points"`
	}
	getJSON(t, base+"/api/flows/traffic?component="+url.QueryEscape(web1), &tr)
	var in, out uint64
	for _, p := range tr.Points {
		in += p.BytesIn
		out += p.BytesOut
	}

	// web-1's details link to its flows.
	b.Do(t, time.Minute, browsertest.Navigate(base+"/#/topology/All?component="+url.QueryEscape(web1)))
	b.WaitJS(t, 30*time.Second, `document.getElementById("details-flows")`)
	b.Do(t, 10*time.Second, chromedp.Click(chromedp.CSS("#details-flows")))
	b.WaitJS(t, 30*time.Second, flowsShown)
	if title := browsertest.Eval[string](t, b, `document.getElementById("flows-title").textContent`); title != "Flows of web-1 (ec2.instance)" {
		t.Errorf("title %q", title)
	}
	b.WaitJS(t, 10*time.Second, `document.querySelector("#flows-chart canvas")`)
	sums := browsertest.Eval[[]uint64](t, b, `window.__skymap.flows.chart.slice(1).map((s) => s.reduce((a, b) => a + b, 0))`)
	if len(sums) != 3 || sums[0] != in || sums[1] != out || in == 0 {
		t.Errorf("the chart sums %v bytes in, out and rejected; the API %d in, %d out", sums, in, out)
	} else if sums[2] != 10*180 {
		t.Errorf("the chart shows %d rejected bytes, want the 10×180 of the rejected SSH", sums[2])
	}
	got := browsertest.Eval[[]flowRow](t, b, readFlowRows)
	sortFlowRows(got)
	sortFlowRows(want)
	if !slices.Equal(got, want) {
		t.Errorf("the table shows\n%+v\nthe API says\n%+v", got, want)
	}
	for _, r := range got {
		if r.Rejected != (r.Port == 22) {
			t.Errorf("row %+v: rejected %v", r, r.Rejected)
		}
	}
	if name := browsertest.Eval[string](t, b, `document.querySelector('#flows-table a.endpoint[data-id=`+browsertest.JSString(app1)+`]').textContent`); name != "app-1" {
		t.Errorf("app-1's end reads %q, want its name", name)
	}

	// Sorted by bytes in, then out: biggest first.
	for _, key := range []string{"in", "out"} {
		b.Do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`a[data-sort="`+key+`"]`)))
		b.WaitJS(t, 10*time.Second, `location.hash.includes("sort=`+key+`") && `+flowsShown)
		rows := browsertest.Eval[[]flowRow](t, b, readFlowRows)
		if len(rows) != len(want) || !slices.IsSortedFunc(rows, func(a, b flowRow) int {
			if key == "in" {
				return cmpDesc(a.BytesIn, b.BytesIn)
			}
			return cmpDesc(a.BytesOut, b.BytesOut)
		}) {
			t.Errorf("sorted by bytes %s: %+v", key, rows)
		}
	}
	b.Screenshot(t, filepath.Join(screenshotDir(t), "flows.png"))

	// A local-port filter keeps web-1's HTTPS.
	b.Do(t, 10*time.Second, chromedp.SetValue(chromedp.CSS("#flows-local-port"), "443"), chromedp.Click(chromedp.CSS("#flows-apply")))
	b.WaitJS(t, 10*time.Second, `location.hash.includes("local_port=443") && `+flowsShown)
	if rows := browsertest.Eval[[]flowRow](t, b, readFlowRows); len(rows) != 1 || rows[0].Port != 443 || rows[0].Local != web1 {
		t.Errorf("filtered by local port 443: %+v", rows)
	}

	// A bad filter: the API's 400 names the parameter.
	b.Do(t, 10*time.Second, chromedp.SetValue(chromedp.CSS("#flows-local-port"), "https"), chromedp.Click(chromedp.CSS("#flows-apply")))
	b.WaitJS(t, 10*time.Second, `location.hash.includes("local_port=https") && `+flowsShown)
	if text := browsertest.Eval[string](t, b, `(document.getElementById("flows-error") || {}).textContent || ""`); !strings.Contains(text, "local_port: want a port") {
		t.Errorf("local port https: the page says %q", text)
	}

	// The VPC's scope: the conversations with an end in its CIDR block.
	var d struct{ Component model.Component }
	getJSON(t, base+"/api/components/"+url.PathEscape(web1), &d)
	vpc, _ := d.Component.Data["VpcId"].(string)
	b.Do(t, 10*time.Second, browsertest.SetHash("#/flows?vpc="+url.QueryEscape(vpc)))
	b.WaitJS(t, 10*time.Second, flowsShown)
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#flows-table tbody tr").length`); n < 3 {
		t.Errorf("VPC %s's flows: %d rows, want at least web-1's and app-1's 3", vpc, n)
	}

	// An account's scope: what its flow logs reported; the other account's
	// are none.
	b.Do(t, 10*time.Second, browsertest.SetHash("#/flows?account="+flowAccount))
	b.WaitJS(t, 10*time.Second, flowsShown)
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#flows-table tbody tr").length`); n != 4 {
		t.Errorf("account %s's flows: %d rows, want the 4 conversations SeedFlowLogs wrote", flowAccount, n)
	}
	b.Do(t, 10*time.Second, browsertest.SetHash("#/flows?account=111111111111"))
	b.WaitJS(t, 10*time.Second, flowsShown)
	if text := browsertest.Eval[string](t, b, `document.getElementById("flows-count").textContent`); text != "No flows in the range with these filters." {
		t.Errorf("account 111111111111's flows: %q", text)
	}

	// Clicking app-1's end opens its details.
	b.Do(t, 10*time.Second, browsertest.SetHash("#/flows?component="+url.QueryEscape(web1)))
	b.WaitJS(t, 10*time.Second, flowsShown)
	b.Do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#flows-table a.endpoint[data-id=`+strconv.Quote(app1)+`]`)))
	b.WaitJS(t, 30*time.Second, `document.getElementById("details-name") && document.getElementById("details-name").textContent === "app-1"`)

	if d := b.Dialogs(); len(d) > 0 {
		t.Errorf("dialogs opened: %v", d)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions: %v", ex)
	}
	if v := browsertest.Eval[[]string](t, b, `window.__skymap.cspViolations`); len(v) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", v)
	}
}

func sortFlowRows(rs []flowRow) {
	slices.SortFunc(rs, func(a, b flowRow) int { return a.Port - b.Port })
}

func cmpDesc(a, b uint64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// screenshotDir is where the UI tests write their screenshots: with
// -update, docs/screenshots; else a temporary directory.
func screenshotDir(t *testing.T) string {
	if !*update {
		return t.TempDir()
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

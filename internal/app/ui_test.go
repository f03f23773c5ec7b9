package app

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/ui/browsertest"
)

// TestUI drives skymap's web UI in Chromium against serve on the sample
// estate with its telemetry, as `make demo` shows it: the All view draws
// the estate and the Infrastructure and Serverless views their part; a search for web-1 and a click on its node open its details
// with its type, metrics chart and logs; a tag holding <script> shows as
// text and runs nothing; the map moves to a past time and back; the
// changes and status pages render. With
// -update it rewrites the screenshots in docs/screenshots (but status.png,
// which TestUIStatus takes).
func TestUI(t *testing.T) {
	b := browsertest.New(t)
	m, built := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := awstest.SeedTelemetry(ctx, m, built); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\nhealth: {interval: 1}\n"+
		"logs: {groups: [{component: 'urn:host:/web-1.shop.example.com', group: '"+awstest.DemoWebLogGroup+"'}]}\n", t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	base := "http://" + addr
	shots := t.TempDir()
	if *update {
		shots = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var topo struct {
		Components []model.Component `json:"components"`
	}
	getJSON(t, base+"/api/topology", &topo)
	web1, ok := built.ID("<i:web-1>")
	if !ok {
		t.Fatal("no <i:web-1>")
	}
	// web-1's alarm makes it CRITICAL within a health refresh: wait, so
	// that the screenshots show it.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var d struct{ Component model.Component }
		getJSON(t, base+"/api/components/"+url.PathEscape(web1), &d)
		if d.Component.Health == model.HealthCritical {
			break
		}
	}

	// The All view: every component of the map is a node.
	b.Do(t, time.Minute, browsertest.Navigate(base+"/"))
	b.WaitJS(t, time.Minute, `window.__skymap && window.__skymap.firstRender`)
	first := browsertest.Eval[map[string]float64](t, b, `window.__skymap.firstRender`)
	t.Logf("first render of the All view of %d components: %.0f ms after navigation (layout %.0f ms)",
		len(topo.Components), first["sinceNavigation"], first["layout"])
	ids := browsertest.Eval[[]string](t, b, `window.__skymap.cy.nodes('[kind = "component"]').map((n) => n.id())`)
	drawn := map[string]bool{}
	for _, id := range ids {
		drawn[id] = true
	}
	for _, c := range topo.Components {
		if !drawn[c.ID] {
			t.Errorf("the All view does not draw %s (%s)", c.ID, c.Name)
		}
	}
	if len(ids) != len(topo.Components) {
		t.Errorf("the All view draws %d components, the map has %d", len(ids), len(topo.Components))
	}
	b.Screenshot(t, filepath.Join(shots, "topology.png"))

	// The other built-in views: their layers and types only.
	for _, v := range []struct {
		name string
		keep func(model.Component) bool
	}{
		{"Infrastructure", func(c model.Component) bool {
			return c.Layer == model.LayerNetworking || c.Layer == model.LayerStorage || c.Layer == model.LayerMachines
		}},
		{"Serverless", func(c model.Component) bool {
			return c.Type == "aws.s3.bucket" || c.Type == "aws.lambda.function" || c.Type == "aws.lambda.alias" ||
				c.Type == "aws.elb-v2.application-load-balancer"
		}},
	} {
		n := 0
		for _, c := range topo.Components {
			if v.keep(c) {
				n++
			}
		}
		b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(`.tabs a[data-view="`+v.name+`"]`)))
		b.WaitJS(t, 30*time.Second, `window.__skymap.lastRender && window.__skymap.lastRender.viewName.endsWith(" - `+v.name+`")`)
		if got := browsertest.Eval[int](t, b, `window.__skymap.cy.nodes('[kind = "component"]').length`); got != n || n == 0 {
			t.Errorf("the %s view draws %d components, want %d", v.name, got, n)
		}
		if v.name == "Infrastructure" {
			b.Screenshot(t, filepath.Join(shots, "infrastructure.png"))
		}
	}
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(`.tabs a[data-view="All"]`)))
	b.WaitJS(t, 30*time.Second, `window.__skymap.lastRender.viewName.endsWith(" - All")`)

	// Search for web-1, click its node: the details pane shows its type,
	// its metrics as charts and its logs, untrusted text as text.
	b.Do(t, 30*time.Second,
		chromedp.SetValue(chromedp.CSS("#search"), "web-1"),
		chromedp.Click(chromedp.CSS(".searchform button")))
	b.WaitJS(t, 30*time.Second, `window.__skymap.lastRender.q === "web-1"`)
	xy := browsertest.Eval[[]float64](t, b, `(() => {
		const n = window.__skymap.cy.getElementById(`+browsertest.JSString(web1)+`);
		if (n.empty()) return [];
		const p = n.renderedPosition(), r = document.getElementById("graph").getBoundingClientRect();
		return [p.x + r.left, p.y + r.top];
	})()`)
	if len(xy) != 2 {
		t.Fatalf("the search for web-1 does not draw %s", web1)
	}
	b.Do(t, 10*time.Second, chromedp.MouseClickXY(xy[0], xy[1]))
	b.WaitJS(t, 30*time.Second, `document.getElementById("details-type") && document.getElementById("details-type").textContent === "aws.ec2.instance"`)
	if name := browsertest.Eval[string](t, b, `document.getElementById("details-name").textContent`); name != "web-1" {
		t.Errorf("details pane name %q, want web-1", name)
	}
	b.WaitJS(t, time.Minute, `document.querySelector('#details-metrics figure[data-metric="CPUUtilization"] canvas')`)
	b.WaitJS(t, time.Minute, `document.querySelector("#details-logs ol.loglines li")`)
	logs := browsertest.Eval[string](t, b, `document.getElementById("details-logs").textContent`)
	if !strings.Contains(logs, `<script>alert("tag")</script> untrusted text shown as text`) {
		t.Errorf("web-1's logs do not show the untrusted line as text: %.300q", logs)
	}
	if h := browsertest.Eval[string](t, b, `document.getElementById("details-health").textContent`); h != model.HealthCritical {
		t.Errorf("web-1's health shows %q, want CRITICAL", h)
	}
	if href := browsertest.Eval[string](t, b, `(document.getElementById("details-console") || {}).href || ""`); !strings.Contains(href, "InstanceDetails:instanceId="+web1) {
		t.Errorf("console link %q", href)
	}
	b.Screenshot(t, filepath.Join(shots, "details.png"))
	b.Do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById("details-metrics").scrollIntoView()`))
	b.Screenshot(t, filepath.Join(shots, "details-metrics.png"))

	// A tag value holding <script> is shown as text and runs nothing.
	var tricky struct{ Components []model.Component }
	getJSON(t, base+"/api/components?label="+url.QueryEscape("note:"+awstest.TrickyHTML), &tricky)
	if len(tricky.Components) == 0 {
		t.Fatal("no component tagged note:" + awstest.TrickyHTML)
	}
	b.Do(t, 30*time.Second, browsertest.SetHash("#/topology/All?component="+url.QueryEscape(tricky.Components[0].ID)))
	b.WaitJS(t, 30*time.Second, `document.getElementById("details-labels") && document.getElementById("details-name").textContent === `+
		browsertest.JSString(tricky.Components[0].Name))
	if labels := browsertest.Eval[string](t, b, `document.getElementById("details-labels").textContent`); !strings.Contains(labels, "note:"+awstest.TrickyHTML) {
		t.Errorf("the labels do not show %q as text: %q", "note:"+awstest.TrickyHTML, labels)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#page script, #page img, #page iframe").length`); n != 0 {
		t.Errorf("%d elements made of data in the page", n)
	}

	// The map as it was before the first scan: empty; and now again.
	b.Do(t, 30*time.Second, browsertest.SetHash("#/topology/All?at="+url.QueryEscape(started.Add(-time.Minute).UTC().Format(time.RFC3339))))
	b.WaitJS(t, 30*time.Second, `document.getElementById("graph-note").textContent.startsWith("0 of 0 components in AWS - every instance - All as of")`)
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS(".searchform button[type=button]")))
	b.WaitJS(t, 30*time.Second, `document.getElementById("graph-note").textContent.startsWith(`+
		browsertest.JSString(fmt.Sprintf("%d of %d components in AWS - every instance - All", len(topo.Components), len(topo.Components)))+`)`)

	// The changes timeline lists the scan's changes, linked to components.
	b.Do(t, 30*time.Second, browsertest.SetHash("#/changes"))
	b.WaitJS(t, 30*time.Second, `document.querySelector("#changes table tbody tr a")`)
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#changes tbody tr").length`); n < len(topo.Components) {
		t.Errorf("the changes page lists %d changes, want at least the %d creations", n, len(topo.Components))
	}
	// health changes carry a diff, shown whole when expanded
	if !browsertest.Eval[bool](t, b, `[...document.querySelectorAll("#changes details.diff pre")].some((p) => p.textContent.includes('"health"'))`) {
		t.Error("no change on the changes page shows its diff")
	}
	b.Screenshot(t, filepath.Join(shots, "changes.png"))

	// The status page: both accounts connected.
	b.Do(t, 30*time.Second, browsertest.SetHash("#/status"))
	b.WaitJS(t, 30*time.Second, `document.querySelector("#status table")`)
	status := browsertest.Eval[string](t, b, `document.getElementById("status").textContent`)
	for _, want := range []string{"123456789012", "111111111111", "connected", "eu-west-1"} {
		if !strings.Contains(status, want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
	// TestUIStatus takes status.png, of the page with flow logs on.

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

package app

import (
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/ui/browsertest"
)

// TestUIViews drives the views in Chromium against serve on the sample
// estate: the picker offers each instance's built-in views; a user
// defines a view in the form, sees the graph draw exactly its components,
// finds it again after a reload and a restart of serve on the same data
// directory, changes and deletes it; a filter the API refuses shows the
// API's reason, and a name holding HTML shows as text. With -update it
// writes docs/screenshots/views.png.
func TestUIViews(t *testing.T) {
	b := browsertest.New(t)
	estate(t)
	dir := t.TempDir()
	const cfg = optOut + "flowlogs: {enabled: false}\n"
	addr, stop := serve(t, cfg, dir)
	waitScan(t, addr, time.Time{})
	base := "http://" + addr

	var views api.ViewList
	getJSON(t, base+"/api/views", &views)
	var names []string
	for _, v := range views.Views {
		names = append(names, v.Name)
	}
	for _, want := range []string{"AWS - every instance - All", "AWS - 123456789012 - All", "AWS - 123456789012 - Infrastructure",
		"AWS - 111111111111 - Serverless"} {
		if !slices.Contains(names, want) {
			t.Errorf("GET /api/views lacks %q: %q", want, names)
		}
	}

	b.Do(t, time.Minute, browsertest.Navigate(base+"/#/topology/All"))
	b.WaitJS(t, time.Minute, `window.__skymap && window.__skymap.firstRender`)
	options := browsertest.Eval[[]string](t, b, `[...document.querySelectorAll("#view option")].map((o) => o.textContent)`)
	if !slices.Equal(options, names) {
		t.Errorf("the view picker offers %q, want the API's views %q", options, names)
	}
	// An account's own built-in view draws that account's components only.
	b.Do(t, 30*time.Second, chromedp.SetValue(chromedp.CSS("#view"), "aws-111111111111-all"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("view").dispatchEvent(new Event("change"))`))
	b.WaitJS(t, 30*time.Second, `window.__skymap.lastRender.viewName === "AWS - 111111111111 - All"`)
	own := viewComponents(t, base, "aws-111111111111-all")
	for _, c := range own {
		if c.Account != "111111111111" {
			t.Errorf("GET /api/components?view=aws-111111111111-all holds %s of account %s", c.ID, c.Account)
		}
	}
	if got, want := drawnIDs(t, b), sortedIDs(own); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("AWS - 111111111111 - All draws %q, want %q", got, want)
	}
	if tab := browsertest.Eval[string](t, b, `document.querySelector(".tabs a.active").dataset.view`); tab != "All" {
		t.Errorf("active tab %q, want All", tab)
	}

	// A view the API refuses: its reason shows by the form.
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS("#view-new")))
	b.WaitJS(t, 10*time.Second, `document.getElementById("view-editor")`)
	b.Do(t, 30*time.Second,
		chromedp.SetValue(chromedp.CSS("#vf-name"), "bad"),
		chromedp.SetValue(chromedp.CSS("#vf-types"), "aws.ec2.instanse"),
		chromedp.Click(chromedp.CSS("#view-save")))
	b.WaitJS(t, 10*time.Second, `document.getElementById("view-error").textContent.includes("filter.types[0]")`)

	// A view of the EC2 instances: drawn, and named as typed.
	const name = `Web <b>servers</b>`
	b.Do(t, 30*time.Second,
		chromedp.SetValue(chromedp.CSS("#vf-name"), name),
		chromedp.SetValue(chromedp.CSS("#vf-types"), "aws.ec2.instance"),
		chromedp.Click(chromedp.CSS(`input[name="vf-layer"][value="Machines"]`)))
	b.Screenshot(t, filepath.Join(shotsDir(t), "views.png"))
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS("#view-save")))
	b.WaitJS(t, 30*time.Second, `window.__skymap.lastRender.viewName === `+browsertest.JSString(name))
	id := browsertest.Eval[string](t, b, `document.getElementById("view").value`)
	want := viewComponents(t, base, id)
	if len(want) < 2 {
		t.Fatalf("the view %s holds %d components, want the estate's instances", id, len(want))
	}
	for _, c := range want {
		if c.Type != "aws.ec2.instance" {
			t.Errorf("the view holds %s %s (%s)", c.Type, c.ID, c.Name)
		}
	}
	if got, want := drawnIDs(t, b), sortedIDs(want); !slices.Equal(got, want) {
		t.Errorf("the view draws %q, want %q", got, want)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#view b, #page b").length`); n != 0 {
		t.Errorf("the view's name made %d <b> elements", n)
	}

	// After a restart on the same data directory, a reload finds it.
	stop()
	addr, stop = serve(t, cfg, dir)
	defer stop()
	waitScan(t, addr, time.Time{})
	base = "http://" + addr
	b.Do(t, time.Minute, browsertest.Navigate(base+"/#/topology/"+url.PathEscape(id)))
	b.WaitJS(t, time.Minute, `window.__skymap.lastRender && window.__skymap.lastRender.viewName === `+browsertest.JSString(name))
	if got, want := drawnIDs(t, b), sortedIDs(viewComponents(t, base, id)); !slices.Equal(got, want) {
		t.Errorf("after a restart the view draws %q, want %q", got, want)
	}

	// Changed to web-1 only.
	b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS("#view-edit")))
	b.WaitJS(t, 10*time.Second, `document.getElementById("vf-types").value === "aws.ec2.instance"`)
	// lastRender is replaced by the next drawing
	b.Do(t, 30*time.Second, chromedp.Evaluate[chromedp.Void](`window.__skymap.lastRender.stale = true`),
		chromedp.SetValue(chromedp.CSS("#vf-match"), "web-1"), chromedp.Click(chromedp.CSS("#view-save")))
	b.WaitJS(t, 30*time.Second, `!window.__skymap.lastRender.stale`)
	narrow := viewComponents(t, base, id)
	if got := drawnIDs(t, b); len(narrow) == 0 || len(narrow) >= len(want) || !slices.Equal(got, sortedIDs(narrow)) {
		t.Errorf("after narrowing to web-1 the view draws %q, want %q", got, sortedIDs(narrow))
	}

	// Deleted: the picker goes back to the All view and the API forgets it.
	b.Do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), chromedp.Click(chromedp.CSS("#view-delete")))
	b.WaitJS(t, 30*time.Second, `window.__skymap.lastRender.viewName === "AWS - every instance - All"`)
	getJSON(t, base+"/api/views", &views)
	for _, v := range views.Views {
		if v.ID == id {
			t.Errorf("the deleted view is still listed: %+v", v)
		}
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions: %v", ex)
	}
	if v := browsertest.Eval[[]string](t, b, `window.__skymap.cspViolations`); len(v) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", v)
	}
}

func viewComponents(t *testing.T, base, id string) []model.Component {
	t.Helper()
	var list api.ComponentList
	getJSON(t, base+"/api/components?limit=10000&view="+url.QueryEscape(id), &list)
	return list.Components
}

func sortedIDs(cs []model.Component) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

// drawnIDs returns the ids of the component nodes the graph draws, sorted.
func drawnIDs(t *testing.T, b *browsertest.Browser) []string {
	ids := browsertest.Eval[[]string](t, b, `window.__skymap.cy.nodes('[kind = "component"]').map((n) => n.id())`)
	slices.Sort(ids)
	return ids
}

// shotsDir is where screenshots go: docs/screenshots with -update, else
// a temporary directory.
func shotsDir(t *testing.T) string {
	if *update {
		return filepath.Join("..", "..", "docs", "screenshots")
	}
	return t.TempDir()
}

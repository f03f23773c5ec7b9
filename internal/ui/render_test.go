package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/ui"
	"github.com/skymap/skymap/internal/ui/browsertest"
)

// bigEstate generates n components over 4 accounts, 2 regions each and
// 10 VPCs a region, with the relations of a real estate: instances and
// ENIs in subnets, subnets in VPCs, Lambda functions to queues and tables.
func bigEstate(n int) ([]model.Component, []model.Relation) {
	var comps []model.Component
	var rels []model.Relation
	health := []string{model.HealthClear, model.HealthClear, model.HealthClear, model.HealthDeviating, model.HealthCritical, ""}
	add := func(c model.Component) {
		c.Health = health[len(comps)%len(health)]
		// about the size of a real description (the sample estate's
		// average is 1.1 KB a component with its data)
		if c.Data == nil {
			c.Data = map[string]any{}
		}
		tags := map[string]string{}
		for k := range 12 {
			tags[fmt.Sprintf("tag-%02d", k)] = fmt.Sprintf("value %d of component %s", k, c.ID)
		}
		c.Data["Tags"] = tags
		c.Data["Description"] = strings.Repeat("x", 300)
		c.Identifiers = []string{"arn:aws:example:" + c.Region + ":" + c.Account + ":" + c.ID, "urn:host:/" + c.ID}
		c.Labels = []string{"aws-account:" + c.Account, "aws-region:" + c.Region}
		comps = append(comps, c)
	}
	last := map[string]string{} // type+account+region -> the newest id
	for i := 0; len(comps) < n; i++ {
		account := fmt.Sprintf("%012d", 100000000000+i%4)
		region := []string{"eu-west-1", "us-east-1"}[i/4%2]
		where := account + "/" + region
		vpc := fmt.Sprintf("vpc-%s-%d", account[8:], i/8%5)
		id := fmt.Sprintf("c-%06d", i)
		link := func(typ string) {
			if to, ok := last[typ+where]; ok {
				rels = append(rels, model.Relation{Source: id, Target: to, Type: model.UsesService})
			}
		}
		if _, ok := last["vpc"+vpc]; !ok {
			last["vpc"+vpc] = vpc
			add(model.Component{ID: vpc, Type: "aws.ec2.vpc", Name: vpc, Account: account, Region: region, Layer: "Networking", Data: map[string]any{"VpcId": vpc}})
		}
		c := model.Component{ID: id, Account: account, Region: region, Data: map[string]any{"VpcId": vpc}}
		switch i % 10 {
		case 0:
			c.Type, c.Name, c.Layer = "aws.ec2.security-group", fmt.Sprintf("sg-%d", i), "Networking"
		case 1, 2:
			c.Type, c.Name, c.Layer = "aws.ec2.subnet", fmt.Sprintf("subnet-%d", i), "Networking"
		case 3, 4, 5:
			c.Type, c.Name, c.Layer = "aws.ec2.instance", fmt.Sprintf("web-%05d", i), "Machines"
			link("aws.ec2.subnet")
		case 6, 7:
			c.Type, c.Name, c.Layer, c.Data = "aws.lambda.function", fmt.Sprintf("fn-%d", i), "Serverless", nil
			link("aws.sqs.queue")
			link("aws.ec2.instance")
		default:
			c.Type, c.Name, c.Layer, c.Data = "aws.sqs.queue", fmt.Sprintf("q-%d", i), "Messaging", nil
		}
		add(c)
		last[c.Type+where] = id
	}
	return comps, rels
}

// TestFirstRender10k measures, in Chromium, the first render of the All
// view of 10,000 components (fetch, aggregation and layout), which must
// stay responsive: aggregated to at most 1,500 nodes, and drawn in under
// 30 s even on a loaded CI machine.
func TestFirstRender10k(t *testing.T) {
	b := browsertest.New(t)
	firstRender(t, b, 10000)
}

// TestFirstRenderUnaggregated measures the first render of the most
// components the graph draws one by one.
func TestFirstRenderUnaggregated(t *testing.T) {
	b := browsertest.New(t)
	firstRender(t, b, 1450)
}

func firstRender(t *testing.T, b *browsertest.Browser, n int) {
	comps, rels := bigEstate(n)
	body, err := json.MarshalIndent(map[string]any{"components": comps, "relations": rels}, "", "  ") // as the API writes it
	if err != nil {
		t.Fatal(err)
	}
	api := http.NewServeMux()
	// One instance's built-in All view: the map holds nothing else.
	api.HandleFunc("GET /api/views", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"views": [{"id": "aws-big-all", "name": "AWS - big - All", "builtin": true, "instance": "big", "filter": {}}]}`))
	})
	api.HandleFunc("GET /api/topology", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	srv := httptest.NewServer(ui.Handler(api))
	defer srv.Close()

	start := time.Now()
	b.Do(t, time.Minute, browsertest.Navigate(srv.URL+"/#/topology/All"))
	b.WaitJS(t, 60*time.Second, `window.__skymap && window.__skymap.firstRender`)
	wall := time.Since(start)
	type render struct {
		SinceNavigation float64 `json:"sinceNavigation"`
		Layout          float64 `json:"layout"`
		Nodes, Edges    int
		Components      int // nodes that are not groups
	}
	r := browsertest.Eval[render](t, b, `window.__skymap.firstRender`)
	t.Logf("%.1f MB of JSON", float64(len(body))/1e6)
	t.Logf("first render of the All view of %d components, %d relations: %.0f ms after navigation (layout %.0f ms), %d nodes (%d not groups), %d edges; %s wall",
		len(comps), len(rels), r.SinceNavigation, r.Layout, r.Nodes, r.Components, r.Edges, wall.Round(time.Millisecond))
	if r.Components == 0 || r.Components > 1500 || (n <= 1500) != (r.Components == n) {
		t.Errorf("%d component nodes drawn of %d, want all up to 1,500, else aggregated", r.Components, n)
	}
	if r.SinceNavigation > 30000 {
		t.Errorf("first render took %.0f ms", r.SinceNavigation)
	}
	note := browsertest.Eval[string](t, b, `document.getElementById("graph-note").textContent`)
	if !strings.Contains(note, fmt.Sprintf("%d components", n)) || (n > 1500) != strings.Contains(note, "too many to draw one by one") {
		t.Errorf("the page does not say it aggregated: %q", note)
	}

	// Clicking an aggregate lists its members, each a link to its details.
	if n > 1500 {
		agg := browsertest.Eval[[]any](t, b, `(() => { const n = window.__skymap.cy.nodes('[kind = "aggregate"]').first(); return [n.id(), n.data("count")]; })()`)
		b.Do(t, 30*time.Second, browsertest.SetHash("#/topology/All?component="+url.QueryEscape(agg[0].(string))))
		b.WaitJS(t, 30*time.Second, `document.querySelectorAll("#details li a").length === `+fmt.Sprint(min(int(agg[1].(float64)), 500)))

		// Expand draws its members as single nodes in its place; the other
		// aggregates stay.
		count := `[window.__skymap.cy.nodes('[kind = "aggregate"]').length, window.__skymap.cy.nodes('[kind = "component"]').length]`
		was := browsertest.Eval[[]int](t, b, count)
		b.Do(t, 30*time.Second, chromedp.Click(chromedp.CSS("#details-expand")))
		b.WaitJS(t, 30*time.Second, `window.__skymap.cy.getElementById(`+browsertest.JSString(agg[0].(string))+`).empty()`)
		got := browsertest.Eval[[]int](t, b, count)
		if want := []int{was[0] - 1, was[1] + int(agg[1].(float64))}; got[0] != want[0] || got[1] != want[1] {
			t.Errorf("after expanding %s (%v members): %d aggregates and %d single nodes, want %v", agg[0], agg[1], got[0], got[1], want)
		}
	}

	// A search shows single components again.
	b.Do(t, 30*time.Second, browsertest.SetHash("#/topology/All?q=web-00013"))
	b.WaitJS(t, 30*time.Second, `window.__skymap.lastRender && window.__skymap.lastRender.q === "web-00013"`)
	if !browsertest.Eval[bool](t, b, `window.__skymap.cy.getElementById("c-000013").nonempty()`) {
		t.Error("a search for web-00013 does not draw its instance")
	}
	t.Logf("phases %v", browsertest.Eval[map[string]float64](t, b, `window.__skymap.firstPhases`))
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("exceptions: %v", ex)
	}
	if v := browsertest.Eval[[]string](t, b, `window.__skymap.cspViolations`); len(v) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", v)
	}
}

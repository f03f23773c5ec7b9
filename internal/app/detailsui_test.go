package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/ui/browsertest"
)

// TestUIDetails drives the details pane and the layered layout in
// Chromium against serve on the sample estate: web-1 is tagged in AWS and
// the EventBridge event of that call arrives in the log bucket; the pane
// lists the event with its actor; moved to a time before the change, the
// pane shows web-1 as it was then; and the layers place Networking above
// Machines in each group, or not when the Force layout is chosen.
func TestUIDetails(t *testing.T) {
	b := browsertest.New(t)
	m, built := estate(t)
	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\n", t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	base := "http://" + addr
	web1, ok := built.ID("<i:web-1>")
	if !ok {
		t.Fatal("no <i:web-1>")
	}
	// Versions are stamped with the server's clock: a moment between the
	// scan and the change is one from this clock with room on both sides.
	time.Sleep(1100 * time.Millisecond)
	before := time.Now().UTC().Truncate(time.Second)
	time.Sleep(1100 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec2.NewFromConfig(cfg).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{web1},
		Tags: []ec2types.Tag{{Key: aws.String("owner"), Value: aws.String("payments")}}}); err != nil {
		t.Fatal(err)
	}
	const actor = "arn:aws:iam::123456789012:user/dora"
	event := `{"version":"0","id":"ev-tag-1","detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","account":"123456789012",` +
		`"time":"2026-11-22T10:00:00Z","region":"eu-west-1","resources":[],"detail":{"eventVersion":"1.08","eventID":"ct-tag-1",` +
		`"eventSource":"ec2.amazonaws.com","eventName":"CreateTags","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.23",` +
		`"userIdentity":{"type":"IAMUser","arn":"` + actor + `"},` +
		`"requestParameters":{"resourcesSet":{"items":[{"resourceId":"` + web1 + `"}]},"tagSet":{"items":[{"key":"owner","value":"payments"}]}}}}`
	var obj bytes.Buffer
	zw := gzip.NewWriter(&obj)
	zw.Write([]byte(event))
	zw.Close()
	if _, err := awsconn.NewS3(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("stackstate-logs-123456789012"),
		Key:  aws.String("AWSLogs/123456789012/EventBridge/eu-west-1/2026/11/22/10/stream-1-2026-11-22-10-00-00-tag.gz"),
		Body: bytes.NewReader(obj.Bytes())}); err != nil {
		t.Fatal(err)
	}
	tagged := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !tagged; time.Sleep(200 * time.Millisecond) {
		var d struct{ Component model.Component }
		getJSON(t, base+"/api/components/"+url.PathEscape(web1), &d)
		for _, l := range d.Component.Labels {
			tagged = tagged || l == "owner:payments"
		}
	}
	if !tagged {
		t.Fatal("web-1 is not tagged owner:payments within 30 s of its event")
	}

	// Now: the Events section names the call and its actor, and links to
	// its diff in the history.
	route := "#/topology/All?component=" + url.QueryEscape(web1)
	b.Do(t, time.Minute, browsertest.Navigate(base+"/"+route))
	b.WaitJS(t, time.Minute, `document.querySelector("#details-events table")`)
	events := browsertest.Eval[string](t, b, `document.getElementById("details-events").textContent`)
	for _, want := range []string{"CreateTags", actor, "198.51.100.23", "ev-tag-1"} {
		if !strings.Contains(events, want) {
			t.Errorf("the Events section lacks %q: %.400q", want, events)
		}
	}
	// Element.append writes a part left out (null) as the text "null".
	if stray := browsertest.Eval[[]string](t, b, `[...document.getElementById("details").childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent)`); len(stray) > 0 {
		t.Errorf("the pane holds stray text %q", stray)
	}
	if !browsertest.Eval[bool](t, b, `document.getElementById("details-labels").textContent.includes("owner:payments")`) {
		t.Error("web-1's labels now lack owner:payments")
	}
	b.Do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#details-events tbody tr")].find((tr) => tr.textContent.includes("CreateTags")).querySelector("button.link").click()`))
	if !browsertest.Eval[bool](t, b, `[...document.querySelectorAll("#details-history details.diff")].some((d) => d.open && d.textContent.includes("owner:payments"))`) {
		t.Error("the event's diff link does not open the change's diff in the history")
	}

	// Before the change: the pane shows web-1 as it was, untagged.
	b.Do(t, 30*time.Second, browsertest.SetHash(route+"&at="+url.QueryEscape(before.Format(time.RFC3339))))
	b.WaitJS(t, 30*time.Second, `document.getElementById("details-at") && document.getElementById("details-labels")`)
	if labels := browsertest.Eval[string](t, b, `document.getElementById("details-labels").textContent`); strings.Contains(labels, "owner:payments") {
		t.Errorf("web-1 before its tagging shows the tag: %q", labels)
	}
	if name := browsertest.Eval[string](t, b, `document.getElementById("details-name").textContent`); name != "web-1" {
		t.Errorf("web-1 before its tagging is named %q", name)
	}
	if events := browsertest.Eval[string](t, b, `document.getElementById("details-events").textContent`); strings.Contains(events, "CreateTags") {
		t.Errorf("web-1 before its tagging lists the later event: %.300q", events)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#details-neighbours li").length`); n == 0 {
		t.Error("web-1 before its tagging has no neighbours from the map of then")
	}

	// The layered layout: in each group, every Networking node is above
	// every Machines node; and there is a group holding both.
	// The past map's render must not pass for the new one.
	b.Do(t, 30*time.Second, chromedp.Evaluate[chromedp.Void](`window.__skymap.lastRender = null`), browsertest.SetHash("#/topology/All"))
	b.WaitJS(t, 30*time.Second, `window.__skymap.lastRender && window.__skymap.lastRender.arrangement === "layers" && document.getElementById("details").hidden`)
	const layering = `(() => {
		const groups = new Map();
		window.__skymap.cy.nodes('[kind = "component"]').forEach((n) => {
			const g = n.data("parent"), y = n.position("y");
			if (!groups.has(g)) groups.set(g, { net: -Infinity, mach: Infinity });
			const s = groups.get(g);
			if (n.data("layer") === "Networking") s.net = Math.max(s.net, y);
			if (n.data("layer") === "Machines") s.mach = Math.min(s.mach, y);
		});
		const both = [...groups.values()].filter((s) => s.net > -Infinity && s.mach < Infinity);
		return [both.length, both.filter((s) => s.net < s.mach).length];
	})()`
	if got := browsertest.Eval[[]int](t, b, layering); got[0] == 0 || got[1] != got[0] {
		t.Errorf("%d of %d groups with Networking and Machines nodes draw Networking above Machines, want all and at least one", got[1], got[0])
	}
	if n := browsertest.Eval[int](t, b, `window.__skymap.cy.nodes('[kind = "band"]').filter((n) => n.data("label") === "Networking").length`); n == 0 {
		t.Error("no Networking band label")
	}
	// Force: no bands; the toggle keeps its choice, and the selection, in
	// the route.
	b.Do(t, 30*time.Second, browsertest.SetHash(route))
	b.WaitJS(t, 30*time.Second, `document.querySelector("#details-events table")`)
	b.Do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#layout button[data-layout="force"]`)))
	b.WaitJS(t, 30*time.Second, `window.__skymap.lastRender.arrangement === "force"`)
	if hash := browsertest.Eval[string](t, b, `location.hash`); !strings.Contains(hash, "layout=force") || !strings.Contains(hash, "component=") {
		t.Errorf("the Force layout or the selection is not in the route: %s", hash)
	}
	if n := browsertest.Eval[int](t, b, `window.__skymap.cy.nodes('[kind = "band"]').length`); n != 0 {
		t.Errorf("the Force layout draws %d band labels", n)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("exceptions: %v", ex)
	}
	if v := browsertest.Eval[[]string](t, b, `window.__skymap.cspViolations`); len(v) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", v)
	}
}

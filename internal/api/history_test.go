package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store/embedded"
	"github.com/skymap/skymap/internal/topology"
)

// historyServer serves a history: at t1 a scan found i-1, i-2 and
// subnet-1; at t2 an event renamed i-1 and deleted i-2.
func historyServer(t *testing.T) (http.Handler, *embedded.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := t1
	g := topology.New(nil, topology.WithStore(st), topology.WithClock(func() time.Time { return now }))
	sc := model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "aws.ec2.instance"}
	inst := func(id, name string) model.Component {
		return model.Component{ID: id, Type: sc.Type, Name: name, Account: sc.Account, Region: sc.Region,
			Identifiers: []string{"arn:aws:ec2:eu-west-1:123456789012:instance/" + id}}
	}
	subnet := model.Component{ID: "subnet-1", Type: "aws.ec2.subnet", Account: sc.Account, Region: sc.Region}
	if _, err := g.Apply(ctx, "scan", []model.Snapshot{
		{Scope: sc, Complete: true, Components: []model.Component{inst("i-1", "web"), inst("i-2", "db")}},
		{Scope: model.Scope{Account: sc.Account, Region: sc.Region, Type: subnet.Type}, Complete: true, Components: []model.Component{subnet}},
	}); err != nil {
		t.Fatal(err)
	}
	now = t2
	if _, err := g.ApplyBy(ctx, "event:e1 TerminateInstances", "arn:aws:iam::123456789012:user/ann", []model.Snapshot{
		{Scope: sc, Complete: true, Components: []model.Component{inst("i-1", "web-renamed")}},
	}); err != nil {
		t.Fatal(err)
	}
	return (&Server{Graph: g, History: st, Status: func(context.Context) any { return nil }}).Handler(), st
}

var (
	t1 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	t2 = t1.Add(time.Hour)
)

// names lists "id=name" of the components of a topology answer.
func names(body map[string]any) []string {
	out := []string{}
	list, _ := body["components"].([]any)
	for _, c := range list {
		m := c.(map[string]any)
		out = append(out, m["id"].(string)+"="+m["name"].(string))
	}
	return out
}

// changesOf lists "id change actor" of a history answer.
func changesOf(body map[string]any) []string {
	out := []string{}
	list, _ := body["versions"].([]any)
	for _, v := range list {
		m := v.(map[string]any)
		actor, _ := m["actor"].(string)
		out = append(out, m["id"].(string)+" "+m["change"].(string)+" "+actor)
	}
	return out
}

func TestHistoryAndChanges(t *testing.T) {
	h, _ := historyServer(t)
	const ann = "arn:aws:iam::123456789012:user/ann"
	tests := []struct {
		path   string
		status int
		want   []string
	}{
		{"/api/components/i-1/history", 200, []string{"i-1 created ", "i-1 updated " + ann}},
		{"/api/components/arn:aws:ec2:eu-west-1:123456789012:instance%2Fi-1/history", 200, []string{"i-1 created ", "i-1 updated " + ann}},
		{"/api/components/i-2/history", 200, []string{"i-2 created ", "i-2 deleted " + ann}},
		{"/api/components/i-1/history?limit=1", 200, []string{"i-1 updated " + ann}},
		{"/api/components/nope/history", 404, nil},
		{"/api/changes?actor=" + ann, 200, []string{"i-1 updated " + ann, "i-2 deleted " + ann}},
		{"/api/changes?type=aws.ec2.subnet", 200, []string{"subnet-1 created "}},
		{"/api/changes?type=aws.ec2.instance&account=123456789012", 200,
			[]string{"i-1 created ", "i-2 created ", "i-1 updated " + ann, "i-2 deleted " + ann}},
		{"/api/changes?account=999999999999", 200, []string{}},
		{"/api/changes?from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z", 200, []string{}},
		{"/api/changes?from=yesterday", 400, nil},
	}
	for _, tt := range tests {
		status, body := get(t, h, tt.path)
		if status != tt.status {
			t.Errorf("GET %s: status %d, want %d: %v", tt.path, status, tt.status, body)
			continue
		}
		if tt.want == nil {
			continue
		}
		if d := cmp.Diff(tt.want, changesOf(body)); d != "" {
			t.Errorf("GET %s (-want +got):\n%s", tt.path, d)
		}
	}
}

func TestTopologyAt(t *testing.T) {
	h, _ := historyServer(t)
	tests := []struct {
		at   string
		want []string
	}{
		{"2026-11-22T09:59:59Z", []string{}},
		{"2026-11-22T10:00:00Z", []string{"i-1=web", "i-2=db", "subnet-1="}},
		{"2026-11-22T10:30:00Z", []string{"i-1=web", "i-2=db", "subnet-1="}},
		{"2026-11-22T11:00:00Z", []string{"i-1=web-renamed", "subnet-1="}},
	}
	for _, tt := range tests {
		status, body := get(t, h, "/api/topology?at="+tt.at)
		if status != 200 {
			t.Errorf("at %s: status %d: %v", tt.at, status, body)
			continue
		}
		if d := cmp.Diff(tt.want, names(body)); d != "" {
			t.Errorf("at %s (-want +got):\n%s", tt.at, d)
		}
	}
	if status, body := get(t, h, "/api/topology"); status != 200 || len(names(body)) != 2 {
		t.Errorf("the map now: %d %v", status, body)
	}
	if status, _ := get(t, h, "/api/topology?at=noon"); status != 400 {
		t.Errorf("a bad time: status %d, want 400", status)
	}
}

func TestHistoryBeforeItsStart(t *testing.T) {
	h, st := historyServer(t)
	if _, body := get(t, h, "/api/changes"); body["history_start"] != nil {
		t.Errorf("history_start %v before any prune, want none", body["history_start"])
	}
	_, before := get(t, h, "/api/topology?at=2026-11-22T11:01:00Z")
	if _, err := st.PruneHistory(context.Background(), t2.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	status, body := get(t, h, "/api/topology?at=2026-11-22T11:00:59Z")
	e, _ := body["error"].(map[string]any)
	if want := "at: 2026-11-22T11:00:59Z is before the kept history, which starts at 2026-11-22T11:01:00Z (storage.history_retention)"; status != http.StatusGone || e["code"] != "history_pruned" || e["message"] != want {
		t.Errorf("the map before the history's start: %d %v, want 410 history_pruned %q", status, body, want)
	}
	status, after := get(t, h, "/api/topology?at=2026-11-22T11:01:00Z")
	if d := cmp.Diff([]string{"i-1=web-renamed", "subnet-1="}, names(after)); status != 200 || d != "" {
		t.Errorf("the map at the history's start: status %d (-want +got):\n%s", status, d)
	}
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("the map at the history's start (-before +after pruning):\n%s", d)
	}

	// Windows that start before it get what is kept, and where it starts.
	const ann = "arn:aws:iam::123456789012:user/ann"
	for path, want := range map[string][]string{
		"/api/changes?from=2000-01-01T00:00:00Z": {"subnet-1 created ", "i-1 updated " + ann},
		"/api/components/i-1/history":            {"i-1 updated " + ann},
	} {
		status, body := get(t, h, path)
		if d := cmp.Diff(want, changesOf(body)); status != 200 || d != "" {
			t.Errorf("GET %s: status %d (-want +got):\n%s", path, status, d)
		}
		if body["history_start"] != "2026-11-22T11:01:00Z" {
			t.Errorf("GET %s: history_start %v, want 2026-11-22T11:01:00Z", path, body["history_start"])
		}
	}
	if status, _ := get(t, h, "/api/components/i-2/history"); status != 404 {
		t.Errorf("history of i-2, deleted before the history's start: status %d, want 404", status)
	}
}

func TestComponentAt(t *testing.T) {
	h, _ := historyServer(t)
	tests := []struct {
		path    string
		status  int
		name    string
		changes int // versions up to at
	}{
		{"/api/components/i-1?at=2026-11-22T10:30:00Z", 200, "web", 1},
		{"/api/components/i-1?at=2026-11-22T11:00:00Z", 200, "web-renamed", 2},
		// by an identifier, and with the fraction of a second browsers send
		{"/api/components/arn:aws:ec2:eu-west-1:123456789012:instance%2Fi-1?at=2026-11-22T10:59:59.999Z", 200, "web", 1},
		// deleted since: known by its id
		{"/api/components/i-2?at=2026-11-22T10:30:00Z", 200, "db", 1},
		{"/api/components/i-2?at=2026-11-22T11:30:00Z", 404, "", 0},
		{"/api/components/i-1?at=2026-11-22T09:59:59Z", 404, "", 0},
		{"/api/components/nope?at=2026-11-22T10:30:00Z", 404, "", 0},
		{"/api/components/i-1?at=noon", 400, "", 0},
	}
	for _, tt := range tests {
		status, body := get(t, h, tt.path)
		if status != tt.status {
			t.Errorf("GET %s: status %d, want %d: %v", tt.path, status, tt.status, body)
			continue
		}
		if status != 200 {
			if e, _ := body["error"].(map[string]any); status == 404 && !strings.Contains(e["message"].(string), " at 2026-11-22T") {
				t.Errorf("GET %s: message %q does not name the time", tt.path, e["message"])
			}
			continue
		}
		c, _ := body["component"].(map[string]any)
		hist, _ := body["history"].([]any)
		if c["name"] != tt.name || len(hist) != tt.changes || body["at"] == nil {
			t.Errorf("GET %s: name %v with %d versions, at %v; want %s with %d", tt.path, c["name"], len(hist), body["at"], tt.name, tt.changes)
		}
	}
	// Now, the answer has no at.
	if _, body := get(t, h, "/api/components/i-1"); body["at"] != nil {
		t.Errorf("the component now has at %v", body["at"])
	}
	// The past answer is the documented ComponentDetail.
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, h, "/api/components/i-1?at=2026-11-22T10:30:00Z")
	if err := doc.Components.Schemas["ComponentDetail"].Value.VisitJSON(body, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("i-1 at a past time: not a ComponentDetail: %v", err)
	}
}

func TestComponentAtBeforeItsStart(t *testing.T) {
	h, st := historyServer(t)
	if _, err := st.PruneHistory(context.Background(), t2.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	status, body := get(t, h, "/api/components/i-1?at=2026-11-22T10:30:00Z")
	if e, _ := body["error"].(map[string]any); status != http.StatusGone || e["code"] != "history_pruned" {
		t.Errorf("i-1 before the history's start: %d %v, want 410 history_pruned", status, body)
	}
	if status, body := get(t, h, "/api/components/i-1?at=2026-11-22T11:02:00Z"); status != 200 {
		t.Errorf("i-1 after the history's start: %d %v", status, body)
	}
}

package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/collect/devopsguru"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// fakeInsights answers canned insights and records the filters asked for.
type fakeInsights struct {
	byComp  map[string][]devopsguru.Insight
	all     []devopsguru.Insight
	filters []devopsguru.Filter
}

func (f *fakeInsights) Insights(flt devopsguru.Filter) []devopsguru.Insight {
	f.filters = append(f.filters, flt)
	return f.all
}

func (f *fakeInsights) InsightsOf(id string) []devopsguru.Insight { return f.byComp[id] }

func insightServer(t *testing.T, ins Insights) http.Handler {
	t.Helper()
	g := topology.New(nil)
	_, err := g.Apply(context.Background(), "scan", []model.Snapshot{{Scope: model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "x"},
		Complete: true, Components: []model.Component{{ID: "i-1", Type: "aws.ec2.instance", Account: "123456789012", Region: "eu-west-1",
			Identifiers: []string{"arn:aws:ec2:eu-west-1:123456789012:instance/i-1"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return (&Server{Graph: g, Insights: ins, Status: func(context.Context) any { return nil }}).Handler()
}

func TestInsightsOff(t *testing.T) {
	h := insightServer(t, nil)
	for path, want := range map[string]int{
		"/api/insights":                     503,
		"/api/components/i-1/insights":      503,
		"/api/components/nosuch-1/insights": 404,
	} {
		code, body := get(t, h, path)
		e, _ := body["error"].(map[string]any)
		if code != want || (want == 503 && e["code"] != "devopsguru_off") {
			t.Errorf("GET %s: %d %v, want %d", path, code, body, want)
		}
	}
	if _, body := get(t, h, "/api/components/i-1"); body["insights"] != nil {
		t.Errorf("component details with insights off: %v", body["insights"])
	}
}

// With the trace receiver off, its relations answer 503 traces_off, as
// the other parts that are off do, and POST /v1/traces is not served.
func TestTracesOff(t *testing.T) {
	h := insightServer(t, nil)
	code, body := get(t, h, "/api/traces/relations")
	if e, _ := body["error"].(map[string]any); code != 503 || e["code"] != "traces_off" {
		t.Errorf("GET /api/traces/relations: %d %v, want 503 traces_off", code, body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/traces", strings.NewReader("{}")))
	if rec.Code != 404 {
		t.Errorf("POST /v1/traces with the receiver off: %d, want 404", rec.Code)
	}
}

func TestInsights(t *testing.T) {
	in := devopsguru.Insight{ID: "AKw3", Name: "Lambda Errors Anomalous In Stack shop-infra", Type: devopsguru.TypeReactive,
		Status: devopsguru.StatusOngoing, Severity: devopsguru.SeverityMedium, Components: []string{"i-1"},
		Resources: []devopsguru.Resource{{Kind: devopsguru.KindResource, Type: "AWS::EC2::Instance", Name: "i-1", Component: "i-1"}}}
	fake := &fakeInsights{all: []devopsguru.Insight{in}, byComp: map[string][]devopsguru.Insight{"i-1": {in}}}
	h := insightServer(t, fake)

	code, body := get(t, h, "/api/insights?status=ongoing&severity=Medium&type=REACTIVE&account=123456789012&region=eu-west-1")
	if code != 200 || body["total"] != 1.0 || ids(body, "insights")[0] != "AKw3" {
		t.Errorf("GET /api/insights: %d %v", code, body)
	}
	want := []devopsguru.Filter{{Status: "ongoing", Severity: "Medium", Type: "REACTIVE", Account: "123456789012", Region: "eu-west-1"}}
	if d := cmp.Diff(want, fake.filters); d != "" {
		t.Errorf("filters (-want +got):\n%s", d)
	}

	for query, msg := range map[string]string{
		"status=open":     `status: want ONGOING, CLOSED (any case), got "open"`,
		"severity=urgent": `severity: want LOW, MEDIUM, HIGH (any case), got "urgent"`,
		"type=predictive": `type: want REACTIVE, PROACTIVE (any case), got "predictive"`,
	} {
		code, body := get(t, h, "/api/insights?"+query)
		e, _ := body["error"].(map[string]any)
		if code != 400 || e["code"] != "bad_request" || e["message"] != msg {
			t.Errorf("GET /api/insights?%s: %d %v, want 400 %q", query, code, body, msg)
		}
	}

	// By an identifier of the component, the answer names its id.
	code, body = get(t, h, "/api/components/"+url.PathEscape("arn:aws:ec2:eu-west-1:123456789012:instance/i-1")+"/insights")
	if code != 200 || body["component"] != "i-1" || !cmp.Equal(ids(body, "insights"), []string{"AKw3"}) {
		t.Errorf("component insights: %d %v", code, body)
	}
	res := body["insights"].([]any)[0].(map[string]any)["resources"].([]any)[0].(map[string]any)
	if res["component"] != "i-1" || res["kind"] != "resource" {
		t.Errorf("resource %v", res)
	}
	if _, body := get(t, h, "/api/components/i-1"); !cmp.Equal(ids(body, "insights"), []string{"AKw3"}) {
		t.Errorf("component details: insights %v", body["insights"])
	}
}

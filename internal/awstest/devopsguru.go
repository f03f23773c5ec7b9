package awstest

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
)

//go:embed testdata/devopsguru/*.json
var devopsGuruData embed.FS

// DevOpsGuru is an httptest server speaking Amazon DevOps Guru's REST-JSON
// protocol for the calls skymap makes, since moto has no DevOps Guru. It
// answers from the AWS-shaped bodies of testdata/devopsguru (see its
// README): ListInsights (POST /insights) filtered by the request's status
// filter, DescribeInsight (GET /insights/{Id}) and ListAnomaliesForInsight
// (POST /anomalies/insight/{InsightId}), a page of PageSize items at a time
// with a NextToken. Like AWS, it answers 400 ValidationException to a
// request that breaks the API's constraints (no status filter or more than
// one, a closed filter without its time range, MaxResults out of range, a
// malformed NextToken), 403 to an unsigned one, and 404
// ResourceNotFoundException for an unknown insight. The data is that of
// one region, eu-west-1: requests signed for another region find no
// insights. Point an SDK client at URL (BaseEndpoint, or
// aws.endpoints.devops_guru).
type DevOpsGuru struct {
	URL string

	mu        sync.Mutex
	pageSize  int
	denied    map[string]bool
	requests  map[string][]map[string]any
	insights  []dgInsight
	describe  map[string]json.RawMessage
	anomalies map[string]dgAnomalies
}

// dgInsight is an insight of insights.json: its body and what the filters
// read of it.
type dgInsight struct {
	raw       json.RawMessage
	proactive bool
	status    string
	start     float64
	end       *float64
}

// dgAnomalies are the anomalies of one insight.
type dgAnomalies struct{ reactive, proactive []json.RawMessage }

// NewDevOpsGuru starts the server for the duration of t, answering one
// item a page.
func NewDevOpsGuru(t testing.TB) *DevOpsGuru {
	t.Helper()
	d := &DevOpsGuru{pageSize: 1, denied: map[string]bool{}, requests: map[string][]map[string]any{}}
	if err := d.load(); err != nil {
		t.Fatalf("load DevOps Guru test data: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /insights", d.listInsights)
	mux.HandleFunc("GET /insights/{id}", d.describeInsight)
	mux.HandleFunc("POST /anomalies/insight/{id}", d.listAnomalies)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		dgError(w, http.StatusNotFound, "UnknownOperationException", "no operation "+r.Method+" "+r.URL.Path)
	})
	srv := httptest.NewServer(d.signed(mux))
	t.Cleanup(srv.Close)
	d.URL = srv.URL
	return d
}

func (d *DevOpsGuru) load() error {
	read := func(name string, v any) error {
		b, err := devopsGuruData.ReadFile("testdata/devopsguru/" + name)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	var list struct{ ReactiveInsights, ProactiveInsights []json.RawMessage }
	if err := read("insights.json", &list); err != nil {
		return err
	}
	for i, raws := range [][]json.RawMessage{list.ReactiveInsights, list.ProactiveInsights} {
		for _, raw := range raws {
			var s struct {
				Status           string
				InsightTimeRange struct {
					StartTime float64
					EndTime   *float64
				}
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("insights.json: %w", err)
			}
			d.insights = append(d.insights, dgInsight{raw: raw, proactive: i == 1, status: s.Status,
				start: s.InsightTimeRange.StartTime, end: s.InsightTimeRange.EndTime})
		}
	}
	if err := read("describe.json", &d.describe); err != nil {
		return err
	}
	var anomalies map[string]struct{ ReactiveAnomalies, ProactiveAnomalies []json.RawMessage }
	if err := read("anomalies.json", &anomalies); err != nil {
		return err
	}
	d.anomalies = map[string]dgAnomalies{}
	for id, a := range anomalies {
		d.anomalies[id] = dgAnomalies{a.ReactiveAnomalies, a.ProactiveAnomalies}
	}
	return nil
}

// SetPageSize sets the items a page holds at most (as well as the
// request's MaxResults).
func (d *DevOpsGuru) SetPageSize(n int) {
	d.mu.Lock()
	d.pageSize = max(n, 1)
	d.mu.Unlock()
}

// Deny makes operation (ListInsights, DescribeInsight,
// ListAnomaliesForInsight) answer AccessDeniedException, as AWS does to a
// role without the permission; Deny(op, false) allows it again.
func (d *DevOpsGuru) Deny(operation string, denied bool) {
	d.mu.Lock()
	d.denied[operation] = denied
	d.mu.Unlock()
}

// Requests returns the bodies of the requests of an operation so far
// (for DescribeInsight, {"Id": id}), in order.
func (d *DevOpsGuru) Requests(operation string) []map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]map[string]any(nil), d.requests[operation]...)
}

// dgRegion is the region of the data.
const dgRegion = "eu-west-1"

// signingScope reads the region of a SigV4 signature for DevOps Guru
// ("Credential=<key>/<date>/<region>/devops-guru/aws4_request").
var signingScope = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/([a-z0-9-]+)/devops-guru/aws4_request,`)

// signed refuses requests without a SigV4 signature for DevOps Guru's
// signing name, as AWS does.
func (d *DevOpsGuru) signed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if signingRegion(r) == "" {
			dgError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// signingRegion returns the region a request is signed for, "" when it is
// not signed for DevOps Guru.
func signingRegion(r *http.Request) string {
	m := signingScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return ""
	}
	return m[1]
}

// begin records a request of operation and reports whether it may go on:
// it answers AccessDeniedException when the operation is denied and
// ValidationException when the body is not a JSON object.
func (d *DevOpsGuru) begin(w http.ResponseWriter, r *http.Request, operation string) (map[string]any, bool) {
	body := map[string]any{}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			dgError(w, http.StatusBadRequest, "ValidationException", "request body is not a JSON object: "+err.Error())
			return nil, false
		}
	} else {
		body["Id"] = r.PathValue("id")
	}
	d.mu.Lock()
	d.requests[operation] = append(d.requests[operation], body)
	denied := d.denied[operation]
	d.mu.Unlock()
	if denied {
		dgError(w, http.StatusForbidden, "AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/skymap/skymap "+
			"is not authorized to perform: devops-guru:"+operation+" on resource: arn:aws:devops-guru:eu-west-1:123456789012:*")
		return nil, false
	}
	return body, true
}

// tokenPattern is the form of DevOps Guru's page tokens.
var tokenPattern = regexp.MustCompile(`^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$`)

// page reads MaxResults (1 to limit) and NextToken and returns the range
// of n items to answer and the next token ("" on the last page).
func (d *DevOpsGuru) page(w http.ResponseWriter, body map[string]any, limit, n int) (from, to int, next string, ok bool) {
	d.mu.Lock()
	size := d.pageSize
	d.mu.Unlock()
	if v, has := body["MaxResults"]; has {
		m, isNum := v.(float64)
		if !isNum || m < 1 || m > float64(limit) || m != float64(int(m)) {
			dgError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("MaxResults: must be 1 to %d, got %v", limit, v))
			return 0, 0, "", false
		}
		size = min(size, int(m))
	}
	if v, has := body["NextToken"]; has {
		tok, _ := v.(string)
		if !tokenPattern.MatchString(tok) {
			dgError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("NextToken: %q is not a page token", tok))
			return 0, 0, "", false
		}
		from, _ = strconv.Atoi(tok[24:])
	}
	to = min(from+size, n)
	if to < n {
		next = fmt.Sprintf("00000000-0000-0000-0000-%012d", to)
	}
	return min(from, n), to, next, true
}

func (d *DevOpsGuru) listInsights(w http.ResponseWriter, r *http.Request) {
	body, ok := d.begin(w, r, "ListInsights")
	if !ok {
		return
	}
	filter, _ := body["StatusFilter"].(map[string]any)
	if len(filter) != 1 {
		dgError(w, http.StatusBadRequest, "ValidationException", "StatusFilter: specify exactly one of Any, Closed and Ongoing")
		return
	}
	var kind string
	var f map[string]any
	for k, v := range filter {
		kind, f = k, asObject(v)
	}
	typ, _ := f["Type"].(string)
	if typ != "REACTIVE" && typ != "PROACTIVE" {
		dgError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("StatusFilter.%s.Type: want REACTIVE or PROACTIVE, got %q", kind, typ))
		return
	}
	var keep func(in *dgInsight) bool
	switch kind {
	case "Ongoing":
		keep = func(in *dgInsight) bool { return in.status == "ONGOING" }
	case "Closed", "Any":
		member := map[string]string{"Closed": "EndTimeRange", "Any": "StartTimeRange"}[kind]
		tr, has := f[member].(map[string]any)
		if !has {
			dgError(w, http.StatusBadRequest, "ValidationException", "StatusFilter."+kind+"."+member+": required")
			return
		}
		within := func(t float64) bool {
			from, hasFrom := tr["FromTime"].(float64)
			to, hasTo := tr["ToTime"].(float64)
			return (!hasFrom || t >= from) && (!hasTo || t <= to)
		}
		if kind == "Closed" {
			keep = func(in *dgInsight) bool { return in.status == "CLOSED" && in.end != nil && within(*in.end) }
		} else {
			keep = func(in *dgInsight) bool { return within(in.start) }
		}
	default:
		dgError(w, http.StatusBadRequest, "ValidationException", "StatusFilter: unknown member "+kind)
		return
	}
	var hits []json.RawMessage
	for i := range d.insights {
		in := &d.insights[i]
		if signingRegion(r) == dgRegion && in.proactive == (typ == "PROACTIVE") && keep(in) {
			hits = append(hits, in.raw)
		}
	}
	from, to, next, ok := d.page(w, body, 100, len(hits))
	if !ok {
		return
	}
	out := map[string]any{"ReactiveInsights": []json.RawMessage{}, "ProactiveInsights": []json.RawMessage{}}
	if typ == "PROACTIVE" {
		out["ProactiveInsights"] = hits[from:to]
	} else {
		out["ReactiveInsights"] = hits[from:to]
	}
	if next != "" {
		out["NextToken"] = next
	}
	dgAnswer(w, out)
}

func (d *DevOpsGuru) describeInsight(w http.ResponseWriter, r *http.Request) {
	if _, ok := d.begin(w, r, "DescribeInsight"); !ok {
		return
	}
	id := r.PathValue("id")
	raw, ok := d.describe[id]
	if !ok || signingRegion(r) != dgRegion {
		dgNotFound(w, id)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(raw)
}

func (d *DevOpsGuru) listAnomalies(w http.ResponseWriter, r *http.Request) {
	body, ok := d.begin(w, r, "ListAnomaliesForInsight")
	if !ok {
		return
	}
	id := r.PathValue("id")
	a, ok := d.anomalies[id]
	if !ok || signingRegion(r) != dgRegion {
		dgNotFound(w, id)
		return
	}
	all := append(append([]json.RawMessage{}, a.reactive...), a.proactive...)
	from, to, next, ok := d.page(w, body, 500, len(all))
	if !ok {
		return
	}
	out := map[string]any{"ReactiveAnomalies": []json.RawMessage{}, "ProactiveAnomalies": []json.RawMessage{}}
	for i := from; i < to; i++ {
		key := "ReactiveAnomalies"
		if i >= len(a.reactive) {
			key = "ProactiveAnomalies"
		}
		out[key] = append(out[key].([]json.RawMessage), all[i])
	}
	if next != "" {
		out["NextToken"] = next
	}
	dgAnswer(w, out)
}

func asObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func dgAnswer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// dgError answers an error as REST-JSON services do: the code in the
// X-Amzn-ErrorType header, the message in the body.
func dgError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Message": message})
}

func dgNotFound(w http.ResponseWriter, id string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
	w.WriteHeader(http.StatusNotFound)
	json.NewEncoder(w).Encode(map[string]string{"Message": "insight " + id + " not found", "ResourceId": id, "ResourceType": "Insight"})
}

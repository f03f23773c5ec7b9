package stackstate

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/skymap/skymap/internal/model"
)

// gotIntake is a body as a receiver decodes it, written from the
// receiver's documented format rather than from the package's types, and
// decoded strictly: a key the format lacks fails the test.
type gotIntake struct {
	CollectionTimestamp *int64         `json:"collection_timestamp"`
	InternalHostname    string         `json:"internalHostname"`
	Events              map[string]any `json:"events"`
	Metrics             []any          `json:"metrics"`
	ServiceChecks       []any          `json:"service_checks"`
	Health              []gotHealth    `json:"health"`
	Topologies          []gotTopology  `json:"topologies"`
}

type gotHealth struct {
	StartSnapshot *struct {
		RepeatIntervalS int `json:"repeat_interval_s"`
	} `json:"start_snapshot"`
	StopSnapshot *struct{} `json:"stop_snapshot"`
	Stream       struct {
		URN string `json:"urn"`
	} `json:"stream"`
	CheckStates []struct {
		CheckStateID              string `json:"checkStateId"`
		Message                   string `json:"message"`
		Health                    string `json:"health"`
		TopologyElementIdentifier string `json:"topologyElementIdentifier"`
		Name                      string `json:"name"`
	} `json:"check_states"`
}

type gotTopology struct {
	StartSnapshot bool `json:"start_snapshot"`
	StopSnapshot  bool `json:"stop_snapshot"`
	Instance      struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"instance"`
	Components []struct {
		ExternalID string `json:"externalId"`
		Type       struct {
			Name string `json:"name"`
		} `json:"type"`
		Data map[string]any `json:"data"`
	} `json:"components"`
	Relations []struct {
		ExternalID string `json:"externalId"`
		Type       struct {
			Name string `json:"name"`
		} `json:"type"`
		SourceID string         `json:"sourceId"`
		TargetID string         `json:"targetId"`
		Data     map[string]any `json:"data"`
	} `json:"relations"`
	DeleteIDs []string `json:"delete_ids"`
}

// decodeIntake decodes a body strictly.
func decodeIntake(t *testing.T, body []byte) gotIntake {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var in gotIntake
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("body is not the intake format: %v\n%.500s", err, body)
	}
	if in.CollectionTimestamp == nil || in.Events == nil || in.Metrics == nil || in.ServiceChecks == nil ||
		in.Health == nil || in.Topologies == nil {
		t.Errorf("body lacks a key of the common object or has it null: %.300s", body)
	}
	return in
}

// request is what the receiver got of one POST.
type request struct {
	Path, APIKey, HeaderKey, Encoding, ContentType string
	Body                                           []byte // decompressed
	Intake                                         gotIntake
}

// receiver is a StackState receiver: it records every POST and answers
// what answer says for the request's number (0 first); nil answers 200.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(n int) (status int, header http.Header, body string)

	mu       sync.Mutex
	requests []request
}

func newReceiver(t *testing.T, answer func(n int) (int, http.Header, string)) *receiver {
	t.Helper()
	r := &receiver{t: t, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.handle))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("read body: %v", err)
	}
	body := raw
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			r.t.Errorf("gzip body: %v", err)
			return
		}
		if body, err = io.ReadAll(zr); err != nil {
			r.t.Errorf("gunzip body: %v", err)
		}
	}
	got := request{Path: req.URL.Path, APIKey: req.URL.Query().Get("api_key"), HeaderKey: req.Header.Get("sts-api-key"),
		Encoding: req.Header.Get("Content-Encoding"), ContentType: req.Header.Get("Content-Type"), Body: body,
		Intake: decodeIntake(r.t, body)}
	r.mu.Lock()
	n := len(r.requests)
	r.requests = append(r.requests, got)
	r.mu.Unlock()
	status, header, answer := http.StatusOK, http.Header(nil), ""
	if r.answer != nil {
		status, header, answer = r.answer(n)
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

// got returns the requests so far.
func (r *receiver) got() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.requests...)
}

// staticMap is a Source of fixed content.
type staticMap struct {
	comps []model.Component
	rels  []model.Relation
}

func (m staticMap) Components() []model.Component { return m.comps }
func (m staticMap) Relations() []model.Relation   { return m.rels }

// scannedMap is the map of the sample estate as a scan against moto found
// it: the golden file of internal/app's scan test (its generated ids
// replaced by placeholders), 150 components and 160 relations in two
// accounts.
func scannedMap(t *testing.T) staticMap {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "app", "testdata", "scan.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components []model.Component `json:"components"`
		Relations  []model.Relation  `json:"relations"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Components) < 100 || len(doc.Relations) < 100 {
		t.Fatalf("the golden scan has %d components and %d relations; want a real map", len(doc.Components), len(doc.Relations))
	}
	return staticMap{doc.Components, doc.Relations}
}

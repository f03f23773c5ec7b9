package app

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stsBody is what the test's receiver reads of a body.
type stsBody struct {
	Topologies []struct {
		StartSnapshot bool `json:"start_snapshot"`
		StopSnapshot  bool `json:"stop_snapshot"`
		Instance      struct {
			Type, URL string
		} `json:"instance"`
		Components []struct {
			ExternalID string `json:"externalId"`
			Type       struct{ Name string }
		} `json:"components"`
		Relations []struct {
			ExternalID string `json:"externalId"`
		} `json:"relations"`
	} `json:"topologies"`
	Health []struct {
		StartSnapshot *json.RawMessage `json:"start_snapshot"`
		StopSnapshot  *json.RawMessage `json:"stop_snapshot"`
		Stream        struct{ URN string }
	} `json:"health"`
}

// stsReceiver is a StackState receiver keeping the bodies of one key.
type stsReceiver struct {
	t      *testing.T
	key    string
	mu     sync.Mutex
	bodies []stsBody
}

func (r *stsReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/receiver/stsAgent/intake" || req.URL.Query().Get("api_key") != r.key {
		r.t.Errorf("POST %s with the wrong path or key", req.URL.Path)
		w.WriteHeader(http.StatusForbidden)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			r.t.Errorf("gzip: %v", err)
			return
		}
		body = zr
	}
	var b stsBody
	if err := json.NewDecoder(body).Decode(&b); err != nil {
		r.t.Errorf("decode body: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.mu.Unlock()
}

// snapshots returns the first complete snapshot of each instance received
// (start to stop): the number of times each component and relation came
// in it, and whether its health stream started and stopped.
func (r *stsReceiver) snapshots() map[string]*stsSnapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	open := map[string]*stsSnapshot{}
	done := map[string]*stsSnapshot{}
	for _, b := range r.bodies {
		for _, tp := range b.Topologies {
			url := tp.Instance.URL
			if done[url] != nil {
				continue
			}
			if tp.StartSnapshot {
				open[url] = &stsSnapshot{components: map[string]int{}, relations: map[string]int{}}
			}
			s := open[url]
			if s == nil {
				continue
			}
			s.instanceType = tp.Instance.Type
			for _, c := range tp.Components {
				s.components[c.ExternalID]++
			}
			for _, rel := range tp.Relations {
				s.relations[rel.ExternalID]++
			}
			if tp.StopSnapshot {
				done[url] = s
			}
		}
		for _, h := range b.Health {
			url := strings.TrimPrefix(h.Stream.URN, "urn:health:skymap:")
			if s := open[url]; s != nil {
				s.healthStarted = s.healthStarted || h.StartSnapshot != nil
				s.healthStopped = s.healthStopped || h.StopSnapshot != nil
			}
		}
	}
	return done
}

type stsSnapshot struct {
	instanceType                 string
	components, relations        map[string]int
	healthStarted, healthStopped bool
}

// serve pushes the scanned map to a StackState receiver: one snapshot per
// account with every component and relation it serves exactly once, the
// health stream beside it, the push in /api/status and /metrics, and the
// API key in no log line.
func TestServePushesToStackState(t *testing.T) {
	estate(t)
	const key = "sts-receiver-key-0123456789"
	rcv := &stsReceiver{t: t, key: key}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := testConfig(t, optOut+"flowlogs: {enabled: false}\nstackstate: {url: '"+srv.URL+"/receiver/stsAgent', api_key: "+key+"}\n")

	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, cfg, ServeOptions{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Ready: func(a string) { ready <- a },
			EventInterval: 200 * time.Millisecond,
			Options:       Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(90 * time.Second):
		cancel()
		t.Fatal("Serve did not start listening in 90 s")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	waitScan(t, addr, time.Time{})

	var got map[string]*stsSnapshot
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = rcv.snapshots(); len(got) == 2 {
			break
		}
	}
	if len(got) != 2 {
		t.Fatalf("complete snapshots of %d accounts, want 2", len(got))
	}

	// What the API serves, by account, as the receiver should hold it.
	wantComps, wantRels := map[string]map[string]int{}, map[string]map[string]int{}
	accountOf := map[string]string{}
	resp, err := http.Get("http://" + addr + "/api/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	var rels []struct{ Source, Target, Type string }
	for sc.Scan() {
		var line struct {
			Kind, ID, Account, Source, Target, Type string
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		switch line.Kind {
		case "component":
			if wantComps[line.Account] == nil {
				wantComps[line.Account], wantRels[line.Account] = map[string]int{}, map[string]int{}
			}
			wantComps[line.Account][line.ID] = 1
			accountOf[line.ID] = line.Account
		case "relation":
			rels = append(rels, struct{ Source, Target, Type string }{line.Source, line.Target, line.Type})
		}
	}
	for _, r := range rels {
		wantRels[accountOf[r.Source]][r.Source+"-"+r.Type+"-"+r.Target] = 1
	}
	if len(wantComps["123456789012"]) == 0 || len(wantComps["111111111111"]) == 0 || len(rels) == 0 {
		t.Fatalf("the served map is not the estate's: %d, %d components, %d relations",
			len(wantComps["123456789012"]), len(wantComps["111111111111"]), len(rels))
	}
	total := 0
	for account, s := range got {
		total += len(s.components)
		if s.instanceType != "aws-v2" || !s.healthStarted || !s.healthStopped {
			t.Errorf("account %s: instance type %q, health stream started %t stopped %t", account, s.instanceType,
				s.healthStarted, s.healthStopped)
		}
		if d := cmp.Diff(wantComps[account], s.components); d != "" {
			t.Errorf("account %s components (-served +received):\n%s", account, d)
		}
		if d := cmp.Diff(wantRels[account], s.relations); d != "" {
			t.Errorf("account %s relations (-served +received):\n%s", account, d)
		}
	}
	if want := goldenComponents(t); total != want {
		t.Errorf("%d components received, the golden scan has %d", total, want)
	}

	var st StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &st)
	if s := st.StackState; s == nil || s.LastSuccess.IsZero() || s.LastError != "" || s.Instances != 2 ||
		s.Components != total || s.Endpoint != srv.URL+"/receiver/stsAgent/intake" {
		t.Errorf("/api/status stackstate: %+v", s)
	}
	m, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exposition, _ := io.ReadAll(m.Body)
	m.Body.Close()
	if !bytes.Contains(exposition, []byte("\nskymap_stackstate_pushes_total ")) {
		t.Error("/metrics has no skymap_stackstate_pushes_total")
	}
	if strings.Contains(logs.String(), key) {
		t.Errorf("the API key is in the log:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

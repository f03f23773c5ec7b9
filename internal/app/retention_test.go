package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store/embedded"
	"github.com/skymap/skymap/internal/topology"
)

func TestPrunerRetriesAndStops(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	var mu sync.Mutex
	var befores []time.Time
	enough := make(chan struct{})
	p := &pruner{
		prune: func(_ context.Context, before time.Time) (int64, error) {
			mu.Lock()
			defer mu.Unlock()
			befores = append(befores, before)
			switch len(befores) {
			case 1:
				return 0, errors.New("database is locked")
			case 4: // the third is logged
				close(enough)
			}
			return int64(len(befores)), nil
		},
		retention: 48 * time.Hour,
		interval:  5 * time.Millisecond,
		now:       func() time.Time { return now },
		log:       slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: dropTime})),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-enough:
	case <-time.After(10 * time.Second):
		t.Fatal("no fourth prune in 10 s")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	cutoff := now.Add(-48 * time.Hour)
	for i, b := range befores {
		if !b.Equal(cutoff) {
			t.Errorf("prune %d before %v, want %v", i, b, cutoff)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	for i, want := range []string{
		`level=WARN msg="history prune failed; retrying at the next interval" before=2026-02-27T12:00:00.000Z versions=0`,
		`level=INFO msg="history pruned" before=2026-02-27T12:00:00.000Z versions=2`,
		`level=INFO msg="history pruned" before=2026-02-27T12:00:00.000Z versions=3`,
	} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], want) {
			t.Errorf("log line %d: want it to start with\n%s\nlog:\n%s", i, want, logs.String())
		}
	}
}

// dropTime leaves the time out of a log record.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

func TestServePrunesHistory(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, tt := range []struct {
		retention string
		pruned    bool
	}{
		{"24h", true},
		{"0", false},
	} {
		t.Run("retention "+tt.retention, func(t *testing.T) {
			// Nothing to scan: every AWS call fails at once.
			cfg, err := config.Parse([]byte(fmt.Sprintf(`
init_config: {aws_access_key_id: AKIAEXAMPLE, aws_secret_access_key: example}
instances: [{regions: [eu-west-1]}]
aws: {endpoint_url: 'http://%s', max_attempts: 1}
storage: {history_retention: %s}
`, closed, tt.retention)))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			start := time.Now()
			writeVersions(t, dir, []model.Version{
				{Time: start.Add(-72 * time.Hour), Entity: topology.EntityComponent, ID: "gone", Change: model.Created, State: []byte(`{"id":"gone"}`)},
				{Time: start.Add(-48 * time.Hour), Entity: topology.EntityComponent, ID: "gone", Change: model.Deleted},
				{Time: start.Add(-72 * time.Hour), Entity: topology.EntityComponent, ID: "kept", Change: model.Created, State: []byte(`{"id":"kept"}`)},
				{Time: start.Add(-48 * time.Hour), Entity: topology.EntityComponent, ID: "kept", Change: model.Updated, State: []byte(`{"id":"kept","name":"v2"}`)},
			})
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan string, 1)
			done := make(chan error, 1)
			go func() {
				done <- Serve(ctx, cfg, ServeOptions{DataDir: dir, Listen: "127.0.0.1:0", Ready: func(a string) { ready <- a },
					EventInterval: time.Hour, PruneInterval: 10 * time.Millisecond})
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Serve: %v", err)
				}
			}()
			var addr string
			select {
			case addr = <-ready:
			case err := <-done:
				t.Fatalf("Serve: %v", err)
			}

			var changes struct {
				Versions     []model.Version `json:"versions"`
				HistoryStart time.Time       `json:"history_start"`
			}
			// Serve prunes at start: a prune with retention 0 would show at once.
			wait := 500 * time.Millisecond
			if tt.pruned {
				wait = 10 * time.Second
			}
			deadline := time.Now().Add(wait)
			for {
				getJSON(t, "http://"+addr+"/api/changes", &changes)
				// A prune commits in steps: wait for its last.
				if (!changes.HistoryStart.IsZero() && len(changes.Versions) == 1) || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			got := []string{}
			for _, v := range changes.Versions {
				got = append(got, v.ID+" "+v.Change)
			}
			want := []string{"gone created", "gone deleted", "kept created", "kept updated"}
			if tt.pruned {
				want = []string{"kept updated"}
				if hs := changes.HistoryStart; hs.Before(start.Add(-24*time.Hour)) || hs.After(time.Now().Add(-24*time.Hour)) {
					t.Errorf("history_start %v, want 24 hours before the prune", hs)
				}
			} else if !changes.HistoryStart.IsZero() {
				t.Errorf("history_start %v with retention 0, want none", changes.HistoryStart)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			resp, err := http.Get("http://" + addr + "/api/topology?at=" + start.Add(-60*time.Hour).UTC().Format(time.RFC3339))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if wantStatus := map[bool]int{true: http.StatusGone, false: http.StatusOK}[tt.pruned]; resp.StatusCode != wantStatus {
				t.Errorf("the map 60 hours ago: status %d, want %d", resp.StatusCode, wantStatus)
			}
		})
	}
}

// writeVersions stores versions in the data dir dir.
func writeVersions(t *testing.T, dir string, vs []model.Version) {
	t.Helper()
	st, err := embedded.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range vs {
		vs[i].Cause = "test"
	}
	if err := st.Commit(context.Background(), topology.Change{Versions: vs}); err != nil {
		t.Fatal(err)
	}
}

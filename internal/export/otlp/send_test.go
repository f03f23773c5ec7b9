package otlp

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/skymap/skymap/internal/export/otlp/otlptest"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	collmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
)

// fakeClock is a clock that only the exporter's waits move: sleep
// records each wait and advances the clock by it at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// withClock makes e wait on c, with a jitter of its whole range (so a
// backoff of d waits d).
func withClock(e *Exporter, c *fakeClock) *Exporter {
	e.now, e.sleep = c.Now, c.sleep
	e.jitter = func(d time.Duration) time.Duration { return d }
	return e
}

// samples returns n points of one metric, valued 0 to n-1, a minute apart.
func samples(n int) []metrics.Sample {
	out := make([]metrics.Sample, n)
	for i := range out {
		out[i] = metrics.Sample{Query: metrics.Query{Component: "i-0abc", Account: "123456789012", Region: "eu-west-1",
			Namespace: "AWS/EC2", Name: "CPUUtilization", Stat: "Average", Dimensions: [][2]string{{"InstanceId", "i-0abc"}}},
			Time: t0.Add(time.Duration(i) * time.Minute), Value: float64(i)}
	}
	return out
}

// rpcStatus answers code with a google.rpc.Status, as OTLP/HTTP servers
// do, and header Retry-After when retryAfter is set.
func rpcStatus(w http.ResponseWriter, code int, msg, retryAfter string) {
	b, _ := proto.Marshal(&statuspb.Status{Code: 14, Message: msg})
	w.Header().Set("Content-Type", "application/x-protobuf")
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.WriteHeader(code)
	w.Write(b)
}

// The retryable statuses of the OTLP/HTTP specification (429, 502, 503,
// 504) and a connection the server drops are retried, after the server's
// Retry-After (seconds or a date) or else an exponential backoff; every
// other status is final at once and counted failed with the server's
// message.
func TestRetries(t *testing.T) {
	for _, tt := range []struct {
		name       string
		code       int    // 0 drops the connection
		retryAfter string // "" for none
		waits      []time.Duration
	}{
		{"503 with Retry-After", 503, "7", []time.Duration{7 * time.Second, 7 * time.Second}},
		{"429 with a Retry-After date", 429, t0.Add(90 * time.Second).Format(http.TimeFormat), []time.Duration{90 * time.Second, 2 * time.Second}},
		{"429 without Retry-After", 429, "", []time.Duration{time.Second, 2 * time.Second}},
		{"502", 502, "", []time.Duration{time.Second, 2 * time.Second}},
		{"504 with a Retry-After past", 504, t0.Add(-time.Hour).Format(http.TimeFormat), []time.Duration{time.Second, 2 * time.Second}},
		{"a dropped connection", 0, "", []time.Duration{time.Second, 2 * time.Second}},
		{"400", 400, "", nil},
		{"401", 401, "", nil},
		{"403", 403, "", nil},
		{"404", 404, "", nil},
		{"413", 413, "", nil},
		{"500", 500, "", nil},
		{"501 with Retry-After", 501, "1", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc := otlptest.NewReceiver(t)
			rc.SetAnswer(func(n int, w http.ResponseWriter, _ *http.Request) bool {
				if n >= 2 {
					return false // the third attempt is accepted
				}
				if tt.code == 0 {
					c, _, _ := w.(http.Hijacker).Hijack()
					c.Close()
					return true
				}
				rpcStatus(w, tt.code, "not now: answer "+http.StatusText(tt.code), tt.retryAfter)
				return true
			})
			clock := &fakeClock{now: t0}
			e := withClock(New(Options{MetricsURL: rc.URL + "/v1/metrics", Linger: time.Millisecond}), clock)
			start(t, e)
			e.ExportPoints(samples(3))
			waitFor(t, "the end of the export", func() bool {
				st := e.Statuses()[0]
				return st.Sent+st.Failed == 3
			})
			st := e.Statuses()[0]
			if diff := cmp.Diff(tt.waits, clock.Waits()); diff != "" {
				t.Errorf("waits between attempts (-want +got):\n%s", diff)
			}
			if tt.waits == nil {
				if st.Failed != 3 || st.Requests != 1 || st.Retries != 0 || !strings.Contains(st.LastError, http.StatusText(tt.code)) ||
					!strings.Contains(st.LastError, "not now: answer") {
					t.Errorf("status %+v, want 3 failed in one request, the server's message the last error", st)
				}
				return
			}
			if st.Sent != 3 || st.Requests != 3 || st.Retries != 2 || st.LastError == "" {
				t.Errorf("status %+v, want 3 sent in the third of 3 requests", st)
			}
			if got := rc.Points(); len(got) != 3 {
				t.Errorf("%d points received, want 3", len(got))
			}
		})
	}
}

// A request that keeps failing is retried until MaxElapsed, then its
// points are counted failed and the next batch goes.
func TestRetriesGiveUp(t *testing.T) {
	rc := otlptest.NewReceiver(t)
	rc.SetAnswer(func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n >= 6 {
			return false
		}
		rpcStatus(w, 503, "overloaded", "")
		return true
	})
	clock := &fakeClock{now: t0}
	e := withClock(New(Options{MetricsURL: rc.URL + "/v1/metrics", Linger: time.Millisecond, BatchSize: 2,
		MaxElapsed: 10 * time.Second, MaxBackoff: 4 * time.Second}), clock)
	start(t, e)
	e.ExportPoints(samples(4))
	waitFor(t, "the end of the export", func() bool {
		st := e.Statuses()[0]
		return st.Sent+st.Failed == 4
	})
	// Attempts at 0, 1, 3, 7 s; the next would wait 4 s more, past 10 s.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, time.Second, 2 * time.Second}
	if diff := cmp.Diff(want, clock.Waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	st := e.Statuses()[0]
	if st.Failed != 2 || st.Sent != 2 || st.Requests != 7 {
		t.Errorf("status %+v, want the first batch failed after 4 attempts, the second sent at the third", st)
	}
	if got := rc.Points(); len(got) != 2 || got[0].Value != 2 {
		t.Errorf("points received %+v, want the second batch's", got)
	}
}

// A partial success is counted (sent less rejected), its message kept and
// logged, and the request not retried.
func TestPartialSuccess(t *testing.T) {
	rc := otlptest.NewReceiver(t)
	rc.SetAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		b, _ := proto.Marshal(&collmetricspb.ExportMetricsServiceResponse{PartialSuccess: &collmetricspb.ExportMetricsPartialSuccess{
			RejectedDataPoints: 2, ErrorMessage: "2 points too old\nfor this tenant"}})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(b)
		return true
	})
	var logged bytes.Buffer
	e := New(Options{MetricsURL: rc.URL + "/v1/metrics", Linger: time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	stop := start(t, e)
	e.ExportPoints(samples(5))
	waitFor(t, "the answer", func() bool { return e.Statuses()[0].Sent > 0 })
	stop()
	st := e.Statuses()[0]
	if st.Sent != 3 || st.Rejected != 2 || st.Failed != 0 || st.Requests != 1 || st.LastError != "partial success: 2 of 5 rejected: 2 points too old for this tenant" {
		t.Errorf("status %+v", st)
	}
	if !strings.Contains(logged.String(), "rejected part of a request") {
		t.Errorf("the partial success was not logged:\n%s", logged.String())
	}
}

// Configured headers arrive on every request; their values never show in
// the log, the status or its JSON, even when the server echoes them or
// the URL's query holds one.
func TestHeadersNeverLogged(t *testing.T) {
	const key, token = "sk-live-0123456789", "tok-abcdefghij"
	rc := otlptest.NewReceiver(t)
	rc.SetAnswer(func(n int, w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-Api-Key") != key || r.Header.Get("Authorization") != "Bearer "+token {
			t.Errorf("request %d headers %v", n, r.Header)
		}
		if n == 0 {
			rpcStatus(w, 401, "invalid API key "+r.Header.Get("X-Api-Key")+" for "+r.Header.Get("Authorization")+" ("+token+")", "")
			return true
		}
		return false
	})
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := New(Options{MetricsURL: rc.URL + "/v1/metrics?api-key=" + key, LogsURL: "http://127.0.0.1:1/v1/logs?token=" + token,
		Headers: map[string]string{"X-Api-Key": key, "Authorization": "Bearer " + token}, Linger: time.Millisecond, Logger: log,
		MinBackoff: time.Millisecond, MaxElapsed: time.Millisecond})
	stop := start(t, e)
	e.ExportPoints(samples(1))
	waitFor(t, "the 401", func() bool { return e.Statuses()[0].Failed == 1 })
	e.ExportPoints(samples(1))
	e.ExportEvents("i-0abc", []logs.Event{{Message: "x", Group: "/g"}})
	waitFor(t, "the second request and the refused connection", func() bool {
		st := e.Statuses()
		return st[0].Sent == 1 && st[1].Failed == 1
	})
	stop()
	st := e.Statuses()
	js, _ := json.Marshal(st)
	for what, text := range map[string]string{"log": logged.String(), "status JSON": string(js)} {
		if strings.Contains(text, key) || strings.Contains(text, token) {
			t.Errorf("the %s shows a header value:\n%s", what, text)
		}
	}
	if !strings.Contains(st[0].LastError, "invalid API key [redacted] for [redacted] ([redacted])") || st[0].URL != rc.URL+"/v1/metrics" ||
		!strings.Contains(st[1].LastError, "POST http://127.0.0.1:1/v1/logs: ") {
		t.Errorf("statuses %+v", st)
	}
	if !strings.Contains(logged.String(), "OTLP export failing") {
		t.Errorf("the failure was not logged:\n%s", logged.String())
	}
}

// What is queued when Run's context ends is sent before Run returns.
func TestFlushAtStop(t *testing.T) {
	rc := otlptest.NewReceiver(t)
	e := New(Options{MetricsURL: rc.URL + "/v1/metrics", Linger: time.Hour, BatchSize: 2})
	stop := start(t, e)
	e.ExportPoints(samples(5))
	stop()
	if got := rc.Points(); len(got) != 5 {
		t.Errorf("%d points received after the stop, want 5", len(got))
	}
	if st := e.Statuses()[0]; st.Sent != 5 || st.Queued != 0 || st.Requests != 3 {
		t.Errorf("status %+v", st)
	}
}

package otlp

import (
	"github.com/skymap/skymap/internal/export/otlp/otlptest"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/collect/logs"
)

// While the endpoint is down (it drops every connection) the queue keeps
// the newest QueueSize points and counts the oldest it drops; once it is
// back, the batch that was being retried and the newest arrive, nothing
// else.
func TestDownEndpointDropsOldest(t *testing.T) {
	rc := otlptest.NewReceiver(t)
	var down atomic.Bool
	down.Store(true)
	rc.SetAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		if !down.Load() {
			return false
		}
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Close()
		return true
	})
	e := New(Options{MetricsURL: rc.URL + "/v1/metrics", QueueSize: 100, BatchSize: 10, Linger: time.Millisecond,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxElapsed: time.Hour})
	start(t, e)
	all := samples(1000)
	e.ExportPoints(all[:10])
	waitFor(t, "a first attempt", func() bool { return e.Statuses()[0].Requests > 0 })
	for i := 10; i < len(all); i += 10 {
		e.ExportPoints(all[i : i+10])
		if st := e.Statuses()[0]; st.Queued > 100 {
			t.Fatalf("%d points queued, past the queue size of 100", st.Queued)
		}
	}
	st := e.Statuses()[0]
	if st.Dropped != 890 || st.Queued != 100 || st.Sent != 0 || st.Failed != 0 || st.Retries == 0 ||
		!strings.Contains(st.LastError, "POST "+rc.URL+"/v1/metrics: ") {
		t.Errorf("while down: status %+v, want 890 dropped, 100 queued and the batch under way retried", st)
	}
	down.Store(false)
	waitFor(t, "110 points sent", func() bool { return e.Statuses()[0].Sent == 110 })
	var got []float64
	for _, p := range rc.Points() {
		got = append(got, p.Value)
	}
	slices.Sort(got)
	want := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	for v := 900; v < 1000; v++ {
		want = append(want, float64(v))
	}
	if !slices.Equal(want, got) {
		t.Errorf("values received %v, want 0-9 (under way) and 900-999 (the newest)", got)
	}
}

// The queue is bounded in bytes too: log events of 200 KiB fill a 1 MiB
// queue with 5, whatever the number of records allowed.
func TestQueueBytesBound(t *testing.T) {
	e := New(Options{LogsURL: "http://127.0.0.1:1/v1/logs", QueueSize: 1000, QueueBytes: 1 << 20})
	big := strings.Repeat("x", 200<<10)
	for range 20 {
		e.ExportEvents("i-0abc", []logs.Event{{Message: big, Group: "/g"}})
	}
	if st := e.Statuses()[0]; st.Queued != 5 || st.Dropped != 15 {
		t.Errorf("status %+v, want 5 queued and 15 dropped", st)
	}
}

// Memory stays bounded when nothing is sent: 50,000 points through a
// queue of 1,000 leave the heap about where it was.
func TestQueueMemoryBound(t *testing.T) {
	e := New(Options{MetricsURL: "http://127.0.0.1:1/v1/metrics", QueueSize: 1000})
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	e.ExportPoints(samples(1000)) // the queue at its size
	before := heap()
	chunk := samples(1000)
	for range 50 {
		e.ExportPoints(chunk)
	}
	after := heap()
	st := e.Statuses()[0]
	if st.Queued != 1000 || st.Dropped != 50_000 {
		t.Errorf("status %+v, want 1000 queued and 50000 dropped", st)
	}
	// 50,000 points held would take over 25 MB.
	if after > before+8<<20 {
		t.Errorf("the heap grew from %d to %d bytes", before, after)
	}
	runtime.KeepAlive(e)
}

// A push and a take keep the order, respect both bounds, and a take
// returns at least one item however large.
func TestQueue(t *testing.T) {
	q := queue{maxItems: 3, maxBytes: 100}
	mk := func(names ...string) []item {
		var out []item
		for _, n := range names {
			out = append(out, item{name: n, size: 10 * len(n)})
		}
		return out
	}
	names := func(items []item) string {
		var s []string
		for _, it := range items {
			s = append(s, it.name)
		}
		return strings.Join(s, ",")
	}
	if d := q.push(mk("a", "b", "c", "d")); d != 1 || q.len() != 3 {
		t.Errorf("push of 4 into 3: dropped %d, len %d", d, q.len())
	}
	if got := names(q.take(2, 1000)); got != "b,c" {
		t.Errorf("take(2) = %s", got)
	}
	if d := q.push(mk("eeeeeeeeee")); d != 1 || q.len() != 1 || q.bytes != 100 {
		t.Errorf("push of 100 bytes beside 10: dropped %d, len %d, bytes %d; want the older dropped", d, q.len(), q.bytes)
	}
	if got := names(q.take(5, 1000)); got != "eeeeeeeeee" {
		t.Errorf("the large item: take = %q", got)
	}
	q.push(mk("ff", "gg", "h"))
	if got := names(q.take(5, 30)); got != "ff" {
		t.Errorf("take(5, 30 bytes) = %s, want ff (gg would pass 30 bytes)", got)
	}
	if n := q.clear(); n != 2 || q.len() != 0 || q.bytes != 0 {
		t.Errorf("clear() = %d, then len %d, bytes %d", n, q.len(), q.bytes)
	}
}

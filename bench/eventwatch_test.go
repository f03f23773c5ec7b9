package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// httpClient reads skymap's API: kept-alive connections, enough of them
// for the watcher's workers.
var httpClient = &http.Client{
	Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true},
	Timeout:   30 * time.Second,
}

// watcher polls GET /api/components/{id} for components that events should
// make visible, and records when each first answers 200 with it. Every
// interval it polls each pending id once, from workers goroutines, but at
// most maxRate requests per second in all: when more are pending, it takes
// them in turns and each is polled less often (the resolution of the
// measurement, reported as pollGap).
type watcher struct {
	api      string
	interval time.Duration
	workers  int
	maxRate  int

	mu      sync.Mutex
	pending []*watch
	done    []*watch
	cursor  int
	changed chan struct{} // signalled when an id is seen

	gets atomic.Int64
}

// watch is one component being waited for.
type watch struct {
	id string
	// since is when its event became readable; seen when the API first
	// answered with the component.
	since, seen time.Time
	polls       int
	lastPoll    time.Time
	gapSum      time.Duration
}

// newWatcher polls the API at api, at most maxRate requests per second.
func newWatcher(api string, maxRate int) *watcher {
	return &watcher{api: api + "/api/components/", interval: 10 * time.Millisecond, workers: 4, maxRate: maxRate,
		changed: make(chan struct{}, 1)}
}

// add starts waiting for id, whose event became readable at since.
func (w *watcher) add(id string, since time.Time) {
	w.mu.Lock()
	w.pending = append(w.pending, &watch{id: id, since: since})
	w.mu.Unlock()
}

// start polls until the returned stop is called; stop waits for the
// poller to end.
func (w *watcher) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	return func() { cancel(); <-done }
}

func (w *watcher) run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	perRound := max(1, w.maxRate*int(w.interval)/int(time.Second))
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		n := min(len(w.pending), perRound)
		batch := make([]*watch, 0, n)
		for i := range n {
			batch = append(batch, w.pending[(w.cursor+i)%len(w.pending)])
		}
		if len(w.pending) > 0 {
			w.cursor = (w.cursor + n) % len(w.pending)
		}
		w.mu.Unlock()
		var g errgroup.Group
		g.SetLimit(w.workers)
		for _, wt := range batch {
			g.Go(func() error {
				at := time.Now()
				ok, err := w.visible(ctx, wt.id)
				if err == nil && ok {
					w.seen(wt, time.Now())
				}
				if wt.polls > 0 {
					wt.gapSum += at.Sub(wt.lastPoll)
				}
				wt.polls++
				wt.lastPoll = at
				return nil
			})
		}
		g.Wait()
	}
}

func (w *watcher) seen(wt *watch, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	wt.seen = at
	for i, p := range w.pending {
		if p == wt {
			w.pending = append(w.pending[:i], w.pending[i+1:]...)
			break
		}
	}
	if len(w.pending) > 0 {
		w.cursor %= len(w.pending)
	} else {
		w.cursor = 0
	}
	w.done = append(w.done, wt)
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// visible asks the API once whether it serves component id.
func (w *watcher) visible(ctx context.Context, id string) (bool, error) {
	w.gets.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.api+url.PathEscape(id), nil)
	if err != nil {
		return false, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		io.Copy(io.Discard, resp.Body)
		return false, nil
	case http.StatusOK:
		var d struct {
			Component struct{ ID string } `json:"component"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			return false, err
		}
		if d.Component.ID != id {
			return false, fmt.Errorf("GET %s answered component %q", id, d.Component.ID)
		}
		return true, nil
	default:
		io.Copy(io.Discard, resp.Body)
		return false, fmt.Errorf("GET %s: %s", id, resp.Status)
	}
}

// wait returns once nothing is pending, or at deadline; it returns how
// many are still pending.
func (w *watcher) wait(ctx context.Context, deadline time.Time) int {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		w.mu.Lock()
		n := len(w.pending)
		w.mu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return n
		case <-t.C:
			return n
		case <-w.changed:
		}
	}
}

// results returns the latency of each component seen (seen - since), the
// mean time between two polls of one id, and the time the last one was seen.
func (w *watcher) results() (lat []time.Duration, pollGap time.Duration, last time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var gaps time.Duration
	gapN := 0
	for _, wt := range w.done {
		lat = append(lat, max(0, wt.seen.Sub(wt.since)))
		if wt.seen.After(last) {
			last = wt.seen
		}
		if wt.polls > 1 {
			gaps += wt.gapSum
			gapN += wt.polls - 1
		}
	}
	if gapN > 0 {
		pollGap = gaps / time.Duration(gapN)
	}
	return lat, pollGap, last
}

// pollCost measures the CPU time one poll costs this process (client and
// skymap's handler, both in-process) with n requests for a component that
// does not exist, as almost every poll is.
func (w *watcher) pollCost(ctx context.Context, n int) time.Duration {
	cpu0 := cpuTime()
	for range n {
		w.visible(ctx, "arn:aws:sqs:eu-west-1:000000000000:no-such-queue")
	}
	w.gets.Add(-int64(n))
	return (cpuTime() - cpu0) / time.Duration(n)
}

// report reports the polling's rate over wall, its mean gap between two
// polls of one id, and its CPU cost (cost per poll, from pollCost) as a
// percentage of one core.
func (w *watcher) report(b *testing.B, cost, wall, gap time.Duration) {
	gets := w.gets.Load()
	b.ReportMetric(float64(gets)/wall.Seconds(), "polls/s")
	b.ReportMetric(ms(gap), "poll-gap-ms")
	b.ReportMetric(float64(cost.Microseconds()), "poll-cpu-µs")
	b.ReportMetric(100*float64(gets)*cost.Seconds()/wall.Seconds(), "poll-cpu-%")
}

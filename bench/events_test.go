package bench

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"golang.org/x/sync/errgroup"
)

// The event benchmarks' sizes, overridable from the environment.
const (
	envEvents = "SKYMAP_BENCH_EVENTS"     // events per run, default 1,000
	envRate   = "SKYMAP_BENCH_EVENT_RATE" // offered events/s of BenchmarkEventLatency, default 20
	envWait   = "SKYMAP_BENCH_EVENT_WAIT" // seconds to wait for the last component, default 300
	envPoll   = "SKYMAP_BENCH_POLL_RATE"  // API requests/s of the watcher at most, default 1,000
)

// BenchmarkEventLatency measures the end-to-end latency of change events
// read from an SQS queue by skymap serve: for each event, a queue is
// created in moto (CreateQueue), then the EventBridge event of that call is
// sent to the event queue at a steady offered rate, and the API is polled
// until GET /api/components/{queue ARN} answers with the queue. The latency
// runs from SendMessage returning to that answer. It reports p50, p90, p99
// and max, how long moto took to create each queue (context: the time
// before the event exists), the polling's own cost, and, after serve has
// stopped, the floor: the SQS round trip of one message and the two
// describe calls one queue needs (GetQueueAttributes, ListQueueTags).
// Components not visible within SKYMAP_BENCH_EVENT_WAIT are logged as
// INCOMPLETE and counted (not-visible) with that wait as their latency, a
// lower bound: the figures of a slow implementation are still reported.
//
//	go test ./bench -run '^$' -bench EventLatency -benchtime 1x -timeout 60m
func BenchmarkEventLatency(b *testing.B) {
	n := envInt(b, envEvents, 1000)
	rate := envFloat(b, envRate, 20)
	within := time.Duration(envFloat(b, envWait, 300) * float64(time.Second))
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		env := startEventEnv(b)
		w := newWatcher(env.api, envInt(b, envPoll, 1000))
		cost := w.pollCost(ctx, 2000)
		b.StartTimer()

		stopWatch := w.start(ctx)
		cpu := startCPU(env.motoCPU)
		start := time.Now()
		sent, err := sendPaced(ctx, env, w, n, rate)
		if err != nil {
			b.Fatal(err)
		}
		offered := float64(n-1) / sent.last.Sub(start).Seconds()
		missed := w.wait(ctx, sent.last.Add(within))
		stopWatch()
		b.StopTimer()
		wall := time.Since(start)
		cpu.report(b, "")
		lat, gap, _ := w.results()
		for range missed {
			lat = append(lat, within) // a lower bound of theirs
		}
		if missed > 0 {
			b.Logf("INCOMPLETE: %d of %d components not visible %s after the last event; their latency counts as %s", missed, n, within, within)
		}
		if st, err := env.status(); err == nil {
			b.Logf("event stats: %+v", st.EventStats)
		}
		reportLatencies(b, "latency", lat)
		b.ReportMetric(float64(missed), "not-visible")
		b.ReportMetric(float64(sent.early), "visible-before-event")
		b.ReportMetric(offered, "offered-events/s")
		reportLatencies(b, "moto-create", sent.creates)
		reportLatencies(b, "moto-send", sent.sends)
		w.report(b, cost, wall, gap)

		env.stop()
		rt, err := roundTrips(ctx, env, min(n, 200))
		if err != nil {
			b.Fatal(err)
		}
		reportLatencies(b, "base-sqs-rt", rt)
		one, err := describeEach(ctx, env.sqs, sent.urls[:min(len(sent.urls), 200)])
		if err != nil {
			b.Fatal(err)
		}
		reportLatencies(b, "base-describe", one)
		env.close()
	}
}

// paced is what sendPaced did.
type paced struct {
	// creates and sends are how long moto took to create each queue and
	// to take each event.
	creates, sends []time.Duration
	urls           []string
	// early counts queues already visible before their event was sent
	// (shown by a listing made for an earlier event); their events are
	// not sent and their latency not measured.
	early int
	// last is when the last SendMessage returned.
	last time.Time
}

// sendPaced makes n changes at rate per second and tells skymap of each:
// the i-th creates queue bench-q-<i> in moto and then sends the
// EventBridge event of that call to the event queue, and w waits for the
// queue from when SendMessage returned. Changes start on schedule, 4 at a
// time at most, so that a slow answer of moto does not delay the next.
func sendPaced(ctx context.Context, env *eventEnv, w *watcher, n int, rate float64) (paced, error) {
	var (
		mu  sync.Mutex
		out paced
	)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			name := "bench-q-" + strconv.Itoa(i)
			t0 := time.Now()
			q, err := env.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
			if err != nil {
				return err
			}
			created := time.Since(t0)
			u, id := aws.ToString(q.QueueUrl), queueARN(name)
			early, _ := w.visible(ctx, id)
			var sent time.Duration
			if !early {
				body := createQueueEvent("bench-"+strconv.Itoa(i), name, u, time.Now())
				t0 = time.Now()
				if _, err := env.events.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(env.eventsURL),
					MessageBody: aws.String(body)}); err != nil {
					return err
				}
				sent = time.Since(t0)
				w.add(id, t0.Add(sent))
			}
			mu.Lock()
			defer mu.Unlock()
			out.creates, out.urls = append(out.creates, created), append(out.urls, u)
			if early {
				out.early++
			} else {
				out.sends = append(out.sends, sent)
				if at := t0.Add(sent); at.After(out.last) {
					out.last = at
				}
			}
			return nil
		})
	}
	return out, g.Wait()
}

// BenchmarkEventThroughput measures how fast skymap serve works through a
// burst of events: N queues are created in moto, then their N CreateQueue
// events are sent to the event queue as fast as SendMessageBatch takes
// them (10 a call, 4 calls at a time), and the clock runs until the event
// queue is empty (skymap deletes a message once its change is committed:
// every event handled) and until every queue is visible in the API. It
// reports events/s on both counts. Baselines in the same run, once serve
// has stopped: the describe calls the N events need of moto
// (GetQueueAttributes and ListQueueTags of each queue), one at a time and 8
// at a time (skymap's per-listing concurrency); one ListQueues; and the
// SQS round trip of N messages (sent as the events were, long-polled and
// deleted one by one as skymap does). When the wait ends first, events/s
// counts the events handled by then (events-handled) and the run is
// logged as INCOMPLETE.
//
//	go test ./bench -run '^$' -bench EventThroughput -benchtime 1x -timeout 60m
func BenchmarkEventThroughput(b *testing.B) {
	n := envInt(b, envEvents, 1000)
	within := time.Duration(envFloat(b, envWait, 300) * float64(time.Second))
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		env := startEventEnv(b)
		names := make([]string, n)
		urls := make([]string, n)
		creates := make([]time.Duration, n)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		t0 := time.Now()
		for i := range n {
			names[i] = "bench-b-" + strconv.Itoa(i)
			g.Go(func() error {
				t := time.Now()
				q, err := env.sqs.CreateQueue(gctx, &sqs.CreateQueueInput{QueueName: aws.String(names[i])})
				creates[i] = time.Since(t)
				if err != nil {
					return err
				}
				urls[i] = aws.ToString(q.QueueUrl)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		createWall := time.Since(t0)
		w := newWatcher(env.api, envInt(b, envPoll, 1000))
		cost := w.pollCost(ctx, 2000)
		b.StartTimer()

		stopWatch := w.start(ctx)
		cpu := startCPU(env.motoCPU)
		start := time.Now()
		for _, name := range names {
			w.add(queueARN(name), start)
		}
		if err := sendBatches(ctx, env.events, env.eventsURL, n, func(i int) string {
			return createQueueEvent("burst-"+strconv.Itoa(i), names[i], urls[i], time.Now())
		}); err != nil {
			b.Fatal(err)
		}
		sent := time.Since(start)
		// Handled: every event's message deleted, or as many as were by
		// the deadline.
		var handled time.Duration
		left := n
		for time.Since(start) < within {
			held, err := queueHolds(ctx, env.events, env.eventsURL)
			if err != nil {
				b.Fatal(err)
			}
			if left = held; held == 0 {
				handled = time.Since(start)
				break
			}
			// Not more often: moto counts a queue's messages one by one.
			time.Sleep(250 * time.Millisecond)
		}
		missed := w.wait(ctx, start.Add(within))
		stopWatch()
		b.StopTimer()
		cpu.report(b, "")
		_, gap, last := w.results()
		w.report(b, cost, time.Since(start), gap)
		if handled == 0 {
			handled = within
			b.Logf("INCOMPLETE: %d of %d events not handled %s after the first was sent; events/s counts those handled by then", left, n, within)
		}
		if missed > 0 {
			b.Logf("INCOMPLETE: %d of %d components not visible %s after the first event was sent", missed, n, within)
			last = start.Add(within)
		}
		if st, err := env.status(); err == nil {
			b.Logf("event stats: %+v", st.EventStats)
		}
		b.ReportMetric(float64(n-left)/handled.Seconds(), "events/s")
		b.ReportMetric(float64(n-left), "events-handled")
		b.ReportMetric(handled.Seconds(), "handled-s")
		b.ReportMetric(last.Sub(start).Seconds(), "visible-all-s")
		b.ReportMetric(sent.Seconds(), "send-s")
		b.ReportMetric(float64(missed), "not-visible")
		b.ReportMetric(createWall.Seconds(), "moto-create-all-s")
		reportLatencies(b, "moto-create", creates)

		env.stop()
		for _, conc := range []int{1, 8} {
			t := time.Now()
			if err := describeAll(ctx, env.sqs, urls, conc); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/time.Since(t).Seconds(), "base-describe-"+strconv.Itoa(conc)+"-queues/s")
		}
		t := time.Now()
		if err := listQueues(ctx, env.sqs); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(ms(time.Since(t)), "base-list-queues-ms")
		t = time.Now()
		if err := roundTripAll(ctx, env, n); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/time.Since(t).Seconds(), "base-sqs-rt-messages/s")
		env.close()
	}
}

package otlp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// pipe is the queue and sender of one signal.
type pipe struct {
	signal string // metrics or logs
	url    string
	shown  string // url as statuses and logs show it
	build  func([]item) proto.Message
	wake   chan struct{}

	mu      sync.Mutex
	q       queue
	pending []item // a batch taken but not sent when Run's ctx ended
	st      Status
	// failing and dropping remember that a failure and a drop were
	// logged, so that only changes are: the next success and an empty
	// queue clear them.
	failing, dropping bool
}

// newPipe returns the pipe of a signal posting to u, its queue bounded
// to maxItems and maxBytes, its requests made by build.
func newPipe(signal, u string, maxItems, maxBytes int, build func([]item) proto.Message) *pipe {
	return &pipe{signal: signal, url: u, shown: shownURL(u), build: build, wake: make(chan struct{}, 1),
		q: queue{maxItems: maxItems, maxBytes: maxBytes}, st: Status{Signal: signal, URL: shownURL(u)}}
}

// push queues items, counting and logging (once until the queue empties)
// the oldest dropped to make room, and wakes the sender.
func (p *pipe) push(e *Exporter, items []item) {
	p.mu.Lock()
	dropped := p.q.push(items)
	p.st.Dropped += int64(dropped)
	first := dropped > 0 && !p.dropping
	p.dropping = p.dropping || dropped > 0
	p.mu.Unlock()
	if first {
		e.log.Warn("OTLP export queue full: dropping the oldest", "signal", p.signal, "url", p.shown,
			"queue_size", e.opts.QueueSize, "dropped", dropped)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// status returns the pipe's status now.
func (p *pipe) status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.st
	st.Queued = p.q.len() + len(p.pending)
	return st
}

// run sends batches as they fill (or Linger after the first arrives) until
// ctx ends; a batch it was retrying then is kept for flush.
func (p *pipe) run(ctx context.Context, e *Exporter) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		if sleepCtx(ctx, e.opts.Linger) != nil {
			return
		}
		for {
			p.mu.Lock()
			batch := p.q.take(e.opts.BatchSize, maxRequestBytes)
			if p.q.len() == 0 {
				p.dropping = false
			}
			p.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			if !p.send(ctx, e, batch, true) {
				p.mu.Lock()
				p.pending = batch
				p.mu.Unlock()
				return
			}
		}
	}
}

// flush sends what is left, each batch once, until ctx ends; what it
// cannot send is counted failed.
func (p *pipe) flush(ctx context.Context, e *Exporter) {
	p.mu.Lock()
	batch := p.pending
	p.pending = nil
	p.mu.Unlock()
	for {
		if len(batch) == 0 {
			p.mu.Lock()
			batch = p.q.take(e.opts.BatchSize, maxRequestBytes)
			p.mu.Unlock()
			if len(batch) == 0 {
				return
			}
		}
		if !p.send(ctx, e, batch, false) {
			p.mu.Lock()
			n := len(batch) + p.q.clear()
			p.st.Failed += int64(n)
			p.mu.Unlock()
			e.log.Warn("OTLP export stopped before all was sent", "signal", p.signal, "url", p.shown, "not_sent", n)
			return
		}
		batch = nil
	}
}

// send posts a batch, retrying what the specification says to retry when
// retry is set (run), else once within ctx (flush), and counts the
// outcome. It returns false, having counted nothing, when ctx ended before
// the batch was done with.
func (p *pipe) send(ctx context.Context, e *Exporter, batch []item, retry bool) bool {
	body, err := encode(p.build(batch), e.opts.Gzip)
	if err != nil { // a message of our own making that does not marshal
		p.fail(e, int64(len(batch)), fmt.Sprintf("encode %s request: %v", p.signal, err))
		return true
	}
	start := e.now()
	for attempt := 0; ; attempt++ {
		// While running, a request under way when ctx ends is let finish
		// (within Timeout): cut, it would be sent again by flush.
		rctx := ctx
		if retry {
			rctx = context.WithoutCancel(ctx)
		}
		r := e.post(rctx, p, body)
		if ctx.Err() != nil && r.err != "" {
			return false
		}
		if r.err == "" {
			p.succeed(e, int64(len(batch)), r.rejected, r.partial)
			return true
		}
		if !r.retryable || !retry {
			p.fail(e, int64(len(batch)), r.err)
			return true
		}
		wait := r.retryAfter
		if wait <= 0 {
			wait = e.backoff(attempt)
		}
		if e.now().Sub(start)+wait > e.opts.MaxElapsed {
			p.fail(e, int64(len(batch)), fmt.Sprintf("gave up after %d attempts in %s: %s", attempt+1,
				e.now().Sub(start).Round(time.Second), r.err))
			return true
		}
		p.note(e, r.err)
		p.mu.Lock()
		p.st.Retries++
		p.mu.Unlock()
		if e.sleep(ctx, wait) != nil {
			return false
		}
	}
}

// backoff is the wait before retry attempt+1 without a Retry-After:
// MinBackoff doubled per attempt up to MaxBackoff, of which a random half
// (the jitter the specification asks for).
func (e *Exporter) backoff(attempt int) time.Duration {
	d := e.opts.MaxBackoff
	if attempt < 30 {
		d = min(e.opts.MinBackoff<<attempt, e.opts.MaxBackoff)
	}
	return d/2 + e.jitter(d/2)
}

// randDuration returns a random duration in [0, d).
func randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// succeed counts an accepted request: its points or records less those a
// partial success rejected, whose message it records.
func (p *pipe) succeed(e *Exporter, n, rejected int64, partial string) {
	rejected = min(max(rejected, 0), n)
	p.mu.Lock()
	p.st.Sent += n - rejected
	p.st.Rejected += rejected
	p.st.LastSent = e.now()
	recovered := p.failing
	p.failing = false
	p.mu.Unlock()
	if recovered {
		e.log.Info("OTLP export recovered", "signal", p.signal, "url", p.shown)
	}
	if rejected > 0 || partial != "" {
		msg := fmt.Sprintf("partial success: %d of %d rejected: %s", rejected, n, partial)
		p.mu.Lock()
		changed := p.st.LastError != msg
		p.st.LastError, p.st.LastErrorTime = msg, e.now()
		p.mu.Unlock()
		if changed {
			e.log.Warn("OTLP endpoint rejected part of a request", "signal", p.signal, "url", p.shown,
				"rejected", rejected, "of", n, "message", partial)
		}
	}
}

// fail counts n points or records as failed for good, and records why.
func (p *pipe) fail(e *Exporter, n int64, msg string) {
	p.mu.Lock()
	p.st.Failed += n
	p.mu.Unlock()
	p.note(e, msg)
}

// note records an error; the first after a success is logged.
func (p *pipe) note(e *Exporter, msg string) {
	p.mu.Lock()
	p.st.LastError, p.st.LastErrorTime = msg, e.now()
	first := !p.failing
	p.failing = true
	p.mu.Unlock()
	if first {
		e.log.Warn("OTLP export failing", "signal", p.signal, "url", p.shown, "err", msg)
	}
}

// result is the outcome of one request.
type result struct {
	// err is "" for a 2xx answer, else what went wrong, with no header
	// value in it.
	err        string
	retryable  bool
	retryAfter time.Duration // the server's Retry-After; 0 when none
	rejected   int64         // from a partial success
	partial    string        // its message
}

// maxResponseBytes bounds what is read of a response body.
const maxResponseBytes = 64 << 10

// post sends one request and reads its answer.
func (e *Exporter) post(ctx context.Context, p *pipe, body []byte) result {
	p.mu.Lock()
	p.st.Requests++
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return result{err: e.scrub(fmt.Sprintf("make request to %s: %v", p.shown, err))}
	}
	req.Header.Set("User-Agent", strings.TrimSuffix("skymap/"+e.opts.Version, "/")) // the configured headers may replace it
	for k, v := range e.opts.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if e.opts.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		// A url.Error quotes the URL with its query: say the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return result{err: e.scrub(fmt.Sprintf("POST %s: %v", p.shown, err)), retryable: true}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection is reused
	if resp.StatusCode/100 == 2 {
		if err != nil {
			return result{} // accepted; the partial success is unknown
		}
		rejected, msg, _ := partialSuccess(p.signal, answer) // an answer that does not decode is a full success
		return result{rejected: rejected, partial: e.scrub(clip(msg))}
	}
	r := result{err: e.scrub(fmt.Sprintf("POST %s: %s%s", p.shown, resp.Status, serverMessage(resp.Header.Get("Content-Type"), answer)))}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		r.retryable = true
		r.retryAfter = retryAfter(resp.Header.Get("Retry-After"), e.now())
	}
	return r
}

// serverMessage is ": <message>" of an error answer: a google.rpc.Status
// as the specification asks, else short text; "" when it has none.
func serverMessage(contentType string, body []byte) string {
	var st statuspb.Status
	if strings.HasPrefix(contentType, "application/x-protobuf") && proto.Unmarshal(body, &st) == nil && st.GetMessage() != "" {
		return ": " + clip(st.GetMessage())
	}
	if strings.HasPrefix(contentType, "text/") || strings.HasPrefix(contentType, "application/json") {
		if s := clip(string(body)); s != "" {
			return ": " + s
		}
	}
	return ""
}

// clip makes untrusted text fit for a status line: valid UTF-8, control
// characters as spaces, at most 300 bytes.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		cut := 300
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// maxRetryAfter bounds the wait a server may ask for; MaxElapsed bounds it
// further.
const maxRetryAfter = time.Hour

// retryAfter reads a Retry-After header: seconds, or an HTTP date; 0 when
// absent, unreadable or past.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil {
		if n <= 0 {
			return 0
		}
		return min(time.Duration(n)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// minScrubbed is the length from which a header value is hidden in
// errors: shorter ones would garble messages and are no secrets anyway.
const minScrubbed = 4

// scrub hides every header value in s: a server may echo a header back,
// and an error may quote a request.
func (e *Exporter) scrub(s string) string {
	for _, v := range e.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

// encode marshals m and gzips it when asked.
func encode(m proto.Message, gz bool) ([]byte, error) {
	b, err := proto.Marshal(m)
	if err != nil || !gz {
		return b, err
	}
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

package stackstate

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// Source is the map a push sends; *topology.Graph is one.
type Source interface {
	Components() []model.Component
	Relations() []model.Relation
}

var _ Source = (*topology.Graph)(nil)

// Defaults of Options.
const (
	DefaultInterval    = 5 * time.Minute
	DefaultTimeout     = 30 * time.Second
	DefaultMaxAttempts = 5
	DefaultBackoff     = time.Second
	// maxBackoff bounds the wait between attempts, Retry-After included.
	maxBackoff = time.Minute
)

// Options configure a Pusher.
type Options struct {
	// Receiver is the receiver's URL (see IntakeURL).
	Receiver string
	// APIKey is the receiver's API key. The Pusher sends it in the
	// api_key query parameter and the sts-api-key header, as the agent
	// does, and never in an error or a log line.
	APIKey string
	Source Source
	// Accounts are the monitored accounts the config names: each gets a
	// snapshot even when the map holds nothing of it.
	Accounts []string
	// Health sends each account's health stream.
	Health bool
	// Hostname is the bodies' internalHostname; "" means the host's name.
	Hostname string
	// Interval is the time between pushes besides those Trigger asks
	// for, and the health streams' repeat interval; 0 means
	// DefaultInterval.
	Interval time.Duration
	// Timeout bounds each POST; 0 means DefaultTimeout.
	Timeout time.Duration
	// Compress gzips the bodies (Content-Encoding: gzip).
	Compress bool
	// MaxAttempts is the POSTs tried per body, at least 1; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is the wait before the second attempt, doubled for each
	// further one up to a minute; 0 means DefaultBackoff. A Retry-After
	// of the receiver takes precedence.
	Backoff time.Duration
	// MaxElements and MaxBytes bound a body; 0 means the package's.
	MaxElements, MaxBytes int
	// Client posts; nil means a client of its own. Redirects are not
	// followed either way: they would take the API key elsewhere.
	Client *http.Client
	// UserAgent is sent as User-Agent; "" means "skymap".
	UserAgent string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Pusher sends the map to a StackState receiver: at once when Run starts,
// every Interval after, and soon after Trigger. Make one with New.
type Pusher struct {
	o        Options
	endpoint string // the intake URL, without the key
	target   string // the intake URL with the key
	client   *http.Client
	log      *slog.Logger

	once    sync.Once
	trigger chan struct{}

	// pushMu makes pushes one at a time.
	pushMu sync.Mutex
	mu     sync.Mutex
	status Status
}

// Status is what the pusher did, as /api/status shows it.
type Status struct {
	// Endpoint is the intake URL, without the API key.
	Endpoint string `json:"endpoint"`
	// LastPush is when the last push started, LastSuccess when the last
	// push without error did; zero before the first.
	LastPush    time.Time `json:"last_push"`
	LastSuccess time.Time `json:"last_success"`
	// Seconds is how long the last push took.
	Seconds float64 `json:"seconds"`
	// Instances are the accounts the last push sent snapshots of; the
	// counts are what its bodies held and Bytes their size as sent.
	Instances int `json:"instances"`
	Counts
	Bytes int64 `json:"bytes"`
	// LastError is what went wrong in the last push, "" when nothing.
	LastError string `json:"last_error"`
	// Pushes, Failures, Posts, Retries and SentBytes count since start:
	// pushes, pushes with an error, POSTs answered 2xx, attempts beyond
	// each body's first, and bytes of the POSTs answered 2xx.
	Pushes    int   `json:"pushes"`
	Failures  int   `json:"failures"`
	Posts     int   `json:"posts"`
	Retries   int   `json:"retries"`
	SentBytes int64 `json:"sent_bytes"`
}

// New returns a Pusher of o, or an error when o.Receiver is not a
// receiver URL or o.APIKey or o.Source is missing.
func New(o Options) (*Pusher, error) {
	u, err := IntakeURL(o.Receiver)
	if err != nil {
		return nil, fmt.Errorf("stackstate: %w", err)
	}
	if o.APIKey == "" {
		return nil, errors.New("stackstate: no API key")
	}
	if o.Source == nil {
		return nil, errors.New("stackstate: no map to push")
	}
	p := &Pusher{o: o, endpoint: u.String(), log: o.Log}
	u.RawQuery = url.Values{"api_key": {o.APIKey}}.Encode()
	p.target = u.String()
	if p.o.Interval <= 0 {
		p.o.Interval = DefaultInterval
	}
	if p.o.Timeout <= 0 {
		p.o.Timeout = DefaultTimeout
	}
	if p.o.MaxAttempts <= 0 {
		p.o.MaxAttempts = DefaultMaxAttempts
	}
	if p.o.Backoff <= 0 {
		p.o.Backoff = DefaultBackoff
	}
	if p.o.Hostname == "" {
		p.o.Hostname, _ = os.Hostname()
		if p.o.Hostname == "" {
			p.o.Hostname = "skymap"
		}
	}
	if p.o.UserAgent == "" {
		p.o.UserAgent = "skymap"
	}
	if p.o.Now == nil {
		p.o.Now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	c := http.Client{Timeout: p.o.Timeout}
	if o.Client != nil {
		c = *o.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.client = &c
	p.status.Endpoint = p.endpoint
	p.log = p.log.With("exporter", "stackstate", "endpoint", p.endpoint)
	return p, nil
}

// String names the pusher by its endpoint, never showing the API key.
func (p *Pusher) String() string { return "stackstate.Pusher(" + p.endpoint + ")" }

func (p *Pusher) init() {
	p.once.Do(func() { p.trigger = make(chan struct{}, 1) })
}

// Trigger asks for a push soon (after a scan).
func (p *Pusher) Trigger() {
	p.init()
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Run pushes at once, then every Interval and after each Trigger, until
// ctx is cancelled; it returns nil then. Start it once the map holds a
// full scan: a snapshot of a map that does not yet deletes from
// StackState what the map has not seen. A push's failure is in Status
// and the log, not returned; the next push sends everything again.
func (p *Pusher) Run(ctx context.Context) error {
	p.init()
	select {
	case <-p.trigger: // the first push covers what asked before Run
	default:
	}
	failing := false
	for {
		err := p.Push(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failing = true
			p.log.Warn("stackstate push failed; the next push sends everything again", "err", err)
		case failing:
			failing = false
			p.log.Info("stackstate push succeeded again")
		default:
			p.log.Debug("stackstate push done")
		}
		t := time.NewTimer(p.o.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-p.trigger:
			t.Stop()
		}
	}
}

// Push sends the snapshot of every account once, one account after the
// other, and returns what went wrong, each error naming its account. An
// account whose body could not be sent stops there (its snapshot is not
// stopped, so StackState deletes nothing of it); the others are still
// sent.
func (p *Pusher) Push(ctx context.Context) error {
	p.pushMu.Lock()
	defer p.pushMu.Unlock()
	started := p.o.Now()
	snaps := Snapshots(p.o.Source.Components(), p.o.Source.Relations(), p.o.Accounts)
	enc := Encoder{Hostname: p.o.Hostname, Time: started, Health: p.o.Health, RepeatInterval: p.o.Interval,
		MaxElements: p.o.MaxElements, MaxBytes: p.o.MaxBytes}
	var total Counts
	var bytesSent int64
	var errs []error
	for _, s := range snaps {
		n, err := enc.Encode(s, func(body []byte) error {
			sent, err := p.post(ctx, body)
			bytesSent += int64(sent)
			return err
		})
		total.add(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s: %w", s.Instance.URL, err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	err := errors.Join(errs...)
	p.mu.Lock()
	defer p.mu.Unlock()
	st := &p.status
	st.LastPush = started
	st.Seconds = p.o.Now().Sub(started).Seconds()
	st.Instances = len(snaps)
	st.Counts = total
	st.Bytes = bytesSent
	st.Pushes++
	st.LastError = ""
	if err != nil {
		st.Failures++
		st.LastError = p.redact(err.Error()) // the errors are redacted where made; this is a second net
		return err
	}
	st.LastSuccess = started
	return nil
}

// Status returns what the pusher did.
func (p *Pusher) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// post sends one body, retrying on connection errors, 429 and 5xx, and
// returns the bytes posted when the receiver took it.
func (p *Pusher) post(ctx context.Context, body []byte) (int, error) {
	payload := body
	if p.o.Compress {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a valid level
		zw.Write(body)                                     // a bytes.Buffer does not fail
		if err := zw.Close(); err != nil {
			return 0, fmt.Errorf("gzip body: %w", err)
		}
		payload = buf.Bytes()
	}
	wait := p.o.Backoff
	for attempt := 1; ; attempt++ {
		err := p.postOnce(ctx, payload)
		if err == nil {
			p.mu.Lock()
			p.status.Posts++
			p.status.SentBytes += int64(len(payload))
			p.mu.Unlock()
			return len(payload), nil
		}
		var se *StatusError
		retry := ctx.Err() == nil && (!errors.As(err, &se) || se.Temporary())
		if !retry || attempt >= p.o.MaxAttempts {
			if retry {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return 0, err
		}
		d := wait
		if se != nil && se.RetryAfter > 0 {
			d = se.RetryAfter
		}
		d = min(d, maxBackoff)
		wait = min(2*wait, maxBackoff)
		p.mu.Lock()
		p.status.Retries++
		p.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
}

// postOnce makes one POST of payload.
func (p *Pusher) postOnce(ctx context.Context, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.target, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("post %s: %s", p.endpoint, p.redact(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	if p.o.Compress {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Header.Set("sts-api-key", p.o.APIKey)
	req.Header.Set("User-Agent", p.o.UserAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		// A *url.Error quotes the URL, key and all: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post %s: %s", p.endpoint, p.redact(err.Error()))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
		return nil
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt+1))
	return &StatusError{Endpoint: p.endpoint, Status: resp.StatusCode, Body: p.redact(oneLine(excerpt)),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), p.o.Now())}
}

// maxExcerpt bounds the excerpt of an error answer's body.
const maxExcerpt = 300

// redact replaces the API key (as is and as escaped in a query) in s.
func (p *Pusher) redact(s string) string {
	if len(p.o.APIKey) < 4 {
		return s // too short to find without mangling s; nothing skymap writes quotes it
	}
	for _, k := range []string{p.o.APIKey, url.QueryEscape(p.o.APIKey), url.PathEscape(p.o.APIKey)} {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

// oneLine returns the start of b as one line of at most maxExcerpt bytes.
func oneLine(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > maxExcerpt {
		s = strings.ToValidUTF8(s[:maxExcerpt], "") + "…"
	}
	return s
}

// retryAfter reads a Retry-After header: seconds or an HTTP date; 0 when
// absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// StatusError is a receiver's answer other than 2xx.
type StatusError struct {
	// Endpoint is the intake URL, without the API key.
	Endpoint string
	Status   int
	// Body is the start of the answer's body, on one line.
	Body string
	// RetryAfter is the receiver's Retry-After, 0 when it gave none.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("post %s: %d %s", e.Endpoint, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Temporary tells whether retrying may help: 429 and 5xx. Other answers
// (a wrong key, a rejected body, a redirect) will not change.
func (e *StatusError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

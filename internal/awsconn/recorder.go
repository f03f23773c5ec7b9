package awsconn

import (
	"cmp"
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// Recorder keeps the outcome of API calls per (account, region, API). It is
// safe for concurrent use. The zero value is ready and uses time.Now.
type Recorder struct {
	now func() time.Time

	mu      sync.Mutex
	calls   map[callKey]*model.CallStatus
	secrets []string
}

type callKey struct{ account, region, api string }

// NewRecorder returns a Recorder with the given clock; nil means time.Now.
func NewRecorder(now func() time.Time) *Recorder {
	return &Recorder{now: now}
}

// Record notes the outcome of one call: err nil is ok, otherwise Classify
// decides. api is the IAM action form, e.g. "ec2:DescribeInstances". A call
// cancelled by its caller says nothing about the API and is not recorded.
func (r *Recorder) Record(account, region, api string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	outcome, detail := classify(err, api)
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now
	if r.now != nil {
		now = r.now
	}
	if r.calls == nil {
		r.calls = map[callKey]*model.CallStatus{}
	}
	k := callKey{account, region, api}
	s, ok := r.calls[k]
	if !ok {
		s = &model.CallStatus{Account: account, Region: region, API: api}
		r.calls[k] = s
	}
	s.Calls++
	s.Outcome = outcome
	s.Detail = r.redactLocked(detail)
	s.Time = now()
}

// Statuses returns one status per (account, region, API) since the last
// Reset, sorted by account, region and API. Outcome, Detail and Time are
// those of the most recent call, so a scan that recovered shows ok; Calls
// counts all of them.
func (r *Recorder) Statuses() []model.CallStatus {
	r.mu.Lock()
	out := make([]model.CallStatus, 0, len(r.calls))
	for _, s := range r.calls {
		out = append(out, *s)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b model.CallStatus) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region), cmp.Compare(a.API, b.API))
	})
	return out
}

// Reset forgets every recorded call.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// minSecretLen keeps very short values (an external id like "ab") from
// being blanked out of every message they happen to occur in.
const minSecretLen = 6

// addSecrets registers values that must never appear in a recorded detail.
func (r *Recorder) addSecrets(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) >= minSecretLen && !slices.Contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
		}
	}
}

func (r *Recorder) redact(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.redactLocked(s)
}

func (r *Recorder) redactLocked(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return redactKeys(s)
}

// Redact returns err with the registered secrets (static keys, external id)
// and any access key id removed from its text; its chain is kept for errors.Is.
func (r *Recorder) Redact(err error) error { return r.redactErr(err) }

// redactErr returns err, or an error with the same chain whose text has the
// registered secrets and any access key id removed.
func (r *Recorder) redactErr(err error) error {
	if err == nil {
		return nil
	}
	text := r.redact(err.Error())
	if text == err.Error() {
		return err
	}
	return &redactedError{text: text, err: err}
}

type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

const redacted = "[redacted]"

// accessKeyID matches long-term (AKIA) and temporary (ASIA) access key ids.
var accessKeyID = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)

func redactKeys(s string) string { return accessKeyID.ReplaceAllString(s, redacted) }

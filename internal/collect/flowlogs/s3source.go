package flowlogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/store"
)

// BucketAPI is what BucketSource calls of S3.
type BucketAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ BucketAPI = (*s3.Client)(nil)

// Scope is one account and region whose flow logs a BucketSource reads.
type Scope struct{ Account, Region string }

// BucketSource reads the flow logs of some accounts and regions from one
// bucket (StackState's is stackstate-flowlogs-<account>; the caller
// resolves the name), by listing, oldest first, and hands each object to
// a Handler.
//
// What is listed, per scope: the day prefixes (both key layouts, see
// ParseKey) from the checkpoint's day through today (UTC), never the whole
// bucket. The checkpoint, in State under
// "flowlogs/s3/<bucket>/<account>/<region>", is {day, since}:
//
//   - day is the first day listed. After a poll it becomes the day of
//     now − Lookback, or the day of the oldest object still to be retried
//     if earlier. So an object AWS delivers late into a day that has
//     passed is found as long as it arrives within Lookback (default 6 h)
//     after that day ended (UTC); one later than that is not, until a
//     restart without a checkpoint.
//   - since is the newest LastModified of the objects listed, or the
//     oldest LastModified of an object still to be retried. Objects last
//     modified before since − Margin were dealt with and are passed over
//     without a call; the others are checked with Handler.Done first
//     (once per process), so a restart handles nothing twice.
//
// Without a checkpoint, the first poll starts at the day of now −
// Backfill.
//
// An object is downloaded (at most MaxObjectSize bytes, Concurrency at a
// time) and given to HandleFlowObject; once that returns nil it is
// deleted when Options.Delete is set. A handler error keeps the object:
//
//   - one that retrying will not fix (ErrMissingFields, ErrCorrupt,
//     ErrBadFormat; an object over MaxObjectSize) is given up at once:
//     reported (logParse, logDownload) with severity error, left in the
//     bucket for a human, and passed by the checkpoint;
//   - others are retried on later polls, backing off from Interval,
//     doubling, up to MaxBackoff; meanwhile the object holds the
//     checkpoint back. After MaxFailures tries it is marked failed
//     (severity error) and moves to the checkpoint's list of failed
//     objects (at most maxFailedObjects per scope, kept across restarts),
//     which are tried again every MaxBackoff without holding the
//     checkpoint back, until they are committed or gone.
//
// A listing or download AWS denies (or a missing bucket) stops the
// scope's poll with the checkpoint unchanged: nothing is lost, the status
// says what is missing. The zero value is not usable: use
// NewBucketSource.
type BucketSource struct {
	book
	s3     BucketAPI
	bucket string
	scopes []Scope
	h      Handler
	state  store.State
	o      Options

	mu     sync.Mutex
	memory map[Scope]*scopeMemory
}

// scopeMemory is what a BucketSource remembers of a scope between polls.
type scopeMemory struct {
	// failures are objects whose handling failed, by key.
	failures map[string]*failure
	// recent are objects dealt with in this process whose LastModified is
	// within Margin of since, by key: they are not checked with Done again.
	recent map[string]recentObject
}

type failure struct {
	etag         string
	lastModified time.Time
	count        int
	next         time.Time // retried no sooner
	gaveUp       bool      // given up for good: a parse error, too big
}

type recentObject struct {
	etag         string
	lastModified time.Time
}

// checkpoint is what State keeps per scope.
type checkpoint struct {
	Day   string    `json:"day"` // 2006-01-02
	Since time.Time `json:"since,omitzero"`
	// Failed are objects marked failed, tried again every MaxBackoff.
	Failed []failedObject `json:"failed,omitempty"`
}

type failedObject struct {
	Key          string    `json:"key"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"last_modified"`
	Failures     int       `json:"failures"`
}

// maxFailedObjects bounds a checkpoint's failed objects; past it the
// oldest are dropped (and stay reported and in the bucket).
const maxFailedObjects = 1000

// NewBucketSource returns a source reading the flow logs of scopes from
// bucket through c, keeping checkpoints in st.
func NewBucketSource(c BucketAPI, bucket string, scopes []Scope, h Handler, st store.State, o Options) *BucketSource {
	o = o.withDefaults()
	return &BucketSource{book: newBook("s3://"+bucket, o), s3: c, bucket: bucket, scopes: slices.Clone(scopes), h: h,
		state: st, o: o, memory: map[Scope]*scopeMemory{}}
}

// Run polls every Interval until ctx is cancelled, then returns ctx.Err().
// What goes wrong is in Status.
func (s *BucketSource) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	last := ""
	for {
		err := s.Poll(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if msg := fmt.Sprint(err); err != nil && msg != last {
			// Report logged the problem once, in a few words; this is
			// the whole error, request ids and all.
			s.o.Logger.Debug("flow-log bucket poll", "bucket", s.bucket, "err", err)
			last = msg
		} else if err == nil {
			last = ""
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Poll lists and handles each scope's new objects once. It returns the
// scopes' errors joined: a listing or download that failed, a checkpoint
// that could not be read or saved, Done failing. Objects whose handling
// failed are no error of Poll's: they are in Status. Poll must not be
// called concurrently.
func (s *BucketSource) Poll(ctx context.Context) error {
	var errs []error
	for _, sc := range s.scopes {
		if err := s.pollScope(ctx, sc); err != nil {
			errs = append(errs, fmt.Errorf("flow logs s3://%s %s/%s: %w", s.bucket, sc.Account, sc.Region, err))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if len(errs) == 0 {
		s.resolve(LogDownload, s.bucket)
	}
	s.polled(len(errs) == 0)
	return errors.Join(errs...)
}

// candidate is an object to deal with in this poll.
type candidate struct {
	obj Object
	day time.Time
}

// outcome is what became of a candidate.
type outcome int

const (
	handled outcome = iota // committed, or found committed
	retry                  // failed; tried again later
	gaveUp                 // failed for good; kept and reported
	stopped                // not tried: the bucket refused, or ctx ended
)

func (s *BucketSource) pollScope(ctx context.Context, sc Scope) error {
	cpKey := "flowlogs/s3/" + s.bucket + "/" + sc.Account + "/" + sc.Region
	now := s.o.Now().UTC()
	cp, err := s.loadCheckpoint(ctx, cpKey, now)
	if err != nil {
		return err
	}
	mem := s.scopeMemory(sc, cp.failed)
	cutoff := cp.since.Add(-s.o.Margin)
	var (
		cands   []candidate
		pending []candidate // waiting for their next try
		newest  = cp.since
		listed  = map[string]bool{}
	)
	for d := cp.day; !d.After(utcDay(now)); d = d.AddDate(0, 0, 1) {
		for _, prefix := range dayPrefixes(s.o.Prefix, sc.Account, sc.Region, d) {
			err := s.list(ctx, prefix, func(o Object, k flowKey) {
				if k.account != sc.Account || k.region != sc.Region {
					return
				}
				if o.LastModified.After(newest) {
					newest = o.LastModified
				}
				if o.LastModified.Before(cutoff) {
					return // dealt with before the checkpoint
				}
				s.mu.Lock()
				defer s.mu.Unlock()
				listed[o.Key] = true
				if r, ok := mem.recent[o.Key]; ok && r.etag == o.ETag {
					return
				}
				if f := mem.failures[o.Key]; f != nil && f.etag == o.ETag {
					switch {
					case f.gaveUp:
						return
					case now.Before(f.next):
						if f.count < s.o.MaxFailures {
							pending = append(pending, candidate{o, k.day})
						}
						return
					}
				}
				cands = append(cands, candidate{o, k.day})
			})
			if err != nil {
				return err
			}
		}
	}
	// Failed objects the listing did not bring, when their time has come.
	s.mu.Lock()
	for key, f := range mem.failures {
		if f.gaveUp || f.count < s.o.MaxFailures || listed[key] || now.Before(f.next) {
			continue
		}
		if k, ok := parseKey(key); ok {
			cands = append(cands, candidate{Object{Bucket: s.bucket, Key: key, ETag: f.etag, LastModified: f.lastModified,
				Account: k.account, Region: k.region}, k.day})
		}
	}
	s.mu.Unlock()
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if c := a.obj.LastModified.Compare(b.obj.LastModified); c != 0 {
			return c
		}
		if a.obj.Key < b.obj.Key {
			return -1
		}
		return 1
	})

	outcomes := make([]outcome, len(cands))
	var (
		stop    atomic.Bool
		stopErr error
		errMu   sync.Mutex
	)
	g := new(errgroup.Group)
	g.SetLimit(s.o.Concurrency)
	for i, c := range cands {
		g.Go(func() error {
			if stop.Load() || ctx.Err() != nil {
				outcomes[i] = stopped
				return nil
			}
			out, err := s.object(ctx, mem, c.obj, now)
			outcomes[i] = out
			if err != nil {
				stop.Store(true)
				errMu.Lock()
				stopErr = errors.Join(stopErr, err)
				errMu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}

	s.mu.Lock()
	for i, o := range outcomes {
		if f := mem.failures[cands[i].obj.Key]; (o == retry || o == stopped) && (f == nil || f.count < s.o.MaxFailures) {
			pending = append(pending, cands[i])
		}
	}
	s.mu.Unlock()
	next := checkpoint{Day: utcDay(now.Add(-s.o.Lookback)).Format(time.DateOnly), Since: newest}
	nextDay := utcDay(now.Add(-s.o.Lookback))
	for _, p := range pending {
		if p.obj.LastModified.Before(next.Since) {
			next.Since = p.obj.LastModified
		}
		if p.day.Before(nextDay) {
			nextDay = p.day
		}
	}
	if nextDay.Before(cp.day) {
		nextDay = cp.day
	}
	next.Day = nextDay.Format(time.DateOnly)
	s.forget(mem, next.Since.Add(-s.o.Margin))
	next.Failed = s.failedObjects(mem)
	v, _ := json.Marshal(next)
	if err := s.state.PutState(ctx, cpKey, v); err != nil {
		return errors.Join(stopErr, fmt.Errorf("save checkpoint %s: %w", cpKey, err))
	}
	return stopErr
}

// loadedCheckpoint is a checkpoint as Poll uses it.
type loadedCheckpoint struct {
	day, since time.Time
	failed     []failedObject
}

func (s *BucketSource) loadCheckpoint(ctx context.Context, key string, now time.Time) (loadedCheckpoint, error) {
	v, err := s.state.GetState(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return loadedCheckpoint{day: utcDay(now.Add(-s.o.Backfill))}, nil
	}
	if err != nil {
		return loadedCheckpoint{}, fmt.Errorf("get checkpoint %s: %w", key, err)
	}
	var cp checkpoint
	if err := json.Unmarshal(v, &cp); err != nil {
		return loadedCheckpoint{}, fmt.Errorf("checkpoint %s: %w", key, err)
	}
	day, err := time.Parse(time.DateOnly, cp.Day)
	if err != nil {
		return loadedCheckpoint{}, fmt.Errorf("checkpoint %s: %w", key, err)
	}
	return loadedCheckpoint{day: day, since: cp.Since, failed: cp.Failed}, nil
}

// scopeMemory returns what the source remembers of sc; at the first poll
// of a process, the failed objects of the checkpoint, due at once.
func (s *BucketSource) scopeMemory(sc Scope, failed []failedObject) *scopeMemory {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.memory[sc]
	if m == nil {
		m = &scopeMemory{failures: map[string]*failure{}, recent: map[string]recentObject{}}
		for _, f := range failed {
			m.failures[f.Key] = &failure{etag: f.ETag, lastModified: f.LastModified, count: max(f.Failures, s.o.MaxFailures)}
		}
		s.memory[sc] = m
	}
	return m
}

// failedObjects are the objects marked failed, oldest first, at most
// maxFailedObjects (the newest).
func (s *BucketSource) failedObjects(mem *scopeMemory) []failedObject {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []failedObject
	for key, f := range mem.failures {
		if !f.gaveUp && f.count >= s.o.MaxFailures {
			out = append(out, failedObject{Key: key, ETag: f.etag, LastModified: f.lastModified, Failures: f.count})
		}
	}
	slices.SortFunc(out, func(a, b failedObject) int {
		if c := a.LastModified.Compare(b.LastModified); c != 0 {
			return c
		}
		if a.Key < b.Key {
			return -1
		}
		return 1
	})
	if len(out) > maxFailedObjects {
		for _, f := range out[:len(out)-maxFailedObjects] {
			delete(mem.failures, f.Key)
		}
		out = out[len(out)-maxFailedObjects:]
	}
	return out
}

// forget drops what the checkpoint now covers: objects last modified
// before cutoff are not listed as candidates again.
func (s *BucketSource) forget(mem *scopeMemory, cutoff time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, r := range mem.recent {
		if r.lastModified.Before(cutoff) {
			delete(mem.recent, k)
		}
	}
	for k, f := range mem.failures {
		if f.gaveUp && f.lastModified.Before(cutoff) {
			delete(mem.failures, k)
		}
	}
}

// list calls fn for each flow-log object under prefix, in key order.
func (s *BucketSource) list(ctx context.Context, prefix string, fn func(Object, flowKey)) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	for {
		out, err := s.s3.ListObjectsV2(ctx, in)
		if err != nil {
			if ctx.Err() == nil {
				s.Report(Problem{Category: LogDownload, Severity: SeverityError, Bucket: s.bucket,
					Detail: "list " + prefix + ": " + errDetail(err)})
			}
			return fmt.Errorf("list s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			k, ok := parseKey(key)
			if !ok {
				continue // a folder marker or a file put there by hand
			}
			fn(Object{Bucket: s.bucket, Key: key, ETag: trimETag(aws.ToString(o.ETag)), Size: aws.ToInt64(o.Size),
				LastModified: aws.ToTime(o.LastModified), Account: k.account, Region: k.region}, k)
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// object deals with one object. A non-nil error stops the scope's poll:
// the bucket refused or Done failed.
func (s *BucketSource) object(ctx context.Context, mem *scopeMemory, obj Object, now time.Time) (outcome, error) {
	done, err := s.h.Done(ctx, obj)
	if err != nil {
		if ctx.Err() != nil {
			return stopped, nil
		}
		s.Report(Problem{Category: LogDownload, Severity: SeverityError, Bucket: s.bucket,
			Detail: "check whether " + obj.Key + " was committed: " + err.Error()})
		return stopped, fmt.Errorf("check %s: %w", obj.Key, err)
	}
	if done {
		s.update(func(st *Status) { st.Skipped++ })
		s.remember(mem, obj)
		s.delete(ctx, obj)
		return handled, nil
	}
	if obj.Size > s.o.MaxObjectSize {
		return s.giveUp(mem, obj, Problem{Category: LogDownload, Severity: SeverityError,
			Detail: fmt.Sprintf("%d bytes, more than the maximum of %d: not read", obj.Size, s.o.MaxObjectSize)}), nil
	}
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key)})
	switch {
	case ctx.Err() != nil:
		return stopped, nil
	case err == nil:
	case awsconn.ErrorCode(err) == "NoSuchKey":
		// Deleted since it was listed: by another reader, or a human.
		s.mu.Lock()
		delete(mem.failures, obj.Key)
		s.mu.Unlock()
		return handled, nil
	case awsconn.IsDenied(err), awsconn.ErrorCode(err) == "NoSuchBucket":
		s.Report(Problem{Category: LogDownload, Severity: SeverityError, Bucket: s.bucket,
			Detail: "get " + obj.Key + ": " + errDetail(err)})
		return stopped, fmt.Errorf("get s3://%s/%s: %w", obj.Bucket, obj.Key, err)
	default:
		return s.fail(mem, obj, now, LogDownload, fmt.Errorf("get: %w", err)), nil
	}
	body, err := readBody(out.Body, aws.ToInt64(out.ContentLength), s.o.MaxObjectSize)
	out.Body.Close()
	switch {
	case ctx.Err() != nil:
		return stopped, nil
	case errors.Is(err, ErrTooBig):
		return s.giveUp(mem, obj, Problem{Category: LogDownload, Severity: SeverityError,
			Detail: fmt.Sprintf("more than the maximum of %d bytes: not read", s.o.MaxObjectSize)}), nil
	case err != nil:
		return s.fail(mem, obj, now, LogDownload, fmt.Errorf("read: %w", err)), nil
	}
	if e := trimETag(aws.ToString(out.ETag)); e != "" {
		obj.ETag = e
	}
	obj.VersionID = aws.ToString(out.VersionId)
	obj.Size = int64(len(body))
	if err := s.h.HandleFlowObject(ctx, obj, body); err != nil {
		if ctx.Err() != nil {
			return stopped, nil
		}
		if p, ok := parseProblem(err); ok {
			return s.giveUp(mem, obj, p), nil
		}
		return s.fail(mem, obj, now, LogDownload, fmt.Errorf("handle: %w", err)), nil
	}
	s.update(func(st *Status) { st.Objects++; st.Bytes += int64(len(body)) })
	s.remember(mem, obj)
	s.delete(ctx, obj)
	return handled, nil
}

// remember notes an object dealt with, so that it is not checked again.
func (s *BucketSource) remember(mem *scopeMemory, obj Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(mem.failures, obj.Key)
	mem.recent[obj.Key] = recentObject{etag: obj.ETag, lastModified: obj.LastModified}
}

// fail counts a failure that retrying may fix; after MaxFailures the
// object is marked failed and tried again every MaxBackoff.
func (s *BucketSource) fail(mem *scopeMemory, obj Object, now time.Time, c Category, err error) outcome {
	s.mu.Lock()
	f := mem.failures[obj.Key]
	if f == nil || f.etag != obj.ETag {
		f = &failure{etag: obj.ETag, lastModified: obj.LastModified}
		mem.failures[obj.Key] = f
	}
	f.count++
	n := f.count
	wait := s.o.MaxBackoff
	if n < s.o.MaxFailures && n < 30 && s.o.Interval<<(n-1) < wait {
		wait = s.o.Interval << (n - 1)
	}
	f.next = now.Add(wait)
	s.mu.Unlock()
	p := Problem{Category: c, Severity: SeverityWarning, Bucket: obj.Bucket, Key: obj.Key,
		Detail: fmt.Sprintf("failed (%d of %d tries), tried again after %s: %v", n, s.o.MaxFailures, wait, errDetail(err))}
	if n >= s.o.MaxFailures {
		p.Severity = SeverityError
		p.Detail = fmt.Sprintf("failed %d times, marked failed, tried again every %s: %v", n, wait, errDetail(err))
		if n == s.o.MaxFailures {
			s.update(func(st *Status) { st.Failed++ })
		}
	}
	s.Report(p)
	return retry
}

// giveUp marks an object failed: it stays in the bucket and is reported.
func (s *BucketSource) giveUp(mem *scopeMemory, obj Object, p Problem) outcome {
	s.mu.Lock()
	f := mem.failures[obj.Key]
	if f == nil || f.etag != obj.ETag {
		f = &failure{etag: obj.ETag, lastModified: obj.LastModified}
		mem.failures[obj.Key] = f
	}
	f.gaveUp = true
	s.mu.Unlock()
	p.Bucket, p.Key = obj.Bucket, obj.Key
	s.Report(p)
	s.update(func(st *Status) { st.Failed++ })
	return gaveUp
}

// delete removes a committed object when deleting is configured. A failed
// delete loses nothing: it is reported.
func (s *BucketSource) delete(ctx context.Context, obj Object) {
	if !s.o.Delete {
		return
	}
	if err := deleteObject(ctx, s.s3, obj); err != nil {
		if ctx.Err() == nil {
			s.Report(Problem{Category: LogDownload, Severity: SeverityWarning, Bucket: obj.Bucket, Key: obj.Key,
				Detail: "delete after commit: " + errDetail(err)})
		}
		return
	}
	s.update(func(st *Status) { st.Deleted++ })
}

// objectDeleter is what deleting an object needs.
type objectDeleter interface {
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// deleteObject deletes the current version of obj: in a versioned bucket
// that leaves a delete marker, so the data stays recoverable.
func deleteObject(ctx context.Context, c objectDeleter, obj Object) error {
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key)})
	return err
}

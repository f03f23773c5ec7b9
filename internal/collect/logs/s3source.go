package logs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/lines"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
	"github.com/skymap/skymap/internal/store"
)

// Bucket is a place AWS delivers logs to (an item of logs.s3).
type Bucket struct {
	Bucket string `json:"bucket"`
	// Prefix is the prefix the logs were configured with: before AWSLogs/
	// for load balancers ("" or "lb-logs"), before the distribution id for
	// CloudFront (it need not end in "/").
	Prefix string `json:"prefix"`
	Kind   Kind   `json:"kind"`
	// Account is the monitored account whose credentials read the
	// bucket; Region is the bucket's (for load balancers, theirs too: AWS
	// delivers their logs only to a bucket of their region).
	Account string `json:"account"`
	Region  string `json:"region"`
}

// URL returns s3://<bucket>/<prefix>.
func (b Bucket) URL() string { return "s3://" + b.Bucket + "/" + b.Prefix }

// S3Location is where the delivered logs of one component are.
type S3Location struct {
	Bucket
	// Stem names the component in its objects' keys: for a load balancer
	// the file name's app.<name>.<id>_ or <name>_ in each day's folder of
	// Owner (the load balancer's account), for a distribution
	// <prefix><id>.
	Stem  string `json:"stem"`
	Owner string `json:"owner,omitempty"`
}

// Defaults of S3Logs.
const (
	DefaultS3Lookback = time.Hour
	// DefaultMaxFetchBytes bounds the text read per location by one
	// time-range answer.
	DefaultMaxFetchBytes = 64 << 20
	defaultMaxObjects    = 200
	// s3Margin: S3's LastModified is when an upload started, and listings
	// may show an object a little after it: objects this much older than
	// the newest listed are still looked at (and known by key).
	s3Margin = 15 * time.Minute
	// maxObjectFailures is how often reading an object may fail (other
	// than for lack of permission) before it is passed over.
	maxObjectFailures = 3
	// maxListPages bounds a listing of common prefixes or objects.
	maxListPages = 10
)

// S3Logs reads the logs AWS delivers to S3 for load balancers and
// CloudFront distributions: every poll, the objects written since the
// last one, of the keys of the last Lookback (by the time in the key), a
// load balancer or distribution at a time; and, on demand, those of a
// time range (Fetcher.Fetch). Each object is mapped to its component by
// its key: the load balancer's ARN, the distribution's id. The events of
// each object go to Sink. It never writes to or deletes from the buckets.
// Safe for concurrent use.
//
// What a poll lists, per bucket: for load balancers the account folders
// under AWSLogs/, each day folder of the lookback in the bucket's region,
// its load balancers (a listing with delimiter "_"), and each one's keys
// from now − Lookback on (StartAfter); for CloudFront the distributions
// under the prefix (delimiter ".") and each one's keys from the hour of
// now − Lookback on. The cursor, in State under
// "logs/s3/<kind>/<bucket>/<prefix>", is the LastModified before which
// every listed object was dealt with, and the keys dealt with since: a
// restart reads nothing twice, and the first poll starts at now −
// Lookback.
type S3Logs struct {
	Buckets []Bucket
	// Client returns the S3 client that reads a bucket.
	Client func(ctx context.Context, b Bucket) (S3API, error)
	// Resolve maps a reference (ARN, identifier) to a component id.
	Resolve func(ref string) (id string, ok bool)
	// State keeps the cursors across restarts.
	State store.State
	// Lookback is how far back, by the time in their keys, objects are
	// read by a poll; 0 means DefaultS3Lookback.
	Lookback time.Duration
	// Sink receives the events read of each object, oldest first, with
	// the component's id: a Tail's Add keeps them with the CloudWatch
	// events, as the component's last ones.
	Sink func(component string, events []Event)
	// Keep is how many of an object's newest lines become events (a Tail
	// keeps 100 per component); 0 means 100.
	Keep int
	// MaxObjects bounds the objects read per bucket in one poll; 0 means
	// 200. The others are read next poll.
	MaxObjects int
	// MaxFetchBytes bounds the text read per location by Fetch; 0 means
	// DefaultMaxFetchBytes.
	MaxFetchBytes int64
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	mu       sync.Mutex
	status   map[string]*S3Status // by cursor key
	failures map[string]int       // by bucket and key
	readers  sync.Pool            // of *lines.Reader
}

// s3Cursor is what State keeps per bucket and prefix.
type s3Cursor struct {
	// Floor: every listed object last modified before it was dealt with.
	Floor time.Time `json:"floor,omitzero"`
	// Seen are the keys dealt with last modified at Floor or after.
	Seen map[string]time.Time `json:"seen,omitempty"`
}

// Run polls every interval until ctx is cancelled, and returns ctx's error.
func (s *S3Logs) Run(ctx context.Context, interval time.Duration) error {
	return every(ctx, interval, s.Poll)
}

// Poll reads every bucket's new objects once. What went wrong is in the
// statuses; a bucket that could not be listed keeps its cursor.
func (s *S3Logs) Poll(ctx context.Context) {
	for _, b := range s.Buckets {
		if ctx.Err() != nil {
			return
		}
		s.pollBucket(ctx, b)
	}
}

// pollBucket reads one bucket's new objects.
func (s *S3Logs) pollBucket(ctx context.Context, b Bucket) {
	now := s.now()
	from := now.Add(-cmp.Or(s.Lookback, DefaultS3Lookback))
	key := cursorKey(b)
	var delta S3Status
	defer func() { s.merge(key, b, delta, now) }()
	api, err := s.Client(ctx, b)
	if err != nil {
		delta.fail(fmt.Sprintf("read %s: %v", b.URL(), err))
		return
	}
	var cur s3Cursor
	if err := loadState(ctx, s.State, key, &cur); err != nil {
		delta.fail(err.Error())
		return
	}
	var listed []*s3Object
	newest := time.Time{}
	err = listRecent(ctx, api, b, from, now, func(o *s3Object) {
		if o.LastModified.After(newest) {
			newest = o.LastModified
		}
		if _, seen := cur.Seen[o.Key]; !seen && !o.LastModified.Before(cur.Floor) {
			listed = append(listed, o)
		}
	})
	if err != nil {
		if ctx.Err() == nil {
			delta.fail(err.Error())
		}
		return
	}
	slices.SortStableFunc(listed, func(a, b *s3Object) int {
		return cmp.Or(a.LastModified.Compare(b.LastModified), strings.Compare(a.Key, b.Key))
	})
	rd := s.reader()
	defer s.readers.Put(rd)
	p := &lineParser{}
	keep := cmp.Or(s.Keep, 100)
	resolved := map[string]string{}
	var done []*s3Object
	pending := time.Time{} // the oldest object left for a later poll
	read := 0
	for _, o := range listed {
		if ctx.Err() != nil || read >= cmp.Or(s.MaxObjects, defaultMaxObjects) {
			pending = earliest(pending, o.LastModified)
			continue
		}
		component, ok := s.component(o.Object, b, resolved)
		if !ok {
			delta.Unmatched++
			done = append(done, o)
			continue
		}
		read++
		k := keeper{n: keep}
		st, err := readObject(ctx, api, b, o, rd, p, 0, func(at time.Time, line string) {
			if k.wants(at) {
				k.add(lineEntry{at: at, line: strings.Clone(line), obj: o})
			}
		})
		delta.count(st)
		switch {
		case err == nil:
			delta.Objects++
			s.forget(b, o)
			done = append(done, o)
			evs := make([]Event, 0, len(k.all))
			for _, e := range k.result() {
				evs = append(evs, p.event(e, b))
			}
			if s.Sink != nil && len(evs) > 0 {
				s.Sink(component, evs)
			}
		case ctx.Err() != nil:
			pending = earliest(pending, o.LastModified)
		case awsconn.ErrorCode(err) == "NoSuchKey":
			done = append(done, o) // deleted since it was listed
		case awsconn.IsDenied(err) || awsconn.ErrorCode(err) == "NoSuchBucket":
			delta.fail(s3Problem("s3:GetObject", "s3://"+b.Bucket+"/"+o.Key, err))
			pending = earliest(pending, o.LastModified)
			read = cmp.Or(s.MaxObjects, defaultMaxObjects) // the others would fail alike
		default:
			if s.failed(b, o) {
				delta.fail(s3Problem("s3:GetObject", "s3://"+b.Bucket+"/"+o.Key, err) + fmt.Sprintf(" (tried %d times, passed over)", maxObjectFailures))
				done = append(done, o)
			} else {
				delta.fail(s3Problem("s3:GetObject", "s3://"+b.Bucket+"/"+o.Key, err) + " (tried again next poll)")
				pending = earliest(pending, o.LastModified)
			}
		}
	}
	if err := saveState(ctx, s.State, key, next(cur, done, newest, pending)); err != nil && ctx.Err() == nil {
		delta.fail(err.Error())
	}
}

// next is the cursor after a poll: its floor moves up to s3Margin before
// the newest object listed, but not past an object left for later; the
// keys dealt with at the floor or after are kept.
func next(cur s3Cursor, done []*s3Object, newest, pending time.Time) s3Cursor {
	floor := cur.Floor
	if !newest.IsZero() {
		f := newest.Add(-s3Margin)
		if !pending.IsZero() && pending.Before(f) {
			f = pending
		}
		if f.After(floor) {
			floor = f
		}
	}
	out := s3Cursor{Floor: floor, Seen: map[string]time.Time{}}
	for k, at := range cur.Seen {
		if !at.Before(floor) {
			out.Seen[k] = at
		}
	}
	for _, o := range done {
		if !o.LastModified.Before(floor) {
			out.Seen[o.Key] = o.LastModified
		}
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// component resolves the component an object's key names, caching by
// resource.
func (s *S3Logs) component(k ObjectKey, b Bucket, cache map[string]string) (string, bool) {
	if id, ok := cache[k.Resource]; ok {
		return id, id != ""
	}
	id := ""
	for _, ref := range resourceRefs(k, b) {
		if c, ok := s.Resolve(ref); ok {
			id = c
			break
		}
	}
	cache[k.Resource] = id
	return id, id != ""
}

// resourceRefs are the references an object key's resource may be known
// by in the map: a load balancer's ARN; a distribution's id, and its ARN
// in the account that reads the bucket.
func resourceRefs(k ObjectKey, b Bucket) []string {
	if k.Kind != KindCloudFront {
		return []string{k.Resource}
	}
	refs := []string{k.Resource}
	if b.Account != "" {
		p := "aws"
		if part, ok := partition.OfRegion(b.Region); ok {
			p = part.ID
		}
		refs = append(refs, "arn:"+p+":cloudfront::"+b.Account+":distribution/"+k.Resource)
	}
	return refs
}

// s3Problem says what failed: the IAM action, where, and why ("not
// authorized to perform s3:GetObject (AccessDenied)" for a denial).
func s3Problem(action, where string, err error) string {
	outcome, detail := awsconn.Classify(err)
	if outcome != model.OutcomeDenied {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			detail = ae.ErrorCode() + ": " + ae.ErrorMessage()
		}
	}
	return action + " on " + where + ": " + detail
}

// failed counts a failure to read an object and tells whether it is the
// last allowed.
func (s *S3Logs) failed(b Bucket, o *s3Object) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures == nil {
		s.failures = map[string]int{}
	}
	k := b.Bucket + "/" + o.Key
	s.failures[k]++
	if s.failures[k] >= maxObjectFailures {
		delete(s.failures, k)
		return true
	}
	return false
}

// forget drops the failures of an object that was read.
func (s *S3Logs) forget(b Bucket, o *s3Object) {
	s.mu.Lock()
	delete(s.failures, b.Bucket+"/"+o.Key)
	s.mu.Unlock()
}

// reader returns a line reader from the pool.
func (s *S3Logs) reader() *lines.Reader {
	if rd, ok := s.readers.Get().(*lines.Reader); ok {
		return rd
	}
	return lines.NewReader(nil, "")
}

// cursorKey is the State key of a bucket's cursor.
func cursorKey(b Bucket) string { return "logs/s3/" + string(b.Kind) + "/" + b.Bucket + "/" + b.Prefix }

func (s *S3Logs) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *S3Logs) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

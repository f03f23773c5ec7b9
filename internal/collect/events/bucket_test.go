package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/store"
)

const (
	bucketAccount = "123456789012"
	bucketRegion  = "eu-west-1"
	bucketPrefix  = "AWSLogs/" + bucketAccount + "/EventBridge/" + bucketRegion + "/"
)

// firehoseKey is the key Firehose gives the object it writes at minute min
// of 2026-11-22 10h.
func firehoseKey(prefix string, min int) string {
	return fmt.Sprintf("%s2026/11/22/10/skymap-events-1-2026-11-22-10-%02d-07-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0.gz", prefix, min)
}

// bucketEvent is an EventBridge event with id.
func bucketEvent(id string) string {
	return strings.Replace(evB, `"id":"b"`, `"id":"`+id+`"`, 1)
}

// firehoseObject is a Firehose object of the events with ids: their JSON
// concatenated and gzipped.
func firehoseObject(t *testing.T, ids ...string) []byte {
	t.Helper()
	var evs []string
	for _, id := range ids {
		evs = append(evs, bucketEvent(id))
	}
	return gz(t, strings.Join(evs, ""))
}

// bucketState is an in-memory store.State.
type bucketState struct {
	mu     sync.Mutex
	m      map[string][]byte
	putErr error
}

func (s *bucketState) GetState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return slices.Clone(v), nil
}

func (s *bucketState) PutState(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.putErr != nil {
		return s.putErr
	}
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = slices.Clone(value)
	return nil
}

var _ store.State = (*bucketState)(nil)

// bucketS3 is moto's S3 with faults: listings of maxKeys keys, bodies that
// break off after cutAfter bytes, deletes answered deleteErr; it counts
// GetBucketVersioning calls.
type bucketS3 struct {
	*s3.Client
	maxKeys    int32
	cutAfter   int64
	deleteErr  error
	versioning int
}

func (c *bucketS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if c.maxKeys > 0 {
		in.MaxKeys = aws.Int32(c.maxKeys)
	}
	return c.Client.ListObjectsV2(ctx, in, opts...)
}

func (c *bucketS3) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := c.Client.GetObject(ctx, in, opts...)
	if err == nil && c.cutAfter > 0 {
		out.Body = brokenBody{io.LimitReader(out.Body, c.cutAfter), out.Body}
	}
	return out, err
}

func (c *bucketS3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	if c.deleteErr != nil {
		return nil, c.deleteErr
	}
	return c.Client.DeleteObject(ctx, in, opts...)
}

func (c *bucketS3) GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, opts ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	c.versioning++
	return c.Client.GetBucketVersioning(ctx, in, opts...)
}

// brokenBody ends in io.ErrUnexpectedEOF, as a connection reset in the
// middle of a body does.
type brokenBody struct {
	r io.Reader
	io.Closer
}

func (b brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// bucketEnv is one test's bucket in moto and what its readers handled.
type bucketEnv struct {
	t      *testing.T
	ctx    context.Context
	c      *s3.Client
	s3     *bucketS3
	bucket string
	state  *bucketState

	mu      sync.Mutex
	handled []string
	failOn  string // Handle fails on the event with this id
}

var errCommit = errors.New("commit failed")

// handle commits a batch of events, or none of it when it holds failOn.
func (e *bucketEnv) handle(_ context.Context, evs ...Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range evs {
		if ev.ID == e.failOn {
			return errCommit
		}
	}
	for _, ev := range evs {
		e.handled = append(e.handled, ev.ID)
	}
	return nil
}

// takeHandled returns the ids handled since the last call.
func (e *bucketEnv) takeHandled() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.handled
	e.handled = nil
	return h
}

func (e *bucketEnv) reader(del bool) *BucketReader {
	return &BucketReader{S3: e.s3, Bucket: e.bucket, Account: bucketAccount, Region: bucketRegion,
		Handle: e.handle, State: e.state, Delete: del}
}

func (e *bucketEnv) put(key string, data []byte) {
	e.t.Helper()
	if _, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key),
		Body: bytes.NewReader(data)}); err != nil {
		e.t.Fatal(err)
	}
}

// keys lists the bucket's keys.
func (e *bucketEnv) keys() []string {
	e.t.Helper()
	out, err := e.c.ListObjectsV2(e.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket)})
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func (e *bucketEnv) cursor() string {
	e.t.Helper()
	return string(e.state.m["events/s3/"+e.bucket+"/"+bucketAccount+"/"+bucketRegion])
}

func (e *bucketEnv) poll(r *BucketReader, want PollReport) {
	e.t.Helper()
	got, err := r.Poll(e.ctx)
	if err != nil {
		e.t.Fatalf("Poll: %v", err)
	}
	if d := cmp.Diff(want, got, cmpBad); d != "" {
		e.t.Errorf("Poll report (-want +got):\n%s", d)
	}
}

// cmpBad compares errors by their text.
var cmpBad = cmp.Comparer(func(a, b error) bool { return fmt.Sprint(a) == fmt.Sprint(b) })

func TestBucketReader(t *testing.T) {
	m := awstest.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "us-east-1", awstest.DefaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	c := awsconn.NewS3(cfg)
	n := 0
	// newEnv makes a bucket, with versioning set to status unless "".
	newEnv := func(t *testing.T, status s3types.BucketVersioningStatus) *bucketEnv {
		n++
		e := &bucketEnv{t: t, ctx: ctx, c: c, s3: &bucketS3{Client: c}, bucket: fmt.Sprintf("stackstate-logs-%d", n),
			state: &bucketState{}}
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
			t.Fatal(err)
		}
		if status != "" {
			if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(e.bucket),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: status}}); err != nil {
				t.Fatal(err)
			}
		}
		return e
	}
	k1, k2, k3, k4 := firehoseKey(bucketPrefix, 1), firehoseKey(bucketPrefix, 2), firehoseKey(bucketPrefix, 3), firehoseKey(bucketPrefix, 4)

	t.Run("reads in key order and deletes", func(t *testing.T) {
		e := newEnv(t, s3types.BucketVersioningStatusEnabled)
		e.s3.maxKeys = 1 // one listing per object
		otherRegion := firehoseKey("AWSLogs/"+bucketAccount+"/EventBridge/us-east-1/", 1)
		otherAccount := firehoseKey("AWSLogs/111111111111/EventBridge/"+bucketRegion+"/", 1)
		e.put(k3, firehoseObject(t, "3a", "3b")) // written out of order: keys decide
		e.put(k1, firehoseObject(t, "1a", "1b"))
		e.put(k2, firehoseObject(t, "2a"))
		e.put(otherRegion, firehoseObject(t, "x"))
		e.put(otherAccount, firehoseObject(t, "y"))
		e.put(bucketPrefix+"2026/", nil) // a folder made in the console
		r := e.reader(true)

		e.poll(r, PollReport{Objects: 3, Events: 5, Deleted: 3})
		if d := cmp.Diff([]string{"1a", "1b", "2a", "3a", "3b"}, e.takeHandled()); d != "" {
			t.Errorf("handled (-want +got):\n%s", d)
		}
		if got := e.cursor(); got != k3 {
			t.Errorf("cursor = %q, want %q", got, k3)
		}
		if d := cmp.Diff([]string{otherAccount, bucketPrefix + "2026/", otherRegion}, e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}
		// Deleted objects stay as versions: nothing is lost for good.
		vs, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(e.bucket), Prefix: aws.String(k1)})
		if err != nil {
			t.Fatal(err)
		}
		if len(vs.Versions) != 1 || len(vs.DeleteMarkers) != 1 {
			t.Errorf("versions of %s: %d versions, %d delete markers; want 1 and 1", k1, len(vs.Versions), len(vs.DeleteMarkers))
		}

		e.poll(r, PollReport{})
		if got := e.takeHandled(); len(got) != 0 {
			t.Errorf("second Poll handled %v", got)
		}
		if e.s3.versioning != 1 {
			t.Errorf("GetBucketVersioning called %d times, want once per reader", e.s3.versioning)
		}
	})

	t.Run("restart resumes after the cursor", func(t *testing.T) {
		e := newEnv(t, s3types.BucketVersioningStatusEnabled)
		e.put(k1, firehoseObject(t, "1a"))
		e.put(k2, firehoseObject(t, "2a"))
		e.poll(e.reader(true), PollReport{Objects: 2, Events: 2, Deleted: 2})
		e.takeHandled()
		e.put(k3, firehoseObject(t, "3a", "3b"))
		e.poll(e.reader(true), PollReport{Objects: 1, Events: 2, Deleted: 1})
		if d := cmp.Diff([]string{"3a", "3b"}, e.takeHandled()); d != "" {
			t.Errorf("handled after restart (-want +got):\n%s", d)
		}
		if got := e.cursor(); got != k3 {
			t.Errorf("cursor = %q, want %q", got, k3)
		}
	})

	t.Run("a failed commit keeps the object and the ones after it", func(t *testing.T) {
		e := newEnv(t, s3types.BucketVersioningStatusEnabled)
		e.put(k1, firehoseObject(t, "1a", "1b"))
		e.put(k2, firehoseObject(t, "2a", "2b"))
		e.put(k3, firehoseObject(t, "3a"))
		e.failOn = "2b"
		r := e.reader(true)
		rep, err := r.Poll(ctx)
		if !errors.Is(err, errCommit) {
			t.Fatalf("Poll error = %v, want %v", err, errCommit)
		}
		// An object's events are committed together: none of k2's was.
		if d := cmp.Diff(PollReport{Objects: 1, Events: 2, Deleted: 1}, rep, cmpBad); d != "" {
			t.Errorf("Poll report (-want +got):\n%s", d)
		}
		if got := e.cursor(); got != k1 {
			t.Errorf("cursor = %q, want %q", got, k1)
		}
		if d := cmp.Diff([]string{k2, k3}, e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}
		// Once commits work again, the object in flight is read again whole.
		e.takeHandled()
		e.failOn = ""
		e.poll(r, PollReport{Objects: 2, Events: 3, Deleted: 2})
		if d := cmp.Diff([]string{"2a", "2b", "3a"}, e.takeHandled()); d != "" {
			t.Errorf("handled on retry (-want +got):\n%s", d)
		}
	})

	t.Run("malformed objects are kept, reported and passed", func(t *testing.T) {
		e := newEnv(t, s3types.BucketVersioningStatusEnabled)
		second := gz(t, bucketEvent("2b")) // a gzip member of its own, cut in half
		truncated := append(gz(t, bucketEvent("2a")), second[:len(second)/2]...)
		invalid := gz(t, bucketEvent("3a")+`{"id":x}`+bucketEvent("3b"))
		e.put(k1, firehoseObject(t, "1a"))
		e.put(k2, truncated)
		e.put(k3, invalid)
		e.put(k4, firehoseObject(t, "4a"))
		r := e.reader(true)
		rep, err := r.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at := len(bucketEvent("2a")) // both bad events are the second
		want := PollReport{Objects: 2, Events: 4, Deleted: 2, Bad: []BadObject{
			{Key: k2, Err: &DecodeError{Index: 1, Offset: int64(at), Err: ErrTruncated}},
			{Key: k3, Err: &DecodeError{Index: 1, Offset: int64(at), Err: errors.New("invalid character 'x' looking for beginning of value")}},
		}}
		if d := cmp.Diff(want, rep, cmpBad); d != "" {
			t.Errorf("Poll report (-want +got):\n%s", d)
		}
		for _, b := range rep.Bad {
			if !strings.Contains(b.Err.Error(), fmt.Sprintf("event 1 at byte %d", at)) {
				t.Errorf("%s: error %q does not name event and byte", b.Key, b.Err)
			}
		}
		if d := cmp.Diff([]string{"1a", "2a", "3a", "4a"}, e.takeHandled()); d != "" {
			t.Errorf("handled (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{k2, k3}, e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}
		if got := e.cursor(); got != k4 {
			t.Errorf("cursor = %q, want %q", got, k4)
		}
		e.poll(r, PollReport{}) // reported once, then left for a human
	})

	t.Run("a body cut off in transit is read again", func(t *testing.T) {
		e := newEnv(t, s3types.BucketVersioningStatusEnabled)
		e.put(k1, gz(t, bucketEvent("1a"), bucketEvent("1b")))
		e.s3.cutAfter = 30
		r := e.reader(true)
		rep, err := r.Poll(ctx)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("Poll error = %v, want %v", err, io.ErrUnexpectedEOF)
		}
		if len(rep.Bad) != 0 || rep.Objects != 0 || rep.Deleted != 0 {
			t.Errorf("Poll report = %+v, want nothing done", rep)
		}
		if got := e.cursor(); got != "" {
			t.Errorf("cursor = %q, want none", got)
		}
		e.takeHandled()
		e.s3.cutAfter = 0
		e.poll(r, PollReport{Objects: 1, Events: 2, Deleted: 1})
	})

	t.Run("a denied delete is reported", func(t *testing.T) {
		e := newEnv(t, s3types.BucketVersioningStatusEnabled)
		e.put(k1, firehoseObject(t, "1a"))
		e.put(k2, firehoseObject(t, "2a"))
		denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
		e.s3.deleteErr = denied
		r := e.reader(true)
		rep, err := r.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Objects != 2 || rep.Events != 2 || rep.Deleted != 0 || len(rep.Problems) != 2 {
			t.Errorf("Poll report = %+v, want 2 objects, 2 events, 0 deleted, 2 problems", rep)
		}
		for _, p := range rep.Problems {
			if !errors.Is(p, denied) {
				t.Errorf("problem %v does not wrap the denial", p)
			}
		}
		if d := cmp.Diff([]string{k1, k2}, e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}
		e.takeHandled()
		e.poll(r, PollReport{})
	})

	t.Run("a cursor that cannot be saved stops before deleting", func(t *testing.T) {
		e := newEnv(t, s3types.BucketVersioningStatusEnabled)
		e.put(k1, firehoseObject(t, "1a"))
		e.put(k2, firehoseObject(t, "2a"))
		errStore := errors.New("disk full")
		e.state.putErr = errStore
		rep, err := e.reader(true).Poll(ctx)
		if !errors.Is(err, errStore) {
			t.Fatalf("Poll error = %v, want %v", err, errStore)
		}
		if rep.Deleted != 0 {
			t.Errorf("deleted %d objects", rep.Deleted)
		}
		if d := cmp.Diff([]string{k1, k2}, e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}
	})

	t.Run("without Delete the cursor alone prevents reading twice", func(t *testing.T) {
		e := newEnv(t, s3types.BucketVersioningStatusEnabled)
		e.put(k1, firehoseObject(t, "1a"))
		e.put(k2, firehoseObject(t, "2a"))
		r := e.reader(false)
		e.poll(r, PollReport{Objects: 2, Events: 2})
		e.poll(r, PollReport{})
		e.put(k3, firehoseObject(t, "3a"))
		e.poll(e.reader(false), PollReport{Objects: 1, Events: 1})
		if d := cmp.Diff([]string{"1a", "2a", "3a"}, e.takeHandled()); d != "" {
			t.Errorf("handled (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{k1, k2, k3}, e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}
	})

	for _, status := range []s3types.BucketVersioningStatus{"", s3types.BucketVersioningStatusSuspended} {
		t.Run(fmt.Sprintf("versioning %q reads nothing", status), func(t *testing.T) {
			e := newEnv(t, status)
			e.put(k1, firehoseObject(t, "1a"))
			rep, err := e.reader(true).Poll(ctx)
			if !errors.Is(err, ErrVersioningDisabled) {
				t.Fatalf("Poll error = %v, want %v", err, ErrVersioningDisabled)
			}
			if d := cmp.Diff(PollReport{}, rep, cmpBad); d != "" {
				t.Errorf("Poll report (-want +got):\n%s", d)
			}
			if got := e.takeHandled(); len(got) != 0 {
				t.Errorf("handled %v", got)
			}
			if d := cmp.Diff([]string{k1}, e.keys()); d != "" {
				t.Errorf("keys left (-want +got):\n%s", d)
			}
			if len(e.state.m) != 0 {
				t.Errorf("state written: %v", slices.Collect(maps.Keys(e.state.m)))
			}
		})
	}

	t.Run("missing bucket", func(t *testing.T) {
		e := &bucketEnv{t: t, ctx: ctx, c: c, s3: &bucketS3{Client: c}, bucket: "stackstate-logs-absent", state: &bucketState{}}
		_, err := e.reader(true).Poll(ctx)
		var ae smithy.APIError
		if !errors.Is(err, ErrNoBucket) || !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket" {
			t.Fatalf("Poll error = %v, want %v wrapping NoSuchBucket", err, ErrNoBucket)
		}
	})
}

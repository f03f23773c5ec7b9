package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/skymap/skymap/internal/store"
)

// BucketAPI is what BucketReader calls of S3.
type BucketAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, opts ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
}

var _ BucketAPI = (*s3.Client)(nil)

// ErrVersioningDisabled reports a log bucket whose versioning is not
// enabled: deleting what was read would lose it for good, so BucketReader
// reads nothing and the caller falls back to CloudTrail.
var ErrVersioningDisabled = errors.New("log bucket versioning is not enabled")

// ErrNoBucket reports a log bucket that does not exist.
var ErrNoBucket = errors.New("log bucket does not exist")

// BucketReader reads the EventBridge events Kinesis Firehose writes into the
// log bucket (by default stackstate-logs-<account>) under
// AWSLogs/<account>/EventBridge/<region>/, as gzip objects of concatenated
// JSON events whose keys sort by time. A cursor in State (the last key read)
// lets a restart go on where the last run stopped: it moves past an object
// only once each of its events was handled, so a restart neither loses nor
// reads again more than the object in flight. The bucket must have
// versioning enabled, so that deleting what was read loses nothing for good.
// An object Firehose writes late under a key before the cursor (a delivery
// retried after a later one succeeded) is not read: the next full scan
// repairs what its events would have changed. The zero value is not usable.
type BucketReader struct {
	S3                      BucketAPI
	Bucket, Account, Region string
	// Handle applies events (Updater.Handle), those of one object at a
	// time (batchEvents at most). An error means they were not committed:
	// the object is kept and read again by the next Poll, so Handle must
	// bear seeing an event twice.
	Handle func(ctx context.Context, evs ...Event) error
	// State keeps the cursor under "events/s3/<bucket>/<account>/<region>".
	State store.State
	// Delete removes each object once handled, as StackState's agent does.
	Delete bool
	Logger *slog.Logger

	versioned bool // versioning was seen enabled
}

// batchEvents is the most events handled at once: an object of a busy
// account holds thousands.
const batchEvents = 500

// PollReport says what one Poll did.
type PollReport struct {
	// Objects were read to the end and every event of theirs handled;
	// Events were handled (those of bad objects before the fault among
	// them); Deleted objects were removed.
	Objects, Events, Deleted int
	// Bad are objects that are not well-formed streams of events: the
	// events before the fault were handled, the object is kept for a human
	// and the cursor moved past it.
	Bad []BadObject
	// Problems are failures that lost nothing, such as a denied delete.
	Problems []error
}

// BadObject is an object kept in the bucket because it could not be read in
// full; Err is a *DecodeError naming the event and byte where it went bad.
type BadObject struct {
	Key string
	Err error
}

// prefix is where Firehose writes the events of the reader's account and
// region.
func (r *BucketReader) prefix() string {
	return "AWSLogs/" + r.Account + "/EventBridge/" + r.Region + "/"
}

// cursorKey is the State key of the reader's cursor.
func (r *BucketReader) cursorKey() string {
	return "events/s3/" + r.Bucket + "/" + r.Account + "/" + r.Region
}

// Poll reads every object after the cursor, oldest key first, and returns
// what it did. It stops at the first event Handle fails (that object is
// kept, and the cursor stays before it) and when the bucket cannot be
// listed, an object cannot be read or the cursor cannot be saved; the
// report then says what was done before. It returns ErrVersioningDisabled,
// without reading, when the bucket's versioning is not enabled, and an error
// wrapping ErrNoBucket when the bucket does not exist. Poll must not be
// called concurrently.
func (r *BucketReader) Poll(ctx context.Context) (PollReport, error) {
	var rep PollReport
	if err := r.checkVersioning(ctx); err != nil {
		return rep, err
	}
	cursor, err := r.State.GetState(ctx, r.cursorKey())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return rep, fmt.Errorf("s3 events: get cursor %s: %w", r.cursorKey(), err)
	}
	after := string(cursor) // where the next listing starts
	for {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(r.Bucket), Prefix: aws.String(r.prefix())}
		if after != "" {
			in.StartAfter = aws.String(after)
		}
		out, err := r.S3.ListObjectsV2(ctx, in)
		if err != nil {
			return rep, r.bucketError("list s3://"+r.Bucket+"/"+r.prefix(), err)
		}
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			if key <= after {
				// S3 lists in ascending order after StartAfter; anything
				// else would be read twice or out of order.
				return rep, fmt.Errorf("s3 events: list s3://%s/%s: key %q listed after %q", r.Bucket, r.prefix(), key, after)
			}
			after = key
			if strings.HasSuffix(key, "/") {
				continue // a folder marker made by hand, no Firehose object
			}
			if err := r.object(ctx, key, &rep); err != nil {
				return rep, err
			}
		}
		if !aws.ToBool(out.IsTruncated) || len(out.Contents) == 0 {
			return rep, nil
		}
	}
}

// object reads one object, handles its events, moves the cursor past it
// and deletes it.
func (r *BucketReader) object(ctx context.Context, key string, rep *PollReport) error {
	out, err := r.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.Bucket), Key: aws.String(key)})
	if err != nil {
		return r.bucketError("get s3://"+r.Bucket+"/"+key, err)
	}
	body := &readRecorder{r: out.Body}
	var (
		batch     []Event
		handleErr error
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := r.Handle(ctx, batch...); err != nil {
			handleErr = err
			return err
		}
		rep.Events += len(batch)
		batch = batch[:0]
		return nil
	}
	_, err = Decode(body, func(e Event) error {
		batch = append(batch, e)
		if len(batch) == batchEvents {
			return flush()
		}
		return nil
	})
	out.Body.Close()
	if handleErr == nil && body.err == nil {
		// The events before a fault are handled all the same.
		flush()
	}
	var decErr *DecodeError
	switch {
	case handleErr != nil:
		return fmt.Errorf("s3 events: handle s3://%s/%s: %w", r.Bucket, key, handleErr)
	case body.err != nil:
		// The body broke off on the way (a reset or a short read), which
		// Decode cannot tell from a truncated object: read it again later.
		return fmt.Errorf("s3 events: read s3://%s/%s: %w", r.Bucket, key, body.err)
	case errors.As(err, &decErr):
		rep.Bad = append(rep.Bad, BadObject{Key: key, Err: err})
	case err != nil:
		return fmt.Errorf("s3 events: read s3://%s/%s: %w", r.Bucket, key, err)
	default:
		rep.Objects++
	}
	if err := r.State.PutState(ctx, r.cursorKey(), []byte(key)); err != nil {
		return fmt.Errorf("s3 events: save cursor %s: %w", key, err)
	}
	if !r.Delete || decErr != nil {
		return nil
	}
	if _, err := r.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(r.Bucket), Key: aws.String(key)}); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("s3 events: delete s3://%s/%s: %w", r.Bucket, key, err)
		}
		// The cursor is past the object already: it stays, nothing is lost.
		rep.Problems = append(rep.Problems, fmt.Errorf("s3 events: delete s3://%s/%s: %w", r.Bucket, key, err))
		return nil
	}
	rep.Deleted++
	return nil
}

// checkVersioning asks whether the bucket keeps versions, until it does:
// versioning enabled later is then seen by the next Poll.
func (r *BucketReader) checkVersioning(ctx context.Context) error {
	if r.versioned {
		return nil
	}
	out, err := r.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(r.Bucket)})
	if err != nil {
		return r.bucketError("get versioning of s3://"+r.Bucket, err)
	}
	if out.Status != s3types.BucketVersioningStatusEnabled {
		status := string(out.Status)
		if status == "" {
			status = "never enabled"
		}
		return fmt.Errorf("s3 events: s3://%s: %w (%s)", r.Bucket, ErrVersioningDisabled, status)
	}
	r.versioned = true
	r.logger().Info("reading EventBridge events from the log bucket", "bucket", r.Bucket,
		"prefix", r.prefix(), "delete", r.Delete)
	return nil
}

// bucketError wraps the S3 error of an action, as ErrNoBucket too when the
// bucket is missing.
func (r *BucketReader) bucketError(action string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket" {
		return fmt.Errorf("s3 events: %s: %w: %w", action, ErrNoBucket, err)
	}
	return fmt.Errorf("s3 events: %s: %w", action, err)
}

func (r *BucketReader) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// readRecorder keeps the first error other than io.EOF its reader returned.
type readRecorder struct {
	r   io.Reader
	err error
}

func (rr *readRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF && rr.err == nil {
		rr.err = err
	}
	return n, err
}

package flowlogs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/model"
)

// Object is one flow-log object in S3, as a source found it.
type Object struct {
	Bucket, Key string
	// ETag is the object's entity tag without the quotes S3 lists it with,
	// so that a listing and a notification (which has none) agree.
	ETag      string
	VersionID string // "" when the bucket is not versioned or it is unknown
	Size      int64
	// LastModified is S3's; zero when a notification did not say.
	LastModified time.Time
	// Account and Region are the flow log's, from the key (ParseKey).
	Account, Region string
}

// Handler is what a source hands flow-log objects to: the flows pipeline
// (parse, attribute, roll up, commit).
type Handler interface {
	// HandleFlowObject processes one object's body and returns nil once
	// everything it produced is committed: the source may then delete the
	// object. An error keeps the object; one wrapping ErrMissingFields,
	// ErrCorrupt or ErrBadFormat says reading it again will not help, and
	// the source reports it under logParse instead of retrying. It may be
	// called concurrently for different objects, and for an object it
	// committed before (after a crash between commit and delete), which it
	// must then accept without counting it twice.
	HandleFlowObject(ctx context.Context, obj Object, body []byte) error
	// Done reports whether obj (Bucket, Key, ETag) was committed already:
	// the source then skips the download, and deletes the object when
	// deleting is configured.
	Done(ctx context.Context, obj Object) (bool, error)
}

// Options tune a source. The zero value of each field means its default.
type Options struct {
	// Interval is the time between polls of BucketSource.Run (default 60
	// s), and the pause of QueueSource.Run after a failed receive.
	Interval time.Duration
	// Delete removes each object from S3 once it was committed (or found
	// Done), as StackState's agent does. Without it the checkpoint alone
	// keeps objects from being handled twice.
	Delete bool
	// MaxObjectSize is the largest object read (default 512 MiB): a bigger
	// one is reported under logDownload, kept, and not read.
	MaxObjectSize int64
	// Concurrency is how many objects are read and handled at once
	// (default 2); memory is bounded by Concurrency × MaxObjectSize.
	Concurrency int
	// Prefix is the user prefix of the flow log's destination, before
	// "AWSLogs/" ("vpc" or "vpc/"); "" for none. BucketSource only.
	Prefix string
	// Lookback is how long after its day ended (UTC, by key date) an object
	// is still found by BucketSource (default 6 h): see BucketSource.
	Lookback time.Duration
	// Backfill is how far back the first poll of a scope looks, by key
	// date, when no checkpoint exists yet (default 24 h). BucketSource only.
	Backfill time.Duration
	// Margin is how much older than the checkpoint's newest LastModified an
	// object may be and still be checked with Done (default 15 min): S3's
	// LastModified is when an upload started, not when the object became
	// visible. BucketSource only.
	Margin time.Duration
	// MaxFailures is how often an object's handling may fail (not counting
	// failures retrying will not fix) before BucketSource gives up on it
	// and marks it failed (default 5). Retries back off from Interval,
	// doubling up to MaxBackoff (default 1 h).
	MaxFailures int
	MaxBackoff  time.Duration
	// Bucket, when set, is the only bucket whose notifications QueueSource
	// follows; the others are ignored and counted.
	Bucket string
	// WaitSeconds is QueueSource's long-polling wait (default 20).
	WaitSeconds int32
	Logger      *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Defaults.
const (
	DefaultInterval      = 60 * time.Second
	DefaultMaxObjectSize = 512 << 20
	DefaultConcurrency   = 2
	DefaultLookback      = 6 * time.Hour
	DefaultBackfill      = 24 * time.Hour
	DefaultMargin        = 15 * time.Minute
	DefaultMaxFailures   = 5
	DefaultMaxBackoff    = time.Hour
	DefaultWaitSeconds   = 20
)

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.Interval, DefaultInterval)
	set(&o.Lookback, DefaultLookback)
	set(&o.Backfill, DefaultBackfill)
	set(&o.Margin, DefaultMargin)
	set(&o.MaxBackoff, DefaultMaxBackoff)
	if o.MaxObjectSize <= 0 {
		o.MaxObjectSize = DefaultMaxObjectSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.WaitSeconds <= 0 {
		o.WaitSeconds = DefaultWaitSeconds
	}
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/" // AWS's destination "bucket/vpc" writes under vpc/AWSLogs/
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// ErrTooBig reports an object larger than Options.MaxObjectSize.
var ErrTooBig = errors.New("object larger than the maximum object size")

// trimETag removes the quotes S3 puts around entity tags.
func trimETag(s string) string { return strings.Trim(s, `"`) }

// readBody reads a body of size bytes (-1 when unknown), at most max.
func readBody(r io.Reader, size, max int64) ([]byte, error) {
	if size > max {
		return nil, ErrTooBig
	}
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, ErrTooBig
	}
	return buf.Bytes(), nil
}

// parseProblem is the logParse problem of a handler error that reading the
// object again will not fix, or false.
func parseProblem(err error) (Problem, bool) {
	if !errors.Is(err, ErrMissingFields) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrBadFormat) {
		return Problem{}, false
	}
	p := Problem{Category: LogParse, Severity: SeverityError, Detail: err.Error()}
	var mf *MissingFieldsError
	if errors.As(err, &mf) {
		p.Fields = mf.Missing
	}
	return p, true
}

// errDetail is err's text for a status; a denial is said as
// "not authorized to perform s3:GetObject (AccessDenied)".
func errDetail(err error) string {
	outcome, detail := awsconn.Classify(err)
	switch {
	case outcome == model.OutcomeDenied:
		return detail
	case awsconn.ErrorCode(err) == "NoSuchBucket":
		return "the bucket does not exist: create the flow log's S3 destination, name it with flowlog_bucket_name, or turn flow logs off with flowlogs.enabled: false"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		// The code and message, without the request ids and the SDK's
		// operation prefix.
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// IAMActions are the IAM actions reading flow logs needs in a monitored
// account: listing, reading and (when configured) deleting the objects,
// the notification queue, and DescribeFlowLogs for the format of objects
// without a header line.
var IAMActions = []string{
	"s3:ListBucket", "s3:GetObject", "s3:DeleteObject",
	"sqs:ReceiveMessage", "sqs:DeleteMessage",
	"ec2:DescribeFlowLogs",
}

// FlowLogID returns the flow log id an object's file name carries, as
// AWS names them (<account>_vpcflowlogs_<region>_<flow log id>_<time>_<hash>.log.gz),
// or "".
func FlowLogID(key string) string {
	name := key[strings.LastIndexByte(key, '/')+1:]
	for _, part := range strings.Split(name, "_") {
		if strings.HasPrefix(part, "fl-") {
			return part
		}
	}
	return ""
}

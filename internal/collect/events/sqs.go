package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// QueueAPI is what QueueReader calls of SQS.
type QueueAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// ObjectAPI is what QueueReader calls of S3 to read the objects that
// notifications point at.
type ObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var (
	_ QueueAPI  = (*sqs.Client)(nil)
	_ ObjectAPI = (*s3.Client)(nil)
)

// QueueReader consumes an SQS queue of change events, as most pipelines
// deliver them: EventBridge events (or bare CloudTrail records) as message
// bodies, possibly wrapped by SNS, or S3 notifications (direct, SNS-wrapped
// or through EventBridge) of the Firehose objects in the log bucket, which
// it reads. A message is deleted only after every event it holds was
// handled; one it cannot read is left for SQS to deliver again and, after
// the queue's maxReceiveCount, to move to its dead-letter queue. Several
// readers may share a queue. The zero value is not usable.
type QueueReader struct {
	SQS      QueueAPI
	QueueURL string
	// S3 reads the objects notifications name; LogBucket, when set, is the
	// only bucket whose notifications are followed.
	S3        ObjectAPI
	LogBucket string
	// Handle applies events (Updater.Handle): those of one batch of
	// messages at once.
	Handle func(ctx context.Context, evs ...Event) error
	// WaitSeconds is the long-polling wait, 20 when 0.
	WaitSeconds int32
	Logger      *slog.Logger
}

// QueueReport says what one Poll did.
type QueueReport struct {
	Messages, Events, Deleted int
	// Bad are messages that could not be read; they are kept.
	Bad []BadMessage
}

// BadMessage is a message left in the queue, and why.
type BadMessage struct {
	ID  string
	Err error
}

// ErrNotFromLogBucket reports a notification of an object in another bucket
// than the log bucket.
var ErrNotFromLogBucket = errors.New("notification of an object outside the log bucket")

// Poll receives one batch of messages (long polling), handles their
// events at once, in order, and deletes the messages once they are
// committed. It fails when the queue cannot be read or the events cannot
// be committed (then every message is kept for redelivery), or when a
// message's object could not be downloaded (that message is kept, the
// others handled).
func (r *QueueReader) Poll(ctx context.Context) (QueueReport, error) {
	var rep QueueReport
	wait := r.WaitSeconds
	if wait == 0 {
		wait = 20
	}
	out, err := r.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(r.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
	})
	if err != nil {
		return rep, fmt.Errorf("receive from %s: %w", r.QueueURL, err)
	}
	var (
		batch   []Event
		done    []sqstypes.DeleteMessageBatchRequestEntry
		readErr error
	)
	for i, m := range out.Messages {
		rep.Messages++
		evs, err := r.message(ctx, m)
		var de *DecodeError
		switch {
		case errors.As(err, &de), errors.Is(err, ErrNotAnEvent), errors.Is(err, ErrNotFromLogBucket), errors.Is(err, errUnreadable):
			// The events before the fault are handled all the same.
			batch = append(batch, evs...)
			rep.Bad = append(rep.Bad, BadMessage{ID: aws.ToString(m.MessageId), Err: err})
			r.logger().Warn("event message kept", "queue", r.QueueURL, "message", aws.ToString(m.MessageId), "err", err)
			continue
		case err != nil:
			// A download that broke off: the message comes back.
			readErr = errors.Join(readErr, err)
			continue
		}
		batch = append(batch, evs...)
		done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(batch) > 0 {
		if err := r.Handle(ctx, batch...); err != nil {
			return rep, err
		}
		rep.Events = len(batch)
	}
	if len(done) > 0 {
		del, err := r.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.QueueURL), Entries: done})
		switch {
		case err != nil:
			// Handled but not deleted: they come back, and handling is idempotent.
			r.logger().Warn("delete event messages", "queue", r.QueueURL, "messages", len(done), "err", err)
		default:
			rep.Deleted = len(del.Successful)
			for _, f := range del.Failed {
				r.logger().Warn("delete event message", "queue", r.QueueURL, "entry", aws.ToString(f.Id),
					"code", aws.ToString(f.Code), "err", aws.ToString(f.Message))
			}
		}
	}
	return rep, readErr
}

// errUnreadable marks a message that cannot be read however often it is
// tried: a body that is no JSON, an object that is gone or forbidden.
var errUnreadable = errors.New("message cannot be read")

// message returns the events of one message, and those before a fault.
func (r *QueueReader) message(ctx context.Context, m sqstypes.Message) ([]Event, error) {
	body := []byte(aws.ToString(m.Body))
	for range 2 { // an SNS envelope at most once
		var probe struct {
			Type    string            `json:"Type"`
			Message string            `json:"Message"`
			Records []json.RawMessage `json:"Records"`
			Event   string            `json:"Event"`
			Detail  struct {
				Bucket struct{ Name string } `json:"bucket"`
				Object struct{ Key string }  `json:"object"`
			} `json:"detail"`
			DetailType string `json:"detail-type"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			return nil, fmt.Errorf("%w: %v", errUnreadable, err)
		}
		switch {
		case probe.Type == "Notification" && probe.Message != "":
			body = []byte(probe.Message)
			continue
		case probe.Event == "s3:TestEvent":
			return nil, nil
		case len(probe.Records) > 0:
			return r.s3Records(ctx, probe.Records)
		case probe.DetailType == "Object Created" && probe.Detail.Object.Key != "" &&
			(r.LogBucket == "" || probe.Detail.Bucket.Name == r.LogBucket):
			return r.object(ctx, probe.Detail.Bucket.Name, probe.Detail.Object.Key)
		}
		e, err := Parse(body)
		if err != nil {
			return nil, err
		}
		return []Event{e}, nil
	}
	return nil, fmt.Errorf("%w: SNS envelope in an SNS envelope", ErrNotAnEvent)
}

// s3Records reads the objects of an S3 event notification's records.
func (r *QueueReader) s3Records(ctx context.Context, records []json.RawMessage) ([]Event, error) {
	var total []Event
	for _, raw := range records {
		var rec struct {
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
			S3          struct {
				Bucket struct{ Name string } `json:"bucket"`
				Object struct{ Key string }  `json:"object"`
			} `json:"s3"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil || rec.EventSource != "aws:s3" {
			return total, fmt.Errorf("%w: a record that is no S3 notification", ErrNotAnEvent)
		}
		// Keys in notifications are URL-encoded, spaces as '+'.
		key, err := url.QueryUnescape(rec.S3.Object.Key)
		if err != nil {
			return total, fmt.Errorf("%w: object key %q: %v", ErrNotAnEvent, rec.S3.Object.Key, err)
		}
		evs, err := r.object(ctx, rec.S3.Bucket.Name, key)
		total = append(total, evs...)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// object reads the events of one Firehose object.
func (r *QueueReader) object(ctx context.Context, bucket, key string) ([]Event, error) {
	if r.LogBucket != "" && bucket != r.LogBucket {
		return nil, fmt.Errorf("%w: s3://%s/%s", ErrNotFromLogBucket, bucket, key)
	}
	if r.S3 == nil {
		return nil, fmt.Errorf("read s3://%s/%s: no S3 client", bucket, key)
	}
	out, err := r.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "NoSuchBucket") {
		// A lasting state, not a hiccup: the message is kept and reported
		// (and ends in the queue's dead-letter queue), the others go on.
		return nil, fmt.Errorf("%w: read s3://%s/%s: %v", errUnreadable, bucket, key, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	body := &readRecorder{r: out.Body}
	var evs []Event
	_, err = Decode(body, func(e Event) error { evs = append(evs, e); return nil })
	if body.err != nil {
		// The download failed, not the object: try the message again.
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, body.err)
	}
	if err != nil {
		return evs, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return evs, nil
}

func (r *QueueReader) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

package flowlogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awsconn"
)

// QueueAPI is what QueueSource calls of SQS.
type QueueAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// ObjectAPI is what QueueSource calls of S3.
type ObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var (
	_ QueueAPI  = (*sqs.Client)(nil)
	_ ObjectAPI = (*s3.Client)(nil)
)

// QueueSource reads flow-log objects as S3 announces them through an SQS
// queue: S3 event notifications sent to the queue directly or through SNS
// (keys URL-encoded, spaces as '+'), and EventBridge "Object Created"
// events (keys as they are); s3:TestEvent messages are dropped. Objects
// whose keys are no flow logs (ParseKey), or of another bucket than
// Options.Bucket when set, are ignored and counted. A message is deleted
// (DeleteMessageBatch) only once every flow-log object it names was
// committed (or found Done); one whose object failed, or that cannot be
// read, is left for SQS to deliver again after its visibility timeout
// and, past the queue's maxReceiveCount, to move to its dead-letter
// queue. With Options.Delete objects are deleted from S3 once committed.
// Several sources may share a queue. The S3 client must reach the
// buckets' region. The zero value is not usable: use NewQueueSource.
type QueueSource struct {
	book
	sqs      QueueAPI
	queueURL string
	s3       ObjectAPI
	h        Handler
	o        Options
}

// NewQueueSource returns a source reading the queue at queueURL through q,
// and the objects its messages name through c.
func NewQueueSource(q QueueAPI, queueURL string, c ObjectAPI, h Handler, o Options) *QueueSource {
	o = o.withDefaults()
	return &QueueSource{book: newBook(queueURL, o), sqs: q, queueURL: queueURL, s3: c, h: h, o: o}
}

// Run long-polls the queue until ctx is cancelled, then returns ctx.Err().
// After a receive that failed it waits Interval. What goes wrong is in
// Status.
func (q *QueueSource) Run(ctx context.Context) error {
	for {
		err := q.Poll(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errReceive) {
			t := time.NewTimer(q.o.Interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// errReceive marks a Poll that could not receive.
var errReceive = errors.New("receive")

// Poll receives one batch of messages (long polling), handles the objects
// they name (Concurrency messages at a time) and deletes the messages
// whose objects were all committed. It returns an error when the queue
// could not be read, or messages could not be deleted; messages kept for
// redelivery are in Status, not errors.
func (q *QueueSource) Poll(ctx context.Context) error {
	out, err := q.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: q.o.WaitSeconds,
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		detail := "receive: " + errDetail(err)
		switch awsconn.ErrorCode(err) {
		case "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist":
			detail = "queue does not exist: " + err.Error()
		}
		q.Report(Problem{Category: Subscribe, Severity: SeverityError, Detail: detail})
		q.polled(false)
		return fmt.Errorf("flow logs %s: %w: %w", q.queueURL, errReceive, err)
	}
	q.resolve(Subscribe, "")
	q.update(func(st *Status) { st.Messages += int64(len(out.Messages)) })
	ok := make([]bool, len(out.Messages))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(q.o.Concurrency)
	for i, m := range out.Messages {
		g.Go(func() error {
			ok[i] = q.message(gctx, m)
			return nil
		})
	}
	g.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if ok[i] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	err = q.deleteMessages(ctx, entries)
	q.polled(true)
	return err
}

// deleteMessages deletes handled messages; one not deleted comes back and
// its objects are found Done.
func (q *QueueSource) deleteMessages(ctx context.Context, entries []sqstypes.DeleteMessageBatchRequestEntry) error {
	if len(entries) == 0 {
		return nil
	}
	out, err := q.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.queueURL), Entries: entries})
	if err != nil {
		if ctx.Err() == nil {
			q.Report(Problem{Category: Subscribe, Severity: SeverityWarning,
				Detail: "delete handled messages (they come back and are skipped): " + errDetail(err)})
		}
		return fmt.Errorf("flow logs %s: delete messages: %w", q.queueURL, err)
	}
	q.update(func(st *Status) { st.MessagesDeleted += int64(len(out.Successful)) })
	if len(out.Failed) > 0 {
		f := out.Failed[0]
		q.Report(Problem{Category: Subscribe, Severity: SeverityWarning, Count: int64(len(out.Failed)),
			Detail: fmt.Sprintf("delete handled messages (they come back and are skipped): %s: %s",
				aws.ToString(f.Code), aws.ToString(f.Message))})
	}
	return nil
}

// objectRef is an object a notification names.
type objectRef struct {
	bucket, key, etag, versionID string
	size                         int64
	// encoded: the key is URL-encoded (S3 event notifications).
	encoded bool
}

// message handles the objects of one message and tells whether it may be
// deleted.
func (q *QueueSource) message(ctx context.Context, m sqstypes.Message) bool {
	refs, err := notifications([]byte(aws.ToString(m.Body)))
	if err != nil {
		q.Report(Problem{Category: Subscribe, Severity: SeverityWarning, Key: "message " + aws.ToString(m.MessageId),
			Detail: "kept for redelivery: " + err.Error()})
		return false
	}
	all := true
	for _, r := range refs {
		if !q.object(ctx, r) {
			all = false
		}
	}
	return all
}

// object handles one object a notification names and tells whether its
// message may be deleted for it.
func (q *QueueSource) object(ctx context.Context, r objectRef) bool {
	key := r.key
	if r.encoded {
		k, err := url.QueryUnescape(key)
		if err != nil {
			q.update(func(st *Status) { st.Ignored++ })
			return true // names no object skymap could read
		}
		key = k
	}
	k, ok := parseKey(key)
	if !ok || (q.o.Bucket != "" && r.bucket != q.o.Bucket) {
		q.update(func(st *Status) { st.Ignored++ })
		return true
	}
	obj := Object{Bucket: r.bucket, Key: key, ETag: trimETag(r.etag), VersionID: r.versionID, Size: r.size,
		Account: k.account, Region: k.region}
	report := func(c Category, sev Severity, detail string) {
		q.Report(Problem{Category: c, Severity: sev, Bucket: obj.Bucket, Key: obj.Key, Detail: detail})
	}
	if obj.ETag != "" {
		done, err := q.h.Done(ctx, obj)
		if err != nil {
			if ctx.Err() == nil {
				report(LogDownload, SeverityWarning, "check whether committed (message kept for redelivery): "+err.Error())
			}
			return false
		}
		if done {
			q.update(func(st *Status) { st.Skipped++ })
			q.delete(ctx, obj)
			return true
		}
	}
	if obj.Size > q.o.MaxObjectSize {
		report(LogDownload, SeverityError, fmt.Sprintf("%d bytes, more than the maximum of %d: not read", obj.Size, q.o.MaxObjectSize))
		return false
	}
	in := &s3.GetObjectInput{Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key)}
	if obj.VersionID != "" {
		in.VersionId = aws.String(obj.VersionID)
	}
	out, err := q.s3.GetObject(ctx, in)
	if err != nil {
		if ctx.Err() == nil {
			report(LogDownload, SeverityError, "get: "+errDetail(err))
		}
		return false
	}
	body, err := readBody(out.Body, aws.ToInt64(out.ContentLength), q.o.MaxObjectSize)
	out.Body.Close()
	if err != nil {
		if ctx.Err() == nil {
			report(LogDownload, SeverityError, "read: "+err.Error())
		}
		return false
	}
	if e := trimETag(aws.ToString(out.ETag)); e != "" {
		obj.ETag = e
	}
	obj.VersionID = aws.ToString(out.VersionId)
	obj.Size = int64(len(body))
	if err := q.h.HandleFlowObject(ctx, obj, body); err != nil {
		if ctx.Err() != nil {
			return false
		}
		if p, ok := parseProblem(err); ok {
			p.Bucket, p.Key = obj.Bucket, obj.Key
			q.Report(p)
		} else {
			report(LogDownload, SeverityWarning, "handle (message kept for redelivery): "+err.Error())
		}
		return false
	}
	q.update(func(st *Status) { st.Objects++; st.Bytes += int64(len(body)) })
	q.delete(ctx, obj)
	return true
}

// delete removes a committed object when deleting is configured.
func (q *QueueSource) delete(ctx context.Context, obj Object) {
	if !q.o.Delete {
		return
	}
	if err := deleteObject(ctx, q.s3, obj); err != nil {
		if ctx.Err() == nil {
			q.Report(Problem{Category: LogDownload, Severity: SeverityWarning, Bucket: obj.Bucket, Key: obj.Key,
				Detail: "delete after commit: " + errDetail(err)})
		}
		return
	}
	q.update(func(st *Status) { st.Deleted++ })
}

// errNotNotification reports a message that is no S3 notification.
var errNotNotification = errors.New("not an S3 notification")

// notifications returns the objects a message names: an S3 event
// notification (possibly in an SNS envelope) or an EventBridge event. A
// test event names none.
func notifications(body []byte) ([]objectRef, error) {
	for range 2 { // an SNS envelope at most once
		var probe struct {
			Type    string `json:"Type"`
			Message string `json:"Message"`
			Event   string `json:"Event"`
			Records []struct {
				EventSource string `json:"eventSource"`
				EventName   string `json:"eventName"`
				S3          struct {
					Bucket struct {
						Name string `json:"name"`
					} `json:"bucket"`
					Object struct {
						Key       string `json:"key"`
						Size      int64  `json:"size"`
						ETag      string `json:"eTag"`
						VersionID string `json:"versionId"`
					} `json:"object"`
				} `json:"s3"`
			} `json:"Records"`
			DetailType string `json:"detail-type"`
			Source     string `json:"source"`
			Detail     struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key       string `json:"key"`
					Size      int64  `json:"size"`
					ETag      string `json:"etag"`
					VersionID string `json:"version-id"`
				} `json:"object"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			return nil, fmt.Errorf("%w: %v", errNotNotification, err)
		}
		switch {
		case probe.Type == "Notification" && probe.Message != "":
			body = []byte(probe.Message)
			continue
		case probe.Event == "s3:TestEvent":
			return nil, nil
		case len(probe.Records) > 0:
			var refs []objectRef
			for _, r := range probe.Records {
				if r.EventSource != "aws:s3" || r.S3.Object.Key == "" {
					return nil, fmt.Errorf("%w: a record of %q", errNotNotification, r.EventSource)
				}
				if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
					continue // a removal, restore...: nothing to read
				}
				o := r.S3.Object
				refs = append(refs, objectRef{bucket: r.S3.Bucket.Name, key: o.Key, etag: o.ETag, versionID: o.VersionID,
					size: o.Size, encoded: true})
			}
			return refs, nil
		case probe.Source == "aws.s3" && probe.DetailType == "Object Created" && probe.Detail.Object.Key != "":
			o := probe.Detail.Object
			return []objectRef{{bucket: probe.Detail.Bucket.Name, key: o.Key, etag: o.ETag, versionID: o.VersionID,
				size: o.Size}}, nil
		case probe.Source == "aws.s3":
			return nil, nil // another S3 event: nothing to read
		}
		return nil, errNotNotification
	}
	return nil, fmt.Errorf("%w: SNS envelope in an SNS envelope", errNotNotification)
}

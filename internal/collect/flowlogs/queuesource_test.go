package flowlogs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/awstest"
)

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// s3Notification is an S3 event notification of key, URL-encoded as S3
// does.
func s3Notification(bucket, key, etag string) string {
	return `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-11-23T01:06:00.000Z",` +
		`"eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"` + bucket + `","arn":"arn:aws:s3:::` + bucket + `"},` +
		`"object":{"key":"` + url.QueryEscape(key) + `","size":100,"eTag":"` + etag + `","sequencer":"0A1B2C3D4E5F678901"}}}]}`
}

func snsWrapped(msg string) string {
	return `{"Type":"Notification","MessageId":"1c2d3e4f","TopicArn":"arn:aws:sns:us-east-1:123456789012:flowlogs",` +
		`"Subject":"Amazon S3 Notification","Message":` + jsonString(msg) + `,"Timestamp":"2026-11-23T01:06:01.000Z","SignatureVersion":"1"}`
}

func eventBridgeObjectCreated(bucket, key, etag string) string {
	return `{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3",` +
		`"account":"123456789012","time":"2026-11-23T01:06:00Z","region":"us-east-1","resources":["arn:aws:s3:::` + bucket + `"],` +
		`"detail":{"version":"0","bucket":{"name":"` + bucket + `"},"object":{"key":"` + key + `","size":100,"etag":"` + etag + `",` +
		`"sequencer":"00617F08299329D189"},"request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","reason":"PutObject"}}`
}

func TestNotifications(t *testing.T) {
	const key = "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/flow log+1.log.gz"
	direct := s3Notification("b", key, "e1")
	for _, c := range []struct {
		name string
		body string
		want []objectRef
		err  bool
	}{
		{"direct", direct, []objectRef{{bucket: "b", key: url.QueryEscape(key), etag: "e1", size: 100, encoded: true}}, false},
		{"sns", snsWrapped(direct), []objectRef{{bucket: "b", key: url.QueryEscape(key), etag: "e1", size: 100, encoded: true}}, false},
		{"eventbridge", eventBridgeObjectCreated("b", key, "e1"), []objectRef{{bucket: "b", key: key, etag: "e1", size: 100}}, false},
		{"test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-23T01:06:00.000Z","Bucket":"b"}`, nil, false},
		{"removal", strings.Replace(direct, "ObjectCreated:Put", "ObjectRemoved:Delete", 1), nil, false},
		{"eventbridge deletion", strings.Replace(eventBridgeObjectCreated("b", key, "e1"), "Object Created", "Object Deleted", 1), nil, false},
		{"sns in sns", snsWrapped(snsWrapped(direct)), nil, true},
		{"not json", "hello", nil, true},
		{"another service", `{"Records":[{"eventSource":"aws:dynamodb"}]}`, nil, true},
		{"an EventBridge event of another source", `{"detail-type":"Object Created","source":"aws.ec2","detail":{}}`, nil, true},
	} {
		got, err := notifications([]byte(c.body))
		if (err != nil) != c.err || (err != nil && !errors.Is(err, errNotNotification)) {
			t.Errorf("%s: error %v, want error %t", c.name, err, c.err)
		}
		if d := cmp.Diff(c.want, got, cmp.AllowUnexported(objectRef{})); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, d)
		}
	}
}

// TestQueueSourceAgainstMoto sends every kind of notification to a moto
// queue and checks which objects are handled and which messages deleted.
func TestQueueSourceAgainstMoto(t *testing.T) {
	m := awstest.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "us-east-1", awstest.DefaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	s3c, q := awsconn.NewS3(cfg), sqs.NewFromConfig(cfg)
	const bucket = "stackstate-flowlogs-123456789012"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); awstest.RetriedCreate(err) != nil {
		t.Fatal(err)
	}
	var (
		k1    = plainKey(acct1, region1, "2026/11/22", "flow log 1.log.gz") // spaces: '+' in notifications
		k2    = hiveKey(acct2, region2, "year=2026/month=11/day=23", "f2.log.gz")
		k3    = plainKey(acct1, region1, "2026/11/23/01", "f3.log.gz")
		kFail = plainKey(acct1, region1, "2026/11/23/01", "fail.log.gz")
		etags = map[string]string{}
	)
	for _, k := range []string{k1, k2, k3, kFail} {
		out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k),
			Body: bytes.NewReader(flowObject(t, k[strings.LastIndex(k, "/")+1:]))})
		if err != nil {
			t.Fatal(err)
		}
		etags[k] = trimETag(aws.ToString(out.ETag)) // notifications have it without quotes
	}
	qu, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("flowlogs"),
		Attributes: map[string]string{"VisibilityTimeout": "1"}})
	if awstest.RetriedCreate(err) != nil {
		t.Fatal(err)
	}
	send := func(bodies ...string) {
		t.Helper()
		for _, b := range bodies {
			if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qu.QueueUrl, MessageBody: aws.String(b)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(
		s3Notification(bucket, k1, etags[k1]),
		snsWrapped(s3Notification(bucket, k2, etags[k2])),
		eventBridgeObjectCreated(bucket, k3, etags[k3]),
		`{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"`+bucket+`"}`,
		s3Notification(bucket, "AWSLogs/123456789012/EventBridge/eu-west-1/2026/11/23/01/events.gz", "e"), // no flow log
		s3Notification("another-bucket", k1, etags[k1]),
		"hello",
		s3Notification(bucket, kFail, etags[kFail]),
	)
	h := newFakeHandler()
	h.fail[kFail] = errCommit
	src := NewQueueSource(q, aws.ToString(qu.QueueUrl), s3c, h, Options{Bucket: bucket, WaitSeconds: 1})
	// pollUntil polls until n messages were received.
	pollUntil := func(n int64) {
		t.Helper()
		for range 10 {
			if err := src.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if src.Status().Messages >= n {
				return
			}
		}
		t.Fatalf("received %d messages, want %d", src.Status().Messages, n)
	}
	pollUntil(8)
	handled, _ := h.take()
	if d := cmp.Diff(sorted(k1, k2, k3), sorted(handled...)); d != "" {
		t.Errorf("handled (-want +got):\n%s", d)
	}
	st := src.Status()
	if st.Objects != 3 || st.MessagesDeleted != 6 || st.Ignored != 2 || st.Skipped != 0 || st.Source != aws.ToString(qu.QueueUrl) {
		t.Errorf("status %+v; want 3 objects, 6 messages deleted, 2 ignored", st)
	}
	if p, ok := problem(st, LogDownload, kFail); !ok || p.Bucket != bucket || !strings.Contains(p.Detail, "commit failed") {
		t.Errorf("failed object: problem %+v, %t", p, ok)
	}
	var unreadable []Problem
	for _, p := range st.Problems {
		if p.Category == Subscribe && strings.HasPrefix(p.Key, "message ") && strings.Contains(p.Detail, "kept") {
			unreadable = append(unreadable, p)
		}
	}
	if len(unreadable) != 1 {
		t.Errorf("unreadable message: problems %+v", st.Problems)
	}
	for _, o := range h.objects {
		if o.ETag != etags[o.Key] || o.Bucket != bucket || o.Account == "" || o.Region == "" {
			t.Errorf("object %+v", o)
		}
	}
	if got := queueDepth(t, ctx, q, qu.QueueUrl); got != 2 {
		t.Errorf("%d messages in the queue, want the 2 kept", got)
	}

	// Once the handler commits again, the kept message comes back (after
	// the visibility timeout) and is deleted; a repeated notification of
	// a committed object is skipped and deleted.
	delete(h.fail, kFail)
	send(s3Notification(bucket, k1, etags[k1]))
	time.Sleep(1500 * time.Millisecond)
	pollUntil(11)
	if handled, _ := h.take(); !slices.Equal(handled, []string{kFail}) {
		t.Errorf("handled on redelivery %v, want %v", handled, kFail)
	}
	st = src.Status()
	if st.Skipped != 1 || st.MessagesDeleted != 8 {
		t.Errorf("status %+v; want 1 skipped, 8 messages deleted", st)
	}
	if got := queueDepth(t, ctx, q, qu.QueueUrl); got != 1 {
		t.Errorf("%d messages in the queue, want the unreadable one", got)
	}
	// Receiving again does not clear the unreadable message's problem.
	for _, p := range st.Problems {
		if p.Category == Subscribe && p.Key == unreadable[0].Key && p.Count == 2 {
			unreadable = nil
		}
	}
	if unreadable != nil {
		t.Errorf("unreadable message redelivered: problems %+v", st.Problems)
	}

	// A queue that does not exist is a subscribe problem.
	missing := NewQueueSource(q, strings.Replace(aws.ToString(qu.QueueUrl), "flowlogs", "absent", 1), s3c, h, Options{WaitSeconds: 1})
	if err := missing.Poll(ctx); !errors.Is(err, errReceive) {
		t.Errorf("Poll of a missing queue: %v", err)
	}
	if p, ok := problem(missing.Status(), Subscribe, ""); !ok || p.Severity != SeverityError || !strings.Contains(p.Detail, "does not exist") {
		t.Errorf("missing queue: problem %+v, %t", p, ok)
	}
}

// queueDepth is how many messages the queue holds, visible or not.
func queueDepth(t *testing.T, ctx context.Context, q *sqs.Client, u *string) int {
	t.Helper()
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range attrs.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}
	return n
}

// deniedQueue answers every receive with AccessDenied.
type deniedQueue struct{ QueueAPI }

func (deniedQueue) ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return nil, &smithy.OperationError{ServiceID: "SQS", OperationName: "ReceiveMessage",
		Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"}}
}

func TestQueueSourceReceiveDenied(t *testing.T) {
	src := NewQueueSource(deniedQueue{}, "https://sqs.eu-west-1.amazonaws.com/123456789012/flowlogs", nil, newFakeHandler(), Options{})
	if err := src.Poll(context.Background()); !errors.Is(err, errReceive) {
		t.Fatalf("Poll: %v", err)
	}
	st := src.Status()
	p, ok := problem(st, Subscribe, "")
	if !ok || p.Severity != SeverityError || !strings.Contains(p.Detail, "not authorized to perform sqs:ReceiveMessage") ||
		!st.LastSuccess.IsZero() || st.LastPoll.IsZero() {
		t.Errorf("status %+v", st)
	}
}

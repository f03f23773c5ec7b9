package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/awstest"
)

// TestQueueReaderAgainstMoto sends every kind of message a pipeline
// delivers to a moto queue and checks which events are handled and which
// messages are deleted or kept.
func TestQueueReaderAgainstMoto(t *testing.T) {
	m := awstest.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", awstest.DefaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	s3c, q := awsconn.NewS3(cfg), sqs.NewFromConfig(cfg)
	const bucket, key = "stackstate-logs-123456789012", "AWSLogs/123456789012/EventBridge/eu-west-1/2026/11/22/10/stream 1.gz"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(gz(t, evA, evB))}); err != nil {
		t.Fatal(err)
	}
	qu, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	notification := `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventName":"ObjectCreated:Put",` +
		`"s3":{"bucket":{"name":"` + bucket + `"},"object":{"key":"` + url.QueryEscape(key) + `","size":1}}}]}`
	snsWrapped := `{"Type":"Notification","MessageId":"n1","TopicArn":"arn:aws:sns:eu-west-1:123456789012:t","Message":` +
		jsonString(notification) + `}`
	elsewhere := `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"other"},"object":{"key":"x.gz"}}}]}`
	gone := `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"` + bucket + `"},"object":{"key":"gone.gz"}}}]}`
	bodies := map[string]string{
		"event":        evA,
		"notification": notification,
		"sns-wrapped":  snsWrapped,
		"test-event":   `{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"` + bucket + `"}`,
		"garbage":      "hello",
		"elsewhere":    elsewhere,
		"gone":         gone,
	}
	for _, b := range bodies {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qu.QueueUrl, MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu      sync.Mutex
		handled []string
	)
	r := &QueueReader{SQS: q, QueueURL: aws.ToString(qu.QueueUrl), S3: s3c, LogBucket: bucket, WaitSeconds: 1,
		Handle: func(_ context.Context, evs ...Event) error {
			mu.Lock()
			for _, e := range evs {
				handled = append(handled, e.ID)
			}
			mu.Unlock()
			return nil
		}}
	var total QueueReport
	for range 3 {
		rep, err := r.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total.Messages += rep.Messages
		total.Events += rep.Events
		total.Deleted += rep.Deleted
		total.Bad = append(total.Bad, rep.Bad...)
		if total.Messages >= len(bodies) {
			break
		}
	}
	slices.Sort(handled)
	// The direct event once, the object's two events for each of the two notifications.
	if d := cmp.Diff([]string{"a", "a", "a", "b", "b"}, handled); d != "" {
		t.Errorf("events handled (-want +got):\n%s", d)
	}
	if total.Deleted != 4 || len(total.Bad) != 3 {
		t.Errorf("deleted %d, kept %d (%v); want 4 deleted (event, notification, SNS-wrapped, test event) and 3 kept",
			total.Deleted, len(total.Bad), total.Bad)
	}
	for _, b := range total.Bad {
		if !errors.Is(b.Err, errUnreadable) && !errors.Is(b.Err, ErrNotFromLogBucket) {
			t.Errorf("kept message %s: %v", b.ID, b.Err)
		}
	}
}

// TestQueueReaderKeepsMessageWhenCommitFails checks that a message whose
// events could not be committed is not deleted and the poll says why.
func TestQueueReaderKeepsMessageWhenCommitFails(t *testing.T) {
	fq := &fakeQueue{bodies: []string{evA}}
	stored := errors.New("disk full")
	r := &QueueReader{SQS: fq, QueueURL: "q", Handle: func(context.Context, ...Event) error { return stored }}
	if _, err := r.Poll(context.Background()); !errors.Is(err, stored) {
		t.Errorf("Poll = %v, want the commit's error", err)
	}
	if fq.deleted != 0 {
		t.Errorf("%d messages deleted after a failed commit", fq.deleted)
	}
}

type fakeQueue struct {
	bodies  []string
	deleted int
}

func (f *fakeQueue) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out := &sqs.ReceiveMessageOutput{}
	for i, b := range f.bodies {
		out.Messages = append(out.Messages, sqstypes.Message{Body: aws.String(b), MessageId: aws.String("m" + string(rune('0'+i))),
			ReceiptHandle: aws.String("h")})
	}
	return out, nil
}

func (f *fakeQueue) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		f.deleted++
		out.Successful = append(out.Successful, sqstypes.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestQueueReaderHandlesABatchAtOnce checks that the events of one receive
// are committed together, the unreadable message kept and the others
// deleted in one call.
func TestQueueReaderHandlesABatchAtOnce(t *testing.T) {
	fq := &fakeQueue{bodies: []string{evA, "not json", evB}}
	var calls [][]string
	r := &QueueReader{SQS: fq, QueueURL: "q", Handle: func(_ context.Context, evs ...Event) error {
		var ids []string
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
		calls = append(calls, ids)
		return nil
	}}
	rep, err := r.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([][]string{{"a", "b"}}, calls); d != "" {
		t.Errorf("Handle calls (-want +got):\n%s", d)
	}
	if rep.Messages != 3 || rep.Events != 2 || rep.Deleted != 2 || len(rep.Bad) != 1 || rep.Bad[0].ID != "m1" {
		t.Errorf("report %+v, want 3 messages, 2 events, 2 deleted and m1 kept", rep)
	}
}

// TestReadersShareAQueue runs two readers on one moto queue, as two skymaps
// would: every event is handled (at least once) and every message deleted.
func TestReadersShareAQueue(t *testing.T) {
	m := awstest.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", awstest.DefaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	qu, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	for i := range n {
		body := strings.Replace(evB, `"id":"b"`, fmt.Sprintf(`"id":"e%d"`, i), 1)
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qu.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu      sync.Mutex
		handled = map[string]int{}
		deleted int
	)
	read := func() error {
		r := &QueueReader{SQS: q, QueueURL: aws.ToString(qu.QueueUrl), WaitSeconds: 1,
			Handle: func(_ context.Context, evs ...Event) error {
				mu.Lock()
				defer mu.Unlock()
				for _, e := range evs {
					handled[e.ID]++
				}
				return nil
			}}
		for {
			rep, err := r.Poll(ctx)
			if err != nil {
				return err
			}
			mu.Lock()
			deleted += rep.Deleted
			mu.Unlock()
			if rep.Messages == 0 {
				return nil
			}
		}
	}
	var g errgroup.Group
	g.Go(read)
	g.Go(read)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	// SQS delivers at least once: a message may come to both readers, and
	// both may delete it.
	if len(handled) != n || deleted < n {
		t.Errorf("%d distinct events handled, %d messages deleted; want %d and at least %d", len(handled), deleted, n, n)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qu.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range attrs.Attributes {
		if v != "0" {
			t.Errorf("the shared queue still holds messages: %s = %s", k, v)
		}
	}
}

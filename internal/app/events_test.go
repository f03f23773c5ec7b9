package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/model"
)

// TestServeFollowsEvents is the pipeline the seeds describe, against moto:
// after the first scan a queue is deleted in AWS, and the EventBridge event
// of that call arrives as a Firehose object in the account's log bucket.
// skymap serve reads it, refreshes the queues, removes the queue with the
// caller as actor in its history, and deletes the object.
func TestServeFollowsEvents(t *testing.T) {
	m, _ := estate(t)
	dir := t.TempDir()
	addr, stop := serve(t, optOut, dir)
	defer stop()
	waitScan(t, addr, time.Time{})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: url.QueueUrl}); err != nil {
		t.Fatal(err)
	}
	event := `{"version":"0","id":"ev-1","detail-type":"AWS API Call via CloudTrail","source":"aws.sqs","account":"123456789012",` +
		`"time":"2026-11-22T10:00:00Z","region":"eu-west-1","resources":[],"detail":{"eventVersion":"1.08","eventID":"ct-1",` +
		`"eventSource":"sqs.amazonaws.com","eventName":"DeleteQueue","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9",` +
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/ann"},` +
		`"requestParameters":{"queueUrl":"` + aws.ToString(url.QueueUrl) + `"}}}`
	var obj bytes.Buffer
	zw := gzip.NewWriter(&obj)
	zw.Write([]byte(event))
	zw.Close()
	const key = "AWSLogs/123456789012/EventBridge/eu-west-1/2026/11/22/10/stream-1-2026-11-22-10-00-00-x.gz"
	s3c := awsconn.NewS3(cfg)
	written := time.Now()
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("stackstate-logs-123456789012"),
		Key: aws.String(key), Body: bytes.NewReader(obj.Bytes())}); err != nil {
		t.Fatal(err)
	}

	const queue = "arn:aws:sqs:eu-west-1:123456789012:orders"
	for {
		resp, err := http.Get("http://" + addr + "/api/components/" + queue)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			break
		}
		if time.Since(written) > 20*time.Second {
			t.Fatalf("the queue is still served %s after its event arrived", time.Since(written))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("event to map: %s", time.Since(written))
	var hist struct{ Versions []model.Version }
	getJSON(t, "http://"+addr+"/api/components/"+queue+"/history", &hist)
	last := hist.Versions[len(hist.Versions)-1]
	if last.Change != model.Deleted || last.Actor != "arn:aws:iam::123456789012:user/ann" || last.Cause != "event:ev-1 DeleteQueue" {
		t.Errorf("last version %+v, want a deletion by ann caused by ev-1", last)
	}
	var st StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &st)
	var feed *EventFeedStatus
	for i, f := range st.Events {
		if f.Account == "123456789012" && f.Region == "eu-west-1" {
			feed = &st.Events[i]
		}
	}
	if feed == nil || feed.Path != pathLogBucket || feed.Events < 1 || feed.Error != "" || feed.ExpectedDelay == "" {
		t.Errorf("event feed status %+v, want the log bucket path with the event counted", feed)
	}
	if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("stackstate-logs-123456789012"), Key: aws.String(key)}); err == nil {
		t.Errorf("the object of a handled event is still in the bucket")
	}
}

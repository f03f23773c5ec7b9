package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/config"
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
	waitGone(t, addr, queue, written, 20*time.Second)
	t.Logf("event to map: %s", time.Since(written))
	var hist struct{ Versions []model.Version }
	getJSON(t, "http://"+addr+"/api/components/"+queue+"/history", &hist)
	last := hist.Versions[len(hist.Versions)-1]
	if last.Change != model.Deleted || last.Actor != "arn:aws:iam::123456789012:user/ann" || last.Cause != "event:ev-1 DeleteQueue" {
		t.Errorf("last version %+v, want a deletion by ann caused by ev-1", last)
	}
	// The feed's status is written when its poll ends, just after the change.
	var feed *EventFeedStatus
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var st StatusDoc
		getJSON(t, "http://"+addr+"/api/status", &st)
		for i, f := range st.Events {
			if f.Account == "123456789012" && f.Region == "eu-west-1" {
				feed = &st.Events[i]
			}
		}
		if feed != nil && feed.Events >= 1 {
			break
		}
	}
	if feed == nil || feed.Path != pathLogBucket || feed.Events < 1 || feed.Error != "" || feed.ExpectedDelay == "" {
		t.Errorf("event feed status %+v, want the log bucket path with the event counted", feed)
	}
	if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("stackstate-logs-123456789012"), Key: aws.String(key)}); err == nil {
		t.Errorf("the object of a handled event is still in the bucket")
	}
}

// TestServeFollowsAnEventQueue: with events_queue_url, serve reads the
// account's events from that SQS queue (here an EventBridge event as the
// message body) instead of polling the log bucket, and deletes the message
// once the change is committed.
func TestServeFollowsAnEventQueue(t *testing.T) {
	m, _ := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	events, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("skymap-events")})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := config.Parse([]byte(`
init_config:
  external_id: skymap-test-external-id
instances:
  - role_arn: arn:aws:iam::123456789012:role/StackStateAwsIntegrationRole
    regions: [eu-west-1]
    events_queue_url: ` + aws.ToString(events.QueueUrl) + `
` + optOut))
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveConfig(t, conf, t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})

	// Three changes in moto: a queue deleted, an instance started, a
	// security group rule added; their events arrive in one batch.
	url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: url.QueueUrl}); err != nil {
		t.Fatal(err)
	}
	ec := ec2.NewFromConfig(cfg)
	subnets, err := ec.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil || len(subnets.Subnets) == 0 {
		t.Fatalf("no subnet to start an instance in: %v", err)
	}
	subnet := subnets.Subnets[0]
	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: subnet.VpcId, GroupName: aws.String("late"),
		Description: aws.String("made after the scan")})
	if err != nil {
		t.Fatal(err)
	}
	group := aws.ToString(sg.GroupId)
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: subnet.SubnetId, SecurityGroupIds: []string{group}})
	if err != nil {
		t.Fatal(err)
	}
	instance := aws.ToString(run.Instances[0].InstanceId)
	if _, err := ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8443), ToPort: aws.Int32(8443),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("198.51.100.0/24")}}}}}); err != nil {
		t.Fatal(err)
	}
	call := func(id, source, name, actor, params string) string {
		return `{"version":"0","id":"` + id + `","detail-type":"AWS API Call via CloudTrail","source":"aws.` + source + `",` +
			`"account":"123456789012","time":"2026-11-22T10:00:00Z","region":"eu-west-1","resources":[],"detail":{"eventID":"ct-` + id + `",` +
			`"eventSource":"` + source + `.amazonaws.com","eventName":"` + name + `","awsRegion":"eu-west-1","sourceIPAddress":"192.0.2.7",` +
			`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/` + actor + `"},` + params + `}}`
	}
	bodies := []string{
		call("ev-q", "sqs", "DeleteQueue", "bo", `"requestParameters":{"queueUrl":"`+aws.ToString(url.QueueUrl)+`"}`),
		call("ev-i", "ec2", "RunInstances", "ann", `"requestParameters":{},"responseElements":{"instancesSet":{"items":[{"instanceId":"`+instance+`"}]}}`),
		call("ev-g", "ec2", "AuthorizeSecurityGroupIngress", "cy", `"requestParameters":{"groupId":"`+group+`"}`),
	}
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i, b := range bodies {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), MessageBody: aws.String(b)})
	}
	sent := time.Now()
	if _, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: events.QueueUrl, Entries: entries}); err != nil {
		t.Fatal(err)
	}
	const queue = "arn:aws:sqs:eu-west-1:123456789012:orders"
	waitGone(t, addr, queue, sent, 30*time.Second)
	t.Logf("messages to map: %s", time.Since(sent))

	var inst struct {
		Component model.Component
		Outgoing  []model.Relation
	}
	getJSON(t, "http://"+addr+"/api/components/"+instance, &inst)
	related := map[string]bool{}
	for _, r := range inst.Outgoing {
		related[r.Target] = true
	}
	if inst.Component.ID != instance || !related[aws.ToString(subnet.SubnetId)] || !related[group] {
		t.Errorf("instance %s: %+v, relations %+v; want it in its subnet and group", instance, inst.Component.ID, inst.Outgoing)
	}
	var grp struct{ Component model.Component }
	getJSON(t, "http://"+addr+"/api/components/"+group, &grp)
	if b, _ := json.Marshal(grp.Component.Data); !strings.Contains(string(b), "198.51.100.0/24") {
		t.Errorf("group %s data %s, want its new rule", group, b)
	}
	for id, want := range map[string]string{queue: "bo", instance: "ann", group: "cy"} {
		var hist struct{ Versions []model.Version }
		getJSON(t, "http://"+addr+"/api/components/"+id+"/history", &hist)
		// A health refresh may record a version after the event's.
		hist.Versions = slices.DeleteFunc(hist.Versions, func(v model.Version) bool { return v.Cause == "alarm" || v.Cause == "state" })
		last := hist.Versions[len(hist.Versions)-1]
		if last.Actor != "arn:aws:iam::123456789012:user/"+want || !strings.HasPrefix(last.Cause, "event:ev-") || last.SourceIP != "192.0.2.7" {
			t.Errorf("%s: last version %+v, want one by %s caused by its event", id, last, want)
		}
	}
	var st StatusDoc
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		getJSON(t, "http://"+addr+"/api/status", &st)
		if len(st.Events) == 1 && st.Events[0].Events >= 3 {
			break
		}
	}
	if len(st.Events) != 1 || st.Events[0].Path != pathQueue || st.Events[0].Events != 3 || st.Events[0].Region != "eu-west-1" {
		t.Errorf("event feeds %+v, want the queue alone with its event", st.Events)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: events.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range attrs.Attributes {
		if v != "0" {
			t.Errorf("the event queue still holds messages: %s = %s", k, v)
		}
	}
}

// waitGone waits until the API no longer serves component id, at most
// within of since, when its change event became readable.
func waitGone(t *testing.T, addr, id string, since time.Time, within time.Duration) {
	t.Helper()
	for {
		resp, err := http.Get("http://" + addr + "/api/components/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return
		}
		if time.Since(since) > within {
			t.Fatalf("%s is still served %s after its event became readable", id, time.Since(since))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package app

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/skymap/skymap/internal/collect/events"
	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// TestRefreshFollowsAChange is the update an event asks for: after a full
// scan, a queue is deleted in moto and its dead-letter queue changed, and
// refreshing the SQS listing of that account and region removes the queue
// and its relation, records who did it, and leaves everything else alone.
func TestRefreshFollowsAChange(t *testing.T) {
	m, _ := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := testConfig(t, optOut)
	g := topology.New(nil)
	if _, err := ScanInto(ctx, cfg, Options{}, g); err != nil {
		t.Fatal(err)
	}
	const (
		account = "123456789012"
		queue   = "arn:aws:sqs:eu-west-1:123456789012:orders"
		dlq     = "arn:aws:sqs:eu-west-1:123456789012:orders-dlq"
	)
	if _, ok := g.Lookup(queue); !ok {
		t.Fatalf("the scan did not find %s", queue)
	}
	before := g.Len()

	awsCfg, err := m.Config(ctx, "eu-west-1", account)
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(awsCfg)
	url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: url.QueueUrl}); err != nil {
		t.Fatal(err)
	}

	prov, err := newProvider(ctx, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	snaps, problems, err := newScanner(cfg, prov, Options{}).Refresh(ctx, account, "eu-west-1", []inventory.Wanted{{Type: "aws.sqs.queue"}})
	if err != nil || len(problems) != 0 {
		t.Fatalf("refresh: %v %v", err, problems)
	}
	for _, s := range snaps {
		if s.Scope.Type != "aws.sqs.queue" || s.Scope.Account != account || s.Scope.Region != "eu-west-1" || !s.Complete {
			t.Errorf("refresh gave scope %+v (complete %v); want only the complete SQS scope of %s eu-west-1", s.Scope, s.Complete, account)
		}
	}
	const actor = "arn:aws:iam::123456789012:user/ann"
	vs, err := g.ApplyBy(ctx, "event:DeleteQueue", actor, snaps)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Lookup(queue); ok {
		t.Errorf("%s is still in the graph", queue)
	}
	if _, ok := g.Lookup(dlq); !ok {
		t.Errorf("%s went too", dlq)
	}
	if g.Len() != before-1 {
		t.Errorf("%d components, want %d", g.Len(), before-1)
	}
	var sawQueue, sawRelation bool
	for _, v := range vs {
		if v.Actor != actor || v.Cause != "event:DeleteQueue" || v.Change != model.Deleted {
			t.Errorf("version %+v: want a deletion by %s caused by the event", v, actor)
		}
		sawQueue = sawQueue || v.ID == queue
		sawRelation = sawRelation || v.ID == topology.RelationID(model.RelationKey{Source: queue, Target: dlq, Type: model.UsesService})
	}
	if !sawQueue || !sawRelation {
		t.Errorf("versions %+v lack the queue's or its dead-letter relation's deletion", vs)
	}
}

// TestEventUpdatesTheMap goes from a CloudTrail record to the map: the
// record of a queue's deletion, handled by the events Updater against moto,
// removes the queue with the record's actor in its history.
func TestEventUpdatesTheMap(t *testing.T) {
	m, _ := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := testConfig(t, optOut)
	g := topology.New(nil)
	if _, err := ScanInto(ctx, cfg, Options{}, g); err != nil {
		t.Fatal(err)
	}
	const queue = "arn:aws:sqs:eu-west-1:123456789012:orders"
	awsCfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(awsCfg)
	url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: url.QueueUrl}); err != nil {
		t.Fatal(err)
	}
	record := `{"eventVersion":"1.08","eventID":"e-1","eventTime":"2026-11-22T10:00:00Z","eventSource":"sqs.amazonaws.com",` +
		`"eventName":"DeleteQueue","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","recipientAccountId":"123456789012",` +
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/ann"},` +
		`"requestParameters":{"queueUrl":"` + aws.ToString(url.QueueUrl) + `"}}`
	e, err := events.Parse([]byte(record))
	if err != nil {
		t.Fatal(err)
	}
	prov, err := newProvider(ctx, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var versions []model.Version
	u := &events.Updater{Refresh: newScanner(cfg, prov, Options{}).Refresh,
		Apply: func(ctx context.Context, cause string, label func(*model.Version), snaps []model.Snapshot) ([]model.Version, error) {
			vs, err := g.ApplyLabelled(ctx, cause, label, snaps)
			versions = append(versions, vs...)
			return vs, err
		}}
	if err := u.Handle(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Lookup(queue); ok {
		t.Errorf("%s is still in the graph after its DeleteQueue event", queue)
	}
	found := false
	for _, v := range versions {
		if v.ID == queue {
			found = v.Change == model.Deleted && v.Actor == "arn:aws:iam::123456789012:user/ann" && v.Cause == "event:e-1 DeleteQueue"
		}
	}
	if !found {
		t.Errorf("no deletion of %s by ann caused by the event in %+v", queue, versions)
	}
	if st := u.Stats(); st.Applied != 1 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}

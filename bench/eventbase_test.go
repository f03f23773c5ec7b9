package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/errgroup"
)

// The event benchmarks' baselines: what moto and SQS cost without skymap.

// sendBatches sends n messages to queueURL, body(i) the i-th,
// with SendMessageBatch of 10, 4 calls at a time.
func sendBatches(ctx context.Context, c *sqs.Client, queueURL string, n int, body func(i int) string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for lo := 0; lo < n; lo += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i := lo; i < min(lo+10, n); i++ {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
				MessageBody: aws.String(body(i))})
		}
		g.Go(func() error {
			out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
			if err == nil && len(out.Failed) > 0 {
				err = fmt.Errorf("send batch: %d failed, first %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
			}
			return err
		})
	}
	return g.Wait()
}

// describeQueue makes the calls skymap's inventory makes for one queue.
func describeQueue(ctx context.Context, c *sqs.Client, u string) error {
	if _, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}}); err != nil {
		return err
	}
	_, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(u)})
	return err
}

// describeEach describes each queue, one after the other, and returns how
// long each took.
func describeEach(ctx context.Context, c *sqs.Client, urls []string) ([]time.Duration, error) {
	out := make([]time.Duration, 0, len(urls))
	for _, u := range urls {
		t := time.Now()
		if err := describeQueue(ctx, c, u); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// describeAll describes every queue, conc at a time.
func describeAll(ctx context.Context, c *sqs.Client, urls []string, conc int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for _, u := range urls {
		g.Go(func() error { return describeQueue(ctx, c, u) })
	}
	return g.Wait()
}

func listQueues(ctx context.Context, c *sqs.Client) error {
	p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		if _, err := p.NextPage(ctx); err != nil {
			return err
		}
	}
	return nil
}

// roundTrips sends n messages one at a time to a new queue while a reader
// long-polls it (as skymap's reader does: up to 10 messages, 20 s wait,
// each deleted on its own), and returns for each the time from
// SendMessage returning to ReceiveMessage returning it.
func roundTrips(ctx context.Context, env *eventEnv, n int) ([]time.Duration, error) {
	q, err := env.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench-rt-one")})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan time.Time, 10)
	done := make(chan error, 1)
	go func() { done <- receive(ctx, env.sqs, aws.ToString(q.QueueUrl), n, got) }()
	out := make([]time.Duration, 0, n)
	for i := range n {
		if _, err := env.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl,
			MessageBody: aws.String(strconv.Itoa(i))}); err != nil {
			return nil, err
		}
		sent := time.Now()
		select {
		case at := <-got:
			out = append(out, max(0, at.Sub(sent)))
		case err := <-done:
			return nil, fmt.Errorf("reader ended after %d of %d messages: %v", i, n, err)
		case <-time.After(30 * time.Second):
			return nil, fmt.Errorf("message %d not received in 30 s", i)
		}
	}
	return out, <-done
}

// roundTripAll sends n messages to a new queue as the burst of events is
// sent, while a reader long-polls and deletes them as skymap's does, and
// returns once all are deleted.
func roundTripAll(ctx context.Context, env *eventEnv, n int) error {
	q, err := env.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench-rt-burst")})
	if err != nil {
		return err
	}
	u := aws.ToString(q.QueueUrl)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- receive(ctx, env.sqs, u, n, nil) }()
	if err := sendBatches(ctx, env.sqs, u, n, func(i int) string { return strconv.Itoa(i) }); err != nil {
		return err
	}
	return <-done
}

// receive long-polls queueURL and deletes each message it receives, one
// DeleteMessage each, until it has deleted n; it sends the time each
// message was received to got when got is not nil.
func receive(ctx context.Context, c *sqs.Client, queueURL string, n int, got chan<- time.Time) error {
	for deleted := 0; deleted < n; {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 20})
		if err != nil {
			return err
		}
		at := time.Now()
		for _, m := range out.Messages {
			if got != nil {
				got <- at
			}
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL),
				ReceiptHandle: m.ReceiptHandle}); err != nil {
				return err
			}
			deleted++
		}
	}
	if ctx.Err() != nil {
		return errors.Join(errors.New("receive"), ctx.Err())
	}
	return nil
}

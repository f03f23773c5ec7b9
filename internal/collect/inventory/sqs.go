package inventory

import (
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

const typeQueue = "aws.sqs.queue"

var sqsTypes = map[string]typeInfo{
	// short is the queue URL, which the console takes (escaped) as the queue's id.
	typeQueue: {model.LayerMessaging, "/sqs/v3/home?region={region}#/queues/{id}", "SQS", ""},
}

var sqsListings = []listing{
	{"sqs", "queues", []string{typeQueue}, regional, collectQueues, []string{
		"sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags", "sqs:GetQueueUrl"}},
}

func collectQueues(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := sqs.NewFromConfig(t.Config)
	var urls []string
	p := sqs.NewListQueuesPaginator(client, &sqs.ListQueuesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		urls = append(urls, page.QueueUrls...)
	}
	return res, describeEach(ctx, &res, urls,
		func(u string) string { return "queue " + u },
		func(ctx context.Context, u string, out *Result) error {
			return queue(ctx, t, client, u, out)
		})
}

// describeQueues describes the queues refs name by ARN, URL or name. A
// name is looked up in the target's account (GetQueueUrl); a queue it does
// not find is gone.
func describeQueues(ctx context.Context, t Target, refs []string) (Result, error) {
	var res Result
	client := sqs.NewFromConfig(t.Config)
	return res, describeEach(ctx, &res, refs,
		func(ref string) string { return "queue " + ref },
		func(ctx context.Context, ref string, out *Result) error {
			queueURL := ref
			if !strings.Contains(ref, "://") {
				name := ref
				if a, ok := partition.ParseARN(ref); ok {
					name = a.Resource
				}
				u, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name),
					QueueOwnerAWSAccountId: aws.String(t.Account)})
				if gone(err) {
					return nil
				}
				if err != nil {
					return err
				}
				queueURL = aws.ToString(u.QueueUrl)
			}
			return queue(ctx, t, client, queueURL, out)
		})
}

// queue describes one queue from its URL. Denied attributes or tags leave
// their part out (the ARN is then built from the account, region and the
// URL's last path segment); a queue deleted meanwhile is dropped; other
// failures leave the queue out and are returned.
func queue(ctx context.Context, t Target, client *sqs.Client, queueURL string, res *Result) error {
	name := queueName(queueURL)
	if name == "" {
		res.malformed("sqs:ListQueues", queueURL, "not a queue URL")
		return nil
	}
	data := map[string]any{"QueueUrl": queueURL}
	id := ""
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	switch {
	case gone(err):
		return nil
	case denied(err):
		attrs = &sqs.GetQueueAttributesOutput{}
	case err != nil:
		return err
	default:
		data["Attributes"] = queueAttributes(attrs.Attributes)
		id = attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	}
	if id == "" {
		id = "arn:" + t.Partition.ID + ":sqs:" + t.Region + ":" + t.Account + ":" + name
	}
	tags := map[string]string{}
	tg, err := client.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(queueURL)})
	switch {
	case gone(err):
		return nil
	case denied(err):
	case err != nil:
		return err
	default:
		for k, v := range tg.Tags {
			tags[k] = v
		}
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeQueue, id: id, short: queueURL, name: name, tags: tags, idents: []string{queueURL}, data: data,
	}))
	if dlq, ok := deadLetterTarget(attrs.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]); ok {
		res.Relations = append(res.Relations, rel(id, dlq, model.UsesService))
	} else if p := attrs.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]; p != "" {
		res.malformed("sqs:GetQueueAttributes", id, "RedrivePolicy without a deadLetterTargetArn")
	}
	return nil
}

// queueName is the last path segment of a queue URL, "" when there is none.
func queueName(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	name := path.Base(strings.TrimRight(u.Path, "/"))
	if name == "." || name == "/" {
		return ""
	}
	return name
}

// deadLetterTarget returns the dead-letter queue a RedrivePolicy names.
func deadLetterTarget(policy string) (string, bool) {
	if policy == "" {
		return "", false
	}
	var p struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if json.Unmarshal([]byte(policy), &p) != nil || p.DeadLetterTargetArn == "" {
		return "", false
	}
	return p.DeadLetterTargetArn, true
}

// queueTimes are the attributes SQS gives in seconds since the epoch.
var queueTimes = []string{
	string(sqstypes.QueueAttributeNameCreatedTimestamp), string(sqstypes.QueueAttributeNameLastModifiedTimestamp),
}

// queueAttributes returns a queue's attributes for its data, with times in
// RFC 3339 like every other timestamp of component data; a time that is
// not a number is kept as it is.
func queueAttributes(attrs map[string]string) map[string]string {
	out := maps.Clone(attrs)
	for _, k := range queueTimes {
		if secs, err := strconv.ParseFloat(out[k], 64); err == nil {
			out[k] = time.Unix(0, int64(secs*1e9)).UTC().Format(time.RFC3339)
		}
	}
	return out
}

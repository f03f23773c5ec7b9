package inventory

import (
	"context"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

const typeTopic = "aws.sns.topic"

var snsTypes = map[string]typeInfo{
	typeTopic: {model.LayerMessaging, "/sns/v3/home?region={region}#/topic/{id}", "SNS", ""},
}

var snsListings = []listing{
	{"sns", "topics", []string{typeTopic}, regional, collectTopics, []string{
		"sns:ListTopics", "sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:ListSubscriptions",
		"sns:ListSubscriptionsByTopic"}},
}

// subscriptionTargets are the protocols whose endpoint names a resource the
// topic uses; others (email, sms, application) name people or devices,
// which are personal data and neither kept nor related.
var subscriptionTargets = map[string]bool{
	"sqs": true, "lambda": true, "http": true, "https": true, "firehose": true,
}

func collectTopics(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := sns.NewFromConfig(t.Config)
	var arns []string
	p := sns.NewListTopicsPaginator(client, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, tp := range page.Topics {
			arns = append(arns, aws.ToString(tp.TopicArn))
		}
	}
	// One paginated listing of the region's subscriptions, not one per topic.
	subs, err := subscriptions(ctx, client)
	if err != nil && !denied(err) {
		return res, err
	}
	err = describeEach(ctx, &res, arns,
		func(arn string) string { return "topic " + arn },
		func(ctx context.Context, arn string, out *Result) error {
			return topic(ctx, t, client, arn, subs[arn], out)
		})
	return res, err
}

// describeTopics describes the topics refs name by ARN, each with its
// subscriptions (ListSubscriptionsByTopic).
func describeTopics(ctx context.Context, t Target, refs []string) (Result, error) {
	var res Result
	client := sns.NewFromConfig(t.Config)
	return res, describeEach(ctx, &res, refs,
		func(arn string) string { return "topic " + arn },
		func(ctx context.Context, arn string, out *Result) error {
			var subs []snstypes.Subscription
			p := sns.NewListSubscriptionsByTopicPaginator(client, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if gone(err) {
					return nil
				}
				if err != nil && !denied(err) {
					return err
				}
				if err != nil {
					break
				}
				subs = append(subs, page.Subscriptions...)
			}
			return topic(ctx, t, client, arn, subs, out)
		})
}

// subscriptions returns the region's subscriptions by topic ARN.
func subscriptions(ctx context.Context, client *sns.Client) (map[string][]snstypes.Subscription, error) {
	out := map[string][]snstypes.Subscription{}
	p := sns.NewListSubscriptionsPaginator(client, &sns.ListSubscriptionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, s := range page.Subscriptions {
			out[aws.ToString(s.TopicArn)] = append(out[aws.ToString(s.TopicArn)], s)
		}
	}
	return out, nil
}

// topic describes one topic and relates it to what its subscriptions
// deliver to. Denied details leave their part out; a topic deleted
// meanwhile is dropped; other failures leave it out and are returned.
func topic(ctx context.Context, t Target, client *sns.Client, arn string, subs []snstypes.Subscription, res *Result) error {
	a, ok := partition.ParseARN(arn)
	if !ok || a.Resource == "" {
		res.malformed("sns:ListTopics", arn, "not a topic ARN")
		return nil
	}
	name := a.Resource
	data := map[string]any{"TopicArn": arn}
	attrs, err := client.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	switch {
	case gone(err):
		return nil
	case denied(err):
	case err != nil:
		return err
	default:
		data["Attributes"] = attrs.Attributes
	}
	tags := map[string]string{}
	tg, err := client.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	switch {
	case gone(err):
		return nil
	case denied(err):
	case err != nil:
		return err
	default:
		for _, tag := range tg.Tags {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	var kept []map[string]string
	for _, s := range subs {
		proto := strings.ToLower(aws.ToString(s.Protocol))
		sub := map[string]string{"Protocol": proto, "SubscriptionArn": aws.ToString(s.SubscriptionArn)}
		if !subscriptionTargets[proto] {
			// The endpoint is an address or a phone number: keep the
			// protocol only, and no subscription ARN, which embeds nothing
			// personal but is of no use without its endpoint.
			kept = append(kept, map[string]string{"Protocol": proto})
			continue
		}
		sub["Endpoint"] = withoutCredentials(aws.ToString(s.Endpoint))
		kept = append(kept, sub)
		if _, confirmed := partition.ParseARN(aws.ToString(s.SubscriptionArn)); !confirmed {
			continue // PendingConfirmation: nothing is delivered yet
		}
		if ref := t.reference(aws.ToString(s.Endpoint)); ref != "" {
			res.Relations = append(res.Relations, rel(arn, ref, model.UsesService))
		}
	}
	if len(kept) > 0 {
		data["Subscriptions"] = kept
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeTopic, id: arn, short: arn, name: name, tags: tags, data: data,
	}))
	return nil
}

// withoutCredentials removes the user information and query of a URL, where
// HTTP endpoints carry passwords and tokens; other values are returned as
// they are.
func withoutCredentials(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return endpoint
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

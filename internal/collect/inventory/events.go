package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/skymap/skymap/internal/model"
)

const typeEventRule = "aws.events.rule"

var eventsTypes = map[string]typeInfo{
	typeEventRule: {model.LayerServerless, "/events/home?region={region}#/rules/{id}", "EventBridge", ""},
}

var eventsListings = []listing{
	{"events", "rules", []string{typeEventRule}, regional, collectEventRules, []string{
		"events:ListEventBuses", "events:ListRules", "events:ListTargetsByRule", "events:ListTagsForResource"}},
}

// collectEventRules lists the rules of every event bus of the region, and
// each rule's targets and tags, a bounded number of rules at a time.
func collectEventRules(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := eventbridge.NewFromConfig(t.Config)
	var buses []string
	for in := (&eventbridge.ListEventBusesInput{Limit: aws.Int32(100)}); ; {
		out, err := client.ListEventBuses(ctx, in)
		if err != nil {
			return res, err
		}
		for _, b := range out.EventBuses {
			if name := aws.ToString(b.Name); name != "" {
				buses = append(buses, name)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	if len(buses) == 0 {
		buses = []string{"default"}
	}
	var rules []ebtypes.Rule
	for _, bus := range buses {
		for in := (&eventbridge.ListRulesInput{EventBusName: aws.String(bus), Limit: aws.Int32(100)}); ; {
			out, err := client.ListRules(ctx, in)
			if err != nil {
				return res, fmt.Errorf("bus %s: %w", bus, err)
			}
			for _, r := range out.Rules {
				if aws.ToString(r.Arn) == "" || aws.ToString(r.Name) == "" {
					res.malformed("events", aws.ToString(r.Name), "rule without an ARN or name")
					continue
				}
				rules = append(rules, r)
			}
			if aws.ToString(out.NextToken) == "" {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	return res, describeEach(ctx, &res, rules,
		func(r ebtypes.Rule) string { return "rule " + aws.ToString(r.Name) },
		func(ctx context.Context, r ebtypes.Rule, out *Result) error {
			return eventRule(ctx, t, client, r, out)
		})
}

// eventRule describes one rule: its tags, and a relation to each target
// and to its role. A rule deleted since it was listed is left out.
func eventRule(ctx context.Context, t Target, client *eventbridge.Client, r ebtypes.Rule, res *Result) error {
	arn := aws.ToString(r.Arn)
	var rels []model.Relation
	var failures []error
	for in := (&eventbridge.ListTargetsByRuleInput{Rule: r.Name, EventBusName: r.EventBusName, Limit: aws.Int32(100)}); ; {
		out, err := client.ListTargetsByRule(ctx, in)
		if err != nil {
			keep, failure := detailOutcome(err)
			if !keep {
				return failure
			}
			failures = append(failures, failure)
			break
		}
		for _, tg := range out.Targets {
			if ref := t.reference(aws.ToString(tg.Arn)); ref != "" {
				rl := rel(arn, ref, model.UsesService)
				rl.Data["target"] = aws.ToString(tg.Id)
				rels = append(rels, rl)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	tags := map[string]string{}
	out, err := client.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: r.Arn})
	keep, failure := detailOutcome(err)
	if !keep {
		return failure
	}
	failures = append(failures, failure)
	if err == nil {
		for _, tg := range out.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	if role := aws.ToString(r.RoleArn); role != "" {
		rels = append(rels, rel(arn, role, model.UsesService))
	}
	res.Components = append(res.Components, t.component(resource{typ: typeEventRule, id: arn, short: aws.ToString(r.Name),
		tags: tags, data: r}))
	res.Relations = append(res.Relations, rels...)
	return errors.Join(failures...)
}

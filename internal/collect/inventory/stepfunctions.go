package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// Step Functions component types.
const (
	typeStateMachine = "aws.stepfunction.statemachine"
	typeState        = "aws.stepfunction.state"
	typeActivity     = "aws.stepfunction.activity"
)

var sfnTypes = map[string]typeInfo{
	typeStateMachine: {model.LayerServerless, "/states/home?region={region}#/statemachines/view/{id}", "Step Functions", ""},
	// A state links to its state machine (its short id is the machine's ARN).
	typeState:    {model.LayerServerless, "/states/home?region={region}#/statemachines/view/{id}", "Step Functions", ""},
	typeActivity: {model.LayerServerless, "/states/home?region={region}#/activities/view/{id}", "Step Functions", ""},
}

var sfnListings = []listing{
	{"stepfunctions", "state_machines", []string{typeStateMachine, typeState}, regional, collectStateMachines, []string{
		"states:ListStateMachines", "states:DescribeStateMachine", "states:ListTagsForResource"}},
	{"stepfunctions", "activities", []string{typeActivity}, regional, collectActivities, []string{
		"states:ListActivities", "states:ListTagsForResource"}},
}

// collectStateMachines lists the region's state machines, reads each one's
// definition and tags (a bounded number at a time) and turns the
// definition into states.
func collectStateMachines(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := sfn.NewFromConfig(t.Config)
	var machines []sfntypes.StateMachineListItem
	p := sfn.NewListStateMachinesPaginator(client, &sfn.ListStateMachinesInput{MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, m := range page.StateMachines {
			if aws.ToString(m.StateMachineArn) == "" {
				res.malformed("stepfunctions", aws.ToString(m.Name), "state machine without an ARN")
				continue
			}
			machines = append(machines, m)
		}
	}
	return res, describeEach(ctx, &res, machines,
		func(m sfntypes.StateMachineListItem) string { return "state machine " + aws.ToString(m.Name) },
		func(ctx context.Context, m sfntypes.StateMachineListItem, out *Result) error {
			arn := aws.ToString(m.StateMachineArn)
			var data any = m
			desc, err := client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: m.StateMachineArn})
			keep, descFailure := detailOutcome(err)
			if !keep {
				return descFailure
			}
			tags, keep, tagsFailure := sfnTags(ctx, client, arn)
			if !keep {
				return tagsFailure
			}
			if err == nil {
				data = desc
				*out = stateMachine(t, arn, desc)
				if role := aws.ToString(desc.RoleArn); role != "" {
					out.Relations = append(out.Relations, rel(arn, role, model.UsesService))
				}
			}
			out.Components = append(out.Components, t.component(resource{typ: typeStateMachine, id: arn, short: arn,
				name: aws.ToString(m.Name), tags: tags, data: data}))
			return errors.Join(descFailure, tagsFailure)
		})
}

// sfnTags reads the tags of a state machine or activity; keep is false for
// one deleted since it was listed.
func sfnTags(ctx context.Context, client *sfn.Client, arn string) (map[string]string, bool, error) {
	tags := map[string]string{}
	out, err := client.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		keep, failure := detailOutcome(err)
		return tags, keep, failure
	}
	for _, tg := range out.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return tags, true, nil
}

func collectActivities(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := sfn.NewFromConfig(t.Config)
	var activities []sfntypes.ActivityListItem
	p := sfn.NewListActivitiesPaginator(client, &sfn.ListActivitiesInput{MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, a := range page.Activities {
			if aws.ToString(a.ActivityArn) == "" {
				res.malformed("stepfunctions", aws.ToString(a.Name), "activity without an ARN")
				continue
			}
			activities = append(activities, a)
		}
	}
	return res, describeEach(ctx, &res, activities,
		func(a sfntypes.ActivityListItem) string { return "activity " + aws.ToString(a.Name) },
		func(ctx context.Context, a sfntypes.ActivityListItem, out *Result) error {
			arn := aws.ToString(a.ActivityArn)
			tags, keep, err := sfnTags(ctx, client, arn)
			if keep {
				out.Components = append(out.Components, t.component(resource{typ: typeActivity, id: arn, short: arn,
					name: aws.ToString(a.Name), tags: tags, data: a}))
			}
			return err
		})
}

// aslMachine is the part of an Amazon States Language definition (or of a
// Parallel branch or Map iterator) that the topology needs.
type aslMachine struct {
	StartAt string                     `json:"StartAt"`
	States  map[string]json.RawMessage `json:"States"`
}

// aslState is the part of a state that names other states and targets.
type aslState struct {
	Type     string `json:"Type"`
	Next     string `json:"Next"`
	Default  string `json:"Default"`
	Resource string `json:"Resource"`
	Choices  []struct {
		Next string `json:"Next"`
	} `json:"Choices"`
	Catch []struct {
		Next string `json:"Next"`
	} `json:"Catch"`
	Parameters    map[string]any `json:"Parameters"`
	Arguments     map[string]any `json:"Arguments"`
	Branches      []aslMachine   `json:"Branches"`
	Iterator      *aslMachine    `json:"Iterator"`
	ItemProcessor *aslMachine    `json:"ItemProcessor"`
}

// stateMachine turns a machine's definition into states: the machine uses
// its start state, each state the states it goes to and the resource it
// calls. A state's id is "<machine ARN>/state/<path>", the path being its
// name, after "<parent path>/branches/<n>/" in a Parallel state's branch n
// or "<parent path>/iterator/" in a Map state, each name path-escaped.
func stateMachine(t Target, arn string, desc *sfn.DescribeStateMachineOutput) Result {
	var res Result
	var def aslMachine
	if err := json.Unmarshal([]byte(aws.ToString(desc.Definition)), &def); err != nil {
		res.malformed("stepfunctions", arn, "definition is not valid JSON: %v", err)
		return res
	}
	if def.StartAt == "" && len(def.States) == 0 {
		return res // an empty definition, as some tools leave them
	}
	if _, ok := def.States[def.StartAt]; !ok {
		res.malformed("stepfunctions", arn, "StartAt %q names no state", def.StartAt)
	} else {
		res.Relations = append(res.Relations, rel(arn, stateID(arn, "", def.StartAt), model.UsesService))
	}
	t.states(arn, "", def, &res)
	return res
}

func stateID(machine, prefix, name string) string {
	return machine + "/state/" + prefix + url.PathEscape(name)
}

// states adds the states of one machine, branch or iterator, whose ids
// start with prefix.
func (t Target) states(machine, prefix string, m aslMachine, res *Result) {
	for _, name := range slices.Sorted(maps.Keys(m.States)) {
		raw := m.States[name]
		id := stateID(machine, prefix, name)
		var st aslState
		var data map[string]any
		if json.Unmarshal(raw, &st) != nil || json.Unmarshal(raw, &data) != nil {
			res.malformed("stepfunctions", id, "state is not a JSON object")
			continue
		}
		for _, nested := range []string{"Branches", "Iterator", "ItemProcessor"} {
			delete(data, nested)
		}
		data["Name"] = name
		res.Components = append(res.Components, t.component(resource{typ: typeState, id: id, short: machine, name: name, data: data}))
		next := []string{st.Next, st.Default}
		for _, c := range st.Choices {
			next = append(next, c.Next)
		}
		for _, c := range st.Catch {
			next = append(next, c.Next)
		}
		seen := map[string]bool{}
		for _, n := range next {
			if n == "" || seen[n] {
				continue
			}
			seen[n] = true
			if _, ok := m.States[n]; !ok {
				res.malformed("stepfunctions", id, "goes to %q, which is no state", n)
				continue
			}
			res.Relations = append(res.Relations, rel(id, stateID(machine, prefix, n), model.UsesService))
		}
		if target := t.taskTarget(st); target != "" {
			res.Relations = append(res.Relations, rel(id, target, model.UsesService))
		}
		sub := func(p string, m aslMachine) {
			if _, ok := m.States[m.StartAt]; ok {
				res.Relations = append(res.Relations, rel(id, stateID(machine, p, m.StartAt), model.UsesService))
			}
			t.states(machine, p, m, res)
		}
		for i, b := range st.Branches {
			sub(prefix+url.PathEscape(name)+"/branches/"+strconv.Itoa(i)+"/", b)
		}
		if it := st.ItemProcessor; it != nil {
			sub(prefix+url.PathEscape(name)+"/iterator/", *it)
		} else if it := st.Iterator; it != nil {
			sub(prefix+url.PathEscape(name)+"/iterator/", *it)
		}
	}
}

// taskTarget is the identifier of what a Task state calls, or "": a Lambda
// function or activity named by its Resource ARN, or, for an optimized
// integration ("arn:<partition>:states:::<service>:<action>"), the
// resource its parameters name.
func (t Target) taskTarget(st aslState) string {
	if st.Type != "Task" {
		return ""
	}
	a, ok := partition.ParseARN(st.Resource)
	if !ok {
		return ""
	}
	if a.Service != "states" || a.Region != "" || a.Account != "" {
		if a.Service == "lambda" {
			return unqualifiedVersion(st.Resource)
		}
		return st.Resource // an activity, or another service's resource
	}
	params := st.Parameters
	if params == nil {
		params = st.Arguments // JSONata
	}
	param := func(k string) string { s, _ := params[k].(string); return s }
	service, _, _ := strings.Cut(a.Resource, ":")
	arnOr := func(v, svc, resource string) string {
		if v == "" {
			return ""
		}
		if _, ok := partition.ParseARN(v); ok {
			return v
		}
		return "arn:" + t.Partition.ID + ":" + svc + ":" + t.Region + ":" + t.Account + ":" + resource + v
	}
	switch service {
	case "lambda":
		// A name, a name with a qualifier, or an ARN.
		return unqualifiedVersion(arnOr(param("FunctionName"), "lambda", "function:"))
	case "dynamodb":
		return arnOr(param("TableName"), "dynamodb", "table/")
	case "sns":
		return param("TopicArn")
	case "sqs":
		return t.reference(param("QueueUrl"))
	case "ecs":
		return arnOr(param("Cluster"), "ecs", "cluster/")
	case "states":
		return param("StateMachineArn")
	case "apigateway":
		return t.reference(param("ApiEndpoint"))
	case "events":
		return ""
	}
	return ""
}

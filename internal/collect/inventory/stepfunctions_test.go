package inventory

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/partition"
)

// describeRecorded reads a recorded DescribeStateMachine answer.
func describeRecorded(t *testing.T, name string) *sfn.DescribeStateMachineOutput {
	t.Helper()
	var v struct {
		StateMachineArn, Definition, RoleArn string
	}
	if err := json.Unmarshal(recordedRaw(t, name), &v); err != nil {
		t.Fatal(err)
	}
	return &sfn.DescribeStateMachineOutput{StateMachineArn: aws.String(v.StateMachineArn),
		Definition: aws.String(v.Definition), RoleArn: aws.String(v.RoleArn)}
}

// TestStateMachineRecordedDefinition parses a recorded definition with a
// Parallel state of three branches, a Map iterator, a Choice, and tasks of
// every kind of integration.
func TestStateMachineRecordedDefinition(t *testing.T) {
	p, _ := partition.ByID("aws")
	tg := Target{Account: "548105126730", Partition: p, Region: "eu-west-1"}
	desc := describeRecorded(t, "stepfunctions/describe_state_machine_1f67215.json")
	m := aws.ToString(desc.StateMachineArn)
	res := stateMachine(tg, m, desc)
	if len(res.Malformed) != 0 {
		t.Errorf("malformed: %v", res.Malformed)
	}
	var ids []string
	for _, c := range res.Components {
		ids = append(ids, c.ID[len(m):]+" "+c.Name)
	}
	slices.Sort(ids)
	wantIDs := []string{
		"/state/Activity Activity",
		"/state/ApiMap ApiMap",
		"/state/ApiMap/iterator/ApiGateway ApiGateway",
		"/state/FakeChoice FakeChoice",
		"/state/FakeInput FakeInput",
		"/state/Finish Finish",
		"/state/NoFinish NoFinish",
		"/state/ParallelRun ParallelRun",
		"/state/ParallelRun/branches/0/ECS ECS",
		"/state/ParallelRun/branches/1/SNS SNS",
		"/state/ParallelRun/branches/1/SQS SQS",
		"/state/ParallelRun/branches/1/SQSSecondaryRegion SQSSecondaryRegion",
		"/state/ParallelRun/branches/2/DynamoDB DynamoDB",
		"/state/ParallelRun/branches/2/Lambda Lambda",
		"/state/ParallelRun/branches/2/LambdaOldVersion LambdaOldVersion",
	}
	if d := cmp.Diff(wantIDs, ids); d != "" {
		t.Errorf("states (-want +got):\n%s", d)
	}
	short := func(s string) string {
		if len(s) > len(m) && s[:len(m)] == m {
			return s[len(m):]
		}
		if s == m {
			return "machine"
		}
		return s
	}
	var rels []string
	for _, r := range res.Relations {
		rels = append(rels, short(r.Source)+" -> "+short(r.Target))
	}
	slices.Sort(rels)
	fn := "arn:aws:lambda:eu-west-1:548105126730:function:stackstate-main-account-main-region-LambdaFunction-1AIMOJSC4PKMM"
	wantRels := []string{
		"/state/Activity -> /state/NoFinish",
		"/state/Activity -> arn:aws:states:eu-west-1:548105126730:activity:TestActivity",
		"/state/ApiMap -> /state/ApiMap/iterator/ApiGateway",
		"/state/ApiMap -> /state/FakeChoice",
		"/state/ApiMap/iterator/ApiGateway -> urn:endpoint:/tpfsxstrsh.execute-api.eu-west-1.amazonaws.com",
		"/state/FakeChoice -> /state/Activity",
		"/state/FakeChoice -> /state/Finish",
		"/state/FakeInput -> /state/ApiMap",
		"/state/ParallelRun -> /state/FakeInput",
		"/state/ParallelRun -> /state/ParallelRun/branches/0/ECS",
		"/state/ParallelRun -> /state/ParallelRun/branches/1/SNS",
		"/state/ParallelRun -> /state/ParallelRun/branches/2/Lambda",
		"/state/ParallelRun/branches/0/ECS -> arn:aws:ecs:eu-west-1:548105126730:cluster/stackstate-main-account-main-region-EcsCluster-YDQn3w2HJUED",
		"/state/ParallelRun/branches/1/SNS -> /state/ParallelRun/branches/1/SQS",
		"/state/ParallelRun/branches/1/SNS -> arn:aws:sns:eu-west-1:548105126730:stackstate-main-account-main-region-SnsTopic-WR92OFG87PSZ",
		"/state/ParallelRun/branches/1/SQS -> /state/ParallelRun/branches/1/SQSSecondaryRegion",
		"/state/ParallelRun/branches/1/SQS -> arn:aws:sqs:eu-west-1:548105126730:stackstate-main-account-main-region-SqsQueue-1CIRWAM6D60JD",
		"/state/ParallelRun/branches/1/SQSSecondaryRegion -> arn:aws:sqs:us-east-1:548105126730:stackstate-main-account-secondary-region-SqsQueue-TCLBC173C8R2",
		"/state/ParallelRun/branches/2/DynamoDB -> arn:aws:dynamodb:eu-west-1:548105126730:table/stackstate-main-account-main-region-DynamoDbTable-1V5HF1JOA0E6Z",
		"/state/ParallelRun/branches/2/Lambda -> /state/ParallelRun/branches/2/LambdaOldVersion",
		"/state/ParallelRun/branches/2/Lambda -> " + fn,
		"/state/ParallelRun/branches/2/LambdaOldVersion -> /state/ParallelRun/branches/2/DynamoDB",
		"/state/ParallelRun/branches/2/LambdaOldVersion -> " + fn,
		"machine -> /state/ParallelRun",
	}
	if d := cmp.Diff(wantRels, rels); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
}

func TestStateMachineBadDefinitions(t *testing.T) {
	p, _ := partition.ByID("aws")
	tg := Target{Account: "1", Partition: p, Region: "eu-west-1"}
	m := "arn:aws:states:eu-west-1:1:stateMachine:m"
	for _, tt := range []struct {
		def                     string
		states, rels, malformed int
	}{
		{`{  }`, 0, 0, 0},
		{`{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}`, 0, 0, 1}, // truncated
		{`{"StartAt": "X", "States": {"A": {"Type": "Pass", "Next": "B"}}}`, 1, 0, 2},
		{`{"StartAt": "A", "States": {"A": 3}}`, 0, 1, 1},
		{`{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName.$": "$.fn"}, "End": true}}}`, 1, 1, 0},
		{`{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f:live"}, "End": true}}}`, 1, 2, 0},
	} {
		res := stateMachine(tg, m, &sfn.DescribeStateMachineOutput{Definition: aws.String(tt.def)})
		if len(res.Components) != tt.states || len(res.Relations) != tt.rels || len(res.Malformed) != tt.malformed {
			t.Errorf("%s: %d states, %d relations, %d malformed; want %d, %d, %d (%v %v)", tt.def,
				len(res.Components), len(res.Relations), len(res.Malformed), tt.states, tt.rels, tt.malformed, res.Relations, res.Malformed)
		}
	}
	res := stateMachine(tg, m, &sfn.DescribeStateMachineOutput{Definition: aws.String(
		`{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f:live"}, "End": true}}}`)})
	if got, want := res.Relations[1].Target, "arn:aws:lambda:eu-west-1:1:function:f:live"; got != want {
		t.Errorf("lambda:invoke of a function name with an alias: target %s, want %s", got, want)
	}
}

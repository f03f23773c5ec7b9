package alarms

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

func TestJudge(t *testing.T) {
	inst := func(state string) *model.Component {
		return &model.Component{Type: "aws.ec2.instance", Data: map[string]any{"State": map[string]any{"Name": state}}}
	}
	fn := &model.Component{Type: "aws.lambda.function"}
	al := func(name, state string) *Alarm { return &Alarm{Name: name, State: state, Warning: isWarning(name)} }
	tests := []struct {
		name   string
		c      *model.Component
		alarms []*Alarm
		st     Status
		want   string
	}{
		{"nothing known", fn, nil, Status{}, ""},
		{"all OK", fn, []*Alarm{al("a", StateOK), al("b", StateOK)}, Status{}, model.HealthClear},
		{"one in ALARM", fn, []*Alarm{al("a", StateOK), al("b", StateAlarm)}, Status{}, model.HealthCritical},
		{"a warning in ALARM", fn, []*Alarm{al("a", StateOK), al("cpu-WARN", StateAlarm)}, Status{}, model.HealthDeviating},
		{"insufficient data only", fn, []*Alarm{al("a", StateInsufficientData)}, Status{}, model.HealthUnknown},
		{"OK and insufficient data", fn, []*Alarm{al("a", StateInsufficientData), al("b", StateOK)}, Status{}, model.HealthClear},
		{"running", inst("running"), nil, Status{}, model.HealthClear},
		{"stopped", inst("stopped"), nil, Status{}, model.HealthDeviating},
		{"stopped beats OK alarms", inst("stopped"), []*Alarm{al("a", StateOK)}, Status{}, model.HealthDeviating},
		{"impaired", inst("running"), nil, Status{Impaired: true}, model.HealthCritical},
		{"terminated", inst("terminated"), nil, Status{}, ""},
		{"stopped since the scan", inst("running"), nil, Status{State: "stopped"}, model.HealthDeviating},
		{"RDS modifying", &model.Component{Type: "aws.rds.instance", Data: map[string]any{"DBInstanceStatus": "modifying"}}, nil, Status{}, model.HealthDeviating},
	}
	for _, tt := range tests {
		if got, why := Judge(tt.c, tt.alarms, tt.st); got != tt.want {
			t.Errorf("%s: %q (%v), want %q", tt.name, got, why, tt.want)
		}
	}
}

type fakeCW struct {
	alarms []cwtypes.MetricAlarm
	err    error
}

// DescribeAlarms answers one alarm a page, to exercise paging.
func (f *fakeCW) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	i := 0
	if in.NextToken != nil {
		i = int(aws.ToString(in.NextToken)[0] - '0')
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	if i < len(f.alarms) {
		out.MetricAlarms = f.alarms[i : i+1]
	}
	if i+1 < len(f.alarms) {
		out.NextToken = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

type fakeEC2 struct{ impaired []string }

func (f fakeEC2) DescribeInstanceStatus(context.Context, *ec2.DescribeInstanceStatusInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	out := &ec2.DescribeInstanceStatusOutput{}
	for _, id := range f.impaired {
		out.InstanceStatuses = append(out.InstanceStatuses, ec2types.InstanceStatus{InstanceId: aws.String(id),
			InstanceState:  &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning},
			InstanceStatus: &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatusImpaired}})
	}
	return out, nil
}

func metricAlarm(name, state, ns, metric string, dims ...string) cwtypes.MetricAlarm {
	a := cwtypes.MetricAlarm{AlarmName: aws.String(name), StateValue: cwtypes.StateValue(state), Namespace: aws.String(ns),
		MetricName: aws.String(metric), StateReason: aws.String("because"), StateUpdatedTimestamp: aws.Time(time.Unix(0, 0))}
	for i := 0; i < len(dims); i += 2 {
		a.Dimensions = append(a.Dimensions, cwtypes.Dimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
	}
	return a
}

// Alarms map to the components their dimensions name, metric math
// through each metric; health changes become versions labelled with the
// alarm; unmapped alarms are counted; a denied account-region keeps its
// components' health.
func TestRefresh(t *testing.T) {
	ctx := context.Background()
	const acct, region = "123456789012", "eu-west-1"
	fnARN := "arn:aws:lambda:eu-west-1:123456789012:function:api"
	g := topology.New(nil)
	_, err := g.Apply(ctx, "scan", []model.Snapshot{{Scope: model.Scope{Account: acct, Region: region, Type: "x"}, Complete: true,
		Components: []model.Component{
			{ID: "i-1", Type: "aws.ec2.instance", Account: acct, Region: region, Data: map[string]any{"InstanceId": "i-1", "State": map[string]any{"Name": "running"}}},
			{ID: fnARN, Type: "aws.lambda.function", Account: acct, Region: region, Data: map[string]any{"FunctionName": "api"}},
			{ID: "q", Type: "aws.sqs.queue", Account: acct, Region: "us-east-1", Data: map[string]any{}},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	math := metricAlarm("fn-error-rate", StateAlarm, "", "")
	math.Namespace, math.MetricName = nil, nil
	math.Metrics = []cwtypes.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("100*m1")},
		{Id: aws.String("m1"), MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String("AWS/Lambda"),
			MetricName: aws.String("Errors"), Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("api")}}}}}}
	cw := &fakeCW{alarms: []cwtypes.MetricAlarm{
		metricAlarm("web-cpu", StateOK, "AWS/EC2", "CPUUtilization", "InstanceId", "i-1"),
		math,
		metricAlarm("elsewhere", StateAlarm, "Custom/App", "Latency", "Service", "x"),
	}}
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "not allowed"}
	east := &fakeCW{err: denied}
	r := &Refresher{Graph: g, Clients: func(_ context.Context, a, reg string) (CloudWatch, EC2, error) {
		if reg == "us-east-1" {
			return east, fakeEC2{}, nil
		}
		return cw, fakeEC2{}, nil
	}}
	r.Refresh(ctx)
	health := func(id string) (string, []string) {
		c, _ := g.Lookup(id)
		return c.Health, c.HealthReasons
	}
	if h, why := health("i-1"); h != model.HealthClear || !cmp.Equal(why, []string{"alarm web-cpu: OK", "state: running"}) {
		t.Errorf("instance: %s %v", h, why)
	}
	if h, _ := health(fnARN); h != model.HealthCritical {
		t.Errorf("function: %s", h)
	}
	st := r.Stats()
	if st.Alarms != 3 || st.Mapped != 2 || st.Unmapped != 1 || !cmp.Equal(st.UnmappedAlarms, []string{"elsewhere"}) || st.Changes != 2 {
		t.Errorf("stats %+v", st)
	}
	deniedCalls := 0
	for _, c := range st.Calls {
		if c.Outcome == model.OutcomeDenied && c.Region == "us-east-1" && c.API == "cloudwatch:DescribeAlarms" {
			deniedCalls++
		}
	}
	if deniedCalls != 1 {
		t.Errorf("calls %+v", st.Calls)
	}
	if as := r.AlarmsOf(fnARN); len(as) != 1 || as[0].Name != "fn-error-rate" || as[0].ConsoleURL == "" {
		t.Errorf("alarms of the function: %+v", as)
	}

	// The instance's alarm fires and the instance's checks fail.
	cw.alarms[0].StateValue = StateAlarm
	r.Clients = func(_ context.Context, a, reg string) (CloudWatch, EC2, error) {
		if reg == "us-east-1" {
			return nil, nil, errors.New("no role")
		}
		return cw, fakeEC2{impaired: []string{"i-1"}}, nil
	}
	r.Refresh(ctx)
	h, why := health("i-1")
	if h != model.HealthCritical || !cmp.Equal(why, []string{"alarm web-cpu: ALARM", "state: running", "status checks: impaired"}) {
		t.Errorf("instance: %s %v", h, why)
	}
	if st := r.Stats(); st.Changes != 3 {
		t.Errorf("changes %d", st.Changes)
	}
}

func TestCauseOf(t *testing.T) {
	for _, tt := range []struct {
		old, cur     []string
		cause, actor string
	}{
		{nil, []string{"alarm a: OK"}, "alarm", "a"},
		{[]string{"alarm a: OK", "alarm b: OK"}, []string{"alarm a: OK", "alarm b: ALARM"}, "alarm", "b"},
		{[]string{"state: running"}, []string{"state: stopped"}, "state", ""},
		{[]string{"alarm a: OK"}, nil, "alarm", "a"},
	} {
		if c, a := causeOf(tt.old, tt.cur); c != tt.cause || a != tt.actor {
			t.Errorf("causeOf(%q, %q) = %q, %q", tt.old, tt.cur, c, a)
		}
	}
}

package app

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/model"
)

// A moto-seeded instance and Lambda function show their alarm-driven
// health through the API: an alarm in ALARM makes them CRITICAL, back in
// OK CLEAR, each change a version naming the alarm; a stopped instance is
// DEVIATING; an alarm on dimensions no component has is counted unmapped.
func TestServeHealth(t *testing.T) {
	m, b := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	instance, ok := b.ID("<i:web-1>")
	if !ok {
		t.Fatal("the estate has no <i:web-1>")
	}
	const function = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-api"
	putAlarm := func(name, ns, metric, dim, value string) {
		t.Helper()
		if err := awstest.PutAlarm(ctx, cfg, awstest.Alarm{Name: name, Namespace: ns, Metric: metric, DimName: dim, DimValue: value,
			Threshold: 80}, ""); err != nil {
			t.Fatal(err)
		}
	}
	setState := func(name string, state cwtypes.StateValue) {
		t.Helper()
		if err := awstest.SetAlarmState(ctx, cfg, name, state); err != nil {
			t.Fatal(err)
		}
	}
	putAlarm("web-1-cpu", "AWS/EC2", "CPUUtilization", "InstanceId", instance)
	putAlarm("demo-api-errors", "AWS/Lambda", "Errors", "FunctionName", "skymap-demo-api")
	putAlarm("orphan", "Custom/Shop", "Checkouts", "Shop", "nowhere")
	setState("web-1-cpu", cwtypes.StateValueOk)
	setState("demo-api-errors", cwtypes.StateValueOk)

	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\nhealth: {interval: 1}\n", t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	base := "http://" + addr + "/api/components/"
	wait := func(id, want string) api.ComponentDetail {
		t.Helper()
		var d api.ComponentDetail
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			getJSON(t, base+url.PathEscape(id), &d)
			if d.Component.Health == want {
				return d
			}
		}
		t.Fatalf("%s: health %q %v, want %s", id, d.Component.Health, d.Component.HealthReasons, want)
		return d
	}
	healthVersions := func(d api.ComponentDetail, cause string) []model.Version {
		var out []model.Version
		for _, v := range d.History {
			if v.Cause == cause && strings.Contains(string(v.Diff), `"health"`) {
				out = append(out, v)
			}
		}
		return out
	}

	wait(instance, model.HealthClear)
	d := wait(function, model.HealthClear)
	if len(d.Alarms) != 1 || d.Alarms[0].Name != "demo-api-errors" || d.Alarms[0].State != "OK" {
		t.Errorf("alarms of %s: %+v", function, d.Alarms)
	}

	setState("web-1-cpu", cwtypes.StateValueAlarm)
	setState("demo-api-errors", cwtypes.StateValueAlarm)
	d = wait(instance, model.HealthCritical)
	if !slices.Contains(d.Component.HealthReasons, "alarm web-1-cpu: ALARM") || len(d.Alarms) != 1 ||
		d.Alarms[0].Reason != "set to ALARM by the test estate" || !strings.Contains(d.Alarms[0].ConsoleURL, "#alarmsV2:alarm/web-1-cpu") {
		t.Errorf("%s: reasons %v, alarms %+v", instance, d.Component.HealthReasons, d.Alarms)
	}
	if vs := healthVersions(d, "alarm"); len(vs) < 2 || vs[len(vs)-1].Actor != "web-1-cpu" {
		t.Errorf("%s: health versions %s", instance, brief(vs))
	}
	d = wait(function, model.HealthCritical)
	var list api.ComponentList
	getJSON(t, "http://"+addr+"/api/components?health=critical", &list)
	var ids []string
	for _, c := range list.Components {
		ids = append(ids, c.ID)
	}
	if !slices.Contains(ids, instance) || !slices.Contains(ids, function) {
		t.Errorf("?health=critical lists %v", ids)
	}

	setState("demo-api-errors", cwtypes.StateValueOk)
	d = wait(function, model.HealthClear)
	// The history is oldest first: CLEAR, CRITICAL, CLEAR again.
	if vs := healthVersions(d, "alarm"); len(vs) != 3 || vs[2].Actor != "demo-api-errors" ||
		!strings.Contains(string(vs[2].Diff), `"old": "CRITICAL"`) || !strings.Contains(string(vs[2].Diff), `"new": "CLEAR"`) {
		t.Errorf("%s: health versions %s", function, brief(vs))
	}

	setState("web-1-cpu", cwtypes.StateValueOk)
	wait(instance, model.HealthClear)
	if _, err := ec2.NewFromConfig(cfg).StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{instance}}); err != nil {
		t.Fatal(err)
	}
	d = wait(instance, model.HealthDeviating)
	if !slices.Contains(d.Component.HealthReasons, "state: stopped") || len(healthVersions(d, "state")) == 0 {
		t.Errorf("%s stopped: reasons %v, history %s", instance, d.Component.HealthReasons, brief(d.History))
	}

	var st StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &st)
	if st.Health == nil || st.Health.Alarms != 3 || st.Health.Mapped != 2 || st.Health.Unmapped != 1 ||
		!slices.Equal(st.Health.UnmappedAlarms, []string{"orphan"}) || st.Health.Components[model.HealthDeviating] == 0 {
		t.Errorf("status health %+v", st.Health)
	}
	for _, c := range st.Health.Calls {
		if c.Outcome != model.OutcomeOK {
			t.Errorf("health call %+v", c)
		}
	}
}

// brief renders versions without their states.
func brief(vs []model.Version) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\n  %s cause=%s actor=%s diff=%s", v.Change, v.Cause, v.Actor, strings.Join(strings.Fields(string(v.Diff)), ""))
	}
	return b.String()
}

// A denied cloudwatch:DescribeAlarms makes the account partially
// connected with the action named, and leaves health alone.
func TestServeHealthDenied(t *testing.T) {
	m, _ := estate(t)
	proxy := awstest.NewProxy(t, m.URL)
	proxy.Fail("DescribeAlarms", awstest.Denied("AccessDenied"))
	addr, stop := serve(t, optOut+"  endpoint_url: "+proxy.URL+"\nflowlogs: {enabled: false}\nhealth: {interval: 1}\n", t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	var st StatusDoc
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		getJSON(t, "http://"+addr+"/api/status", &st)
		if st.Health != nil && len(st.Health.Calls) > 0 {
			break
		}
	}
	var acct *AccountStatus
	for i := range st.Accounts {
		if st.Accounts[i].Account == "123456789012" {
			acct = &st.Accounts[i]
		}
	}
	if acct == nil || acct.State != "partially connected" || !slices.Contains(acct.Denied, "cloudwatch:DescribeAlarms") {
		t.Errorf("account state %+v", acct)
	}
	var list api.ComponentList
	getJSON(t, "http://"+addr+"/api/components?health=clear", &list)
	if list.Total != 0 {
		t.Errorf("%d components with health though alarms are denied", list.Total)
	}
}

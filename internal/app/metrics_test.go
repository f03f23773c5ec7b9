package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/model"
)

// A moto-seeded instance and Lambda function show their CloudWatch
// metrics through the API; bad requests are refused with the reason; the
// status counts what was asked and its cost.
func TestServeMetrics(t *testing.T) {
	m, b := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	instance, ok := b.ID("<i:web-1>")
	vpc, ok2 := b.ID("<vpc:prod>")
	if !ok || !ok2 {
		t.Fatal("the estate has no <i:web-1> or <vpc:prod>")
	}
	const function = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-api"
	now := time.Now().UTC().Truncate(time.Minute)
	put := func(ns, name, dim, value string, v float64, ago time.Duration) {
		t.Helper()
		if err := awstest.PutMetrics(ctx, cfg, ns, awstest.Datum(name, dim, value, now.Add(-ago), v)); err != nil {
			t.Fatal(err)
		}
	}
	put("AWS/EC2", "CPUUtilization", "InstanceId", instance, 30, 5*time.Minute)
	put("AWS/EC2", "CPUUtilization", "InstanceId", instance, 50, 3*time.Minute)
	put("AWS/Lambda", "Invocations", "FunctionName", "skymap-demo-api", 7, 4*time.Minute)
	put("AWS/Lambda", "Invocations", "FunctionName", "skymap-demo-api", 5, 4*time.Minute)

	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\nmetrics: {types: [aws.ec2.instance], interval: 1m, tag_labels: [Name, env]}\n", t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})

	// The periodic refresh of the instances' sets, exported as YACE names
	// them, with the Name tag as a label.
	want := `aws_ec2_cpuutilization_average{account_id="123456789012",dimension_InstanceId="` + instance +
		`",name="` + instance + `",region="eu-west-1",tag_Name="web-1",tag_env=""} 50`
	var exposition string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if exposition = string(b); strings.Contains(exposition, want) {
			break
		}
	}
	if !strings.Contains(exposition, want) {
		t.Errorf("/metrics lacks %s; its aws_ lines:\n%s", want, grepLines(exposition, "aws_ec2"))
	}
	base := "http://" + addr + "/api/components/"

	var list api.MetricList
	getJSON(t, base+instance+"/metrics", &list)
	cpu := series(t, list, "CPUUtilization")
	if list.Period != 60 || len(cpu.Values) != 2 || cpu.Values[0] != 30 || cpu.Values[1] != 50 || cpu.Error != "" {
		t.Errorf("CPUUtilization of %s: period %d, %+v", instance, list.Period, cpu)
	}
	if len(list.Series) != len(metrics.SetFor("aws.ec2.instance").Metrics) {
		t.Errorf("%d series, want the whole default set", len(list.Series))
	}
	// The metrics moto lists none of for the instance are answered
	// without being asked for.
	if s := series(t, list, "NetworkIn"); !s.Unlisted || len(s.Values) != 0 {
		t.Errorf("NetworkIn of %s, never put: %+v", instance, s)
	}
	getJSON(t, base+url.PathEscape(function)+"/metrics?period=300&from="+now.Add(-time.Hour).Format(time.RFC3339), &list)
	inv := series(t, list, "Invocations")
	if list.Period != 300 || len(inv.Values) != 1 || inv.Values[0] != 12 || inv.Stat != "Sum" {
		t.Errorf("Invocations of %s: period %d, %+v", function, list.Period, inv)
	}

	for _, tt := range []struct{ path, status, want string }{
		{instance + "/metrics?period=61", "400", "a multiple of 60"},
		{instance + "/metrics?period=60&from=" + now.Add(-48*time.Hour).Format(time.RFC3339), "400", "more than 1440 points"},
		{instance + "/metrics?from=" + now.Format(time.RFC3339) + "&to=" + now.Add(-time.Hour).Format(time.RFC3339), "400", "before to"},
		{instance + "/metrics?to=yesterday", "400", "RFC 3339"},
		{"i-nothere/metrics", "404", "no component"},
		{vpc + "/metrics", "404", "have no CloudWatch metrics"},
	} {
		resp, err := http.Get(base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if !strings.HasPrefix(resp.Status, tt.status) || !strings.Contains(body.Error.Message, tt.want) {
			t.Errorf("GET %s: %s %+v, want %s with %q", tt.path, resp.Status, body.Error, tt.status, tt.want)
		}
	}

	var st StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &st)
	// The two API fetches, beside the periodic ones: what was asked and
	// what the catalog left out.
	if n := int64(len(metrics.SetFor("aws.ec2.instance").Metrics) + len(metrics.SetFor("aws.lambda.function").Metrics)); st.Metrics.Metrics+st.Metrics.Skipped < n ||
		st.Metrics.Skipped < n-2 || st.Metrics.CatalogStats.Calls < 2 ||
		st.Metrics.Calls < 3 || st.Metrics.CostUSD != float64(st.Metrics.Metrics)*metrics.CostPerMetric {
		t.Errorf("status metrics %+v", st.Metrics)
	}
	for _, c := range st.Calls {
		if c.API == "cloudwatch|GetMetricData" && c.Outcome != "ok" {
			t.Errorf("call status %+v", c)
		}
	}

	// Every scanned component of a type with metrics has its dimensions.
	var comps struct {
		Components []model.Component `json:"components"`
	}
	getJSON(t, "http://"+addr+"/api/components?limit=10000", &comps)
	checked := map[string]int{}
	for _, c := range comps.Components {
		if metrics.SetFor(c.Type) == nil {
			continue
		}
		if lbs, _ := c.Data["LoadBalancerArns"].([]any); c.Type == "aws.elb-v2.target-group" && len(lbs) == 0 {
			continue // metrics are per target group and load balancer: none without one
		}
		if _, err := metrics.Queries(&c); err != nil {
			t.Errorf("%v", err)
		}
		checked[c.Type]++
	}
	t.Logf("dimensions of %d types checked: %v", len(checked), checked)
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func series(t *testing.T, l api.MetricList, name string) metrics.Series {
	t.Helper()
	for _, s := range l.Series {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no %s series in %+v", name, l)
	return metrics.Series{}
}

package otlp

import (
	"context"
	"fmt"
	"github.com/skymap/skymap/internal/export/otlp/otlptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/model"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// start runs e until the test ends (or stop is called), and checks that
// Run returns.
func start(t *testing.T, e *Exporter) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return 10 s after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// The map of the tests: an EC2 instance (id not an ARN, the ARN an
// identifier, two tags), a Lambda function (id its ARN) and a global
// CloudFront distribution.
var (
	t0       = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	instance = model.Component{ID: "i-0abc", Type: "aws.ec2.instance", Name: "web-1", Account: "123456789012", Region: "eu-west-1",
		Identifiers: []string{"arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc", "urn:host:/i-0abc"},
		Labels:      []string{"Name:web-1", "aws-account:123456789012", "team:a:b"}}
	function = model.Component{ID: "arn:aws:lambda:eu-west-1:123456789012:function:api", Type: "aws.lambda.function", Name: "api",
		Account: "123456789012", Region: "eu-west-1"}
	distribution = model.Component{ID: "arn:aws:cloudfront::123456789012:distribution/E1", Type: "aws.cloudfront.distribution",
		Name: "E1", Account: "123456789012", Region: "global"}
)

func lookup(id string) (model.Component, bool) {
	for _, c := range []model.Component{instance, function, distribution} {
		if c.ID == id {
			return c, true
		}
	}
	return model.Component{}, false
}

// Every datapoint arrives as a gauge point with its own time and value,
// named aws.<namespace>.<metric>.<statistic>, the dimensions as
// attributes, under its component's resource: account, region (none for a
// global one), ARN, platform, id, type, name and the configured tags; a
// component the map no longer has keeps what the point says.
func TestExportPoints(t *testing.T) {
	rc := otlptest.NewReceiver(t)
	e := New(Options{MetricsURL: rc.URL + "/v1/metrics", Gzip: true, Component: lookup, Tags: []string{"Name", "team", "env"},
		Version: "1.2.3", Linger: time.Millisecond})
	q := func(c, ns, name, stat string, dims ...[2]string) metrics.Query {
		return metrics.Query{Component: c, Account: "123456789012", Region: "eu-west-1", Namespace: ns, Name: name, Stat: stat, Dimensions: dims}
	}
	cpu := q(instance.ID, "AWS/EC2", "CPUUtilization", "Average", [2]string{"InstanceId", "i-0abc"})
	netIn := q(instance.ID, "AWS/EC2", "NetworkIn", "Sum", [2]string{"InstanceId", "i-0abc"})
	inv := q(function.ID, "AWS/Lambda", "Invocations", "Sum", [2]string{"FunctionName", "api"})
	req := q(distribution.ID, "AWS/CloudFront", "Requests", "Sum", [2]string{"DistributionId", "E1"}, [2]string{"Region", "Global"})
	req.Region = "us-east-1" // where CloudFront's metrics are
	gone := q("i-gone", "AWS/EC2", "CPUUtilization", "Average", [2]string{"InstanceId", "i-gone"})
	stop := start(t, e)
	e.ExportPoints([]metrics.Sample{
		{Query: cpu, Time: t0, Value: 12.5}, {Query: cpu, Time: t0.Add(time.Minute), Value: 50},
		{Query: netIn, Time: t0, Value: 1e9}, {Query: inv, Time: t0, Value: 7}, {Query: req, Time: t0, Value: 3},
		{Query: gone, Time: t0, Value: 1},
	})
	waitFor(t, "6 points sent", func() bool { return e.Statuses()[0].Sent >= 6 })
	stop()

	ec2 := map[string]string{"cloud.provider": "aws", "cloud.account.id": "123456789012", "cloud.region": "eu-west-1",
		"cloud.resource_id": "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc", "cloud.platform": "aws_ec2",
		"skymap.component.id": "i-0abc", "skymap.component.type": "aws.ec2.instance", "skymap.component.name": "web-1",
		"aws.tag.Name": "web-1", "aws.tag.team": "a:b"}
	lambda := map[string]string{"cloud.provider": "aws", "cloud.account.id": "123456789012", "cloud.region": "eu-west-1",
		"cloud.resource_id": function.ID, "cloud.platform": "aws_lambda", "skymap.component.id": function.ID,
		"skymap.component.type": "aws.lambda.function", "skymap.component.name": "api"}
	cf := map[string]string{"cloud.provider": "aws", "cloud.account.id": "123456789012", "cloud.resource_id": distribution.ID,
		"skymap.component.id": distribution.ID, "skymap.component.type": "aws.cloudfront.distribution", "skymap.component.name": "E1"}
	unknown := map[string]string{"cloud.provider": "aws", "cloud.account.id": "123456789012", "cloud.region": "eu-west-1",
		"skymap.component.id": "i-gone"}
	want := []otlptest.Point{
		{Resource: ec2, Scope: "skymap@1.2.3", Name: "aws.ec2.cpuutilization.average", Time: t0, Value: 12.5, Attrs: map[string]string{"aws.cloudwatch.dimension.InstanceId": "i-0abc"}},
		{Resource: ec2, Scope: "skymap@1.2.3", Name: "aws.ec2.cpuutilization.average", Time: t0.Add(time.Minute), Value: 50, Attrs: map[string]string{"aws.cloudwatch.dimension.InstanceId": "i-0abc"}},
		{Resource: ec2, Scope: "skymap@1.2.3", Name: "aws.ec2.network_in.sum", Time: t0, Value: 1e9, Attrs: map[string]string{"aws.cloudwatch.dimension.InstanceId": "i-0abc"}},
		{Resource: lambda, Scope: "skymap@1.2.3", Name: "aws.lambda.invocations.sum", Time: t0, Value: 7, Attrs: map[string]string{"aws.cloudwatch.dimension.FunctionName": "api"}},
		{Resource: cf, Scope: "skymap@1.2.3", Name: "aws.cloudfront.requests.sum", Time: t0, Value: 3, Attrs: map[string]string{"aws.cloudwatch.dimension.DistributionId": "E1", "aws.cloudwatch.dimension.Region": "Global"}},
		{Resource: unknown, Scope: "skymap@1.2.3", Name: "aws.ec2.cpuutilization.average", Time: t0, Value: 1, Attrs: map[string]string{"aws.cloudwatch.dimension.InstanceId": "i-gone"}},
	}
	if diff := cmp.Diff(want, rc.Points()); diff != "" {
		t.Errorf("points received (-want +got):\n%s", diff)
	}
	reqs, headers := rc.MetricRequests(), rc.Headers()
	if len(reqs) != 1 || len(reqs[0].ResourceMetrics) != 4 || headers[0].Get("Content-Encoding") != "gzip" ||
		headers[0].Get("User-Agent") != "skymap/1.2.3" {
		t.Errorf("%d requests, the first of %d resources, headers %v; want one gzipped request of 4 resources",
			len(reqs), len(reqs[0].ResourceMetrics), headers[0])
	}
	if st := e.Statuses(); len(st) != 1 || st[0].Signal != "metrics" || st[0].Sent != 6 || st[0].Requests != 1 || st[0].Failed != 0 ||
		st[0].Queued != 0 || st[0].LastSent.IsZero() || st[0].LastError != "" {
		t.Errorf("statuses %+v", st)
	}
}

// Every log event arrives as a log record with its time, the time skymap
// read it, its message as body (valid UTF-8, at most
// logs.MaxMessageBytes: cut messages say so and their size), its group
// and stream, under its component's resource.
func TestExportEvents(t *testing.T) {
	rc := otlptest.NewReceiver(t)
	read := t0.Add(time.Hour)
	e := New(Options{LogsURL: rc.URL + "/v1/logs", Component: lookup, Linger: time.Millisecond, Now: func() time.Time { return read }})
	huge := strings.Repeat("é", logs.MaxMessageBytes) // twice the bound in bytes
	ev := func(sec int, msg string) logs.Event {
		return logs.Event{Timestamp: t0.Add(time.Duration(sec) * time.Second), IngestionTime: t0.Add(time.Duration(sec+1) * time.Second),
			Group: "/aws/lambda/api", Stream: "2026/12/07/[$LATEST]abc", Message: msg}
	}
	cut := ev(3, "already cut")
	cut.Truncated, cut.Size = true, 300000
	stop := start(t, e)
	e.ExportEvents(function.ID, []logs.Event{ev(1, "START RequestId: 1"), ev(2, "bad \xc3\x28 bytes"), cut, ev(4, huge)})
	waitFor(t, "4 records sent", func() bool { return e.Statuses()[0].Sent >= 4 })
	stop()

	res := map[string]string{"cloud.provider": "aws", "cloud.account.id": "123456789012", "cloud.region": "eu-west-1",
		"cloud.resource_id": function.ID, "cloud.platform": "aws_lambda", "skymap.component.id": function.ID,
		"skymap.component.type": "aws.lambda.function", "skymap.component.name": "api"}
	attrs := func(extra ...string) map[string]string {
		m := map[string]string{"aws.log.group.names": "[/aws/lambda/api]", "aws.log.stream.names": "[2026/12/07/[$LATEST]abc]"}
		for i := 0; i < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	got := rc.Records()
	if len(got) == 4 {
		if b := got[3].Body; len(b) > logs.MaxMessageBytes || !strings.HasPrefix(b, "éé") || !strings.HasSuffix(b, "é") {
			t.Errorf("huge body: %d bytes, ends %q", len(b), b[max(0, len(b)-4):])
		}
		got[3].Body = "(checked)"
	}
	want := []otlptest.Record{
		{Resource: res, Time: t0.Add(time.Second), Observed: read, Body: "START RequestId: 1", Attrs: attrs()},
		{Resource: res, Time: t0.Add(2 * time.Second), Observed: read, Body: "bad \uFFFD( bytes", Attrs: attrs("skymap.log.invalid_utf8", "true")},
		{Resource: res, Time: t0.Add(3 * time.Second), Observed: read, Body: "already cut", Attrs: attrs("skymap.log.truncated", "true", "skymap.log.size", "300000")},
		{Resource: res, Time: t0.Add(4 * time.Second), Observed: read, Body: "(checked)", Attrs: attrs("skymap.log.truncated", "true", "skymap.log.size", fmt.Sprint(len(huge)))},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records received (-want +got):\n%s", diff)
	}
	if st := e.Statuses(); len(st) != 1 || st[0].Signal != "logs" || st[0].Sent != 4 || st[0].Failed != 0 {
		t.Errorf("statuses %+v", st)
	}
	if enc := rc.Headers()[0].Get("Content-Encoding"); enc != "" {
		t.Errorf("Content-Encoding %q without gzip", enc)
	}
}

// Each signal goes to its own URL; a signal without one is not exported
// and costs nothing.
func TestSignals(t *testing.T) {
	e := New(Options{LogsURL: "http://127.0.0.1:1/v1/logs"})
	if e.ExportsMetrics() || !e.ExportsLogs() {
		t.Errorf("ExportsMetrics %v, ExportsLogs %v", e.ExportsMetrics(), e.ExportsLogs())
	}
	e.ExportPoints([]metrics.Sample{{Time: t0}})
	if st := e.Statuses(); len(st) != 1 || st[0].Signal != "logs" || st[0].Queued != 0 {
		t.Errorf("statuses %+v", st)
	}
	if st := New(Options{}).Statuses(); len(st) != 0 {
		t.Errorf("statuses of an exporter of nothing: %+v", st)
	}
}

package otlp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	colllogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/model"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receiver is an OTLP/HTTP endpoint for tests: it decodes what arrives
// at /v1/metrics and /v1/logs with the collector's request types and
// answers 200, or what answer says.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	metrics []*collmetricspb.ExportMetricsServiceRequest
	logs    []*colllogspb.ExportLogsServiceRequest
	headers []http.Header
	// answer, when set, answers request n (0-based, of either signal)
	// and returns true, or returns false to let the request be decoded
	// and answered 200.
	answer func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	n := len(rc.headers)
	rc.headers = append(rc.headers, r.Header.Clone())
	answer := rc.answer
	rc.mu.Unlock()
	if answer != nil && answer(n, w, r) {
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-protobuf" {
		rc.t.Errorf("%s %s with Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			rc.t.Errorf("gzip: %v", err)
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		rc.t.Errorf("read body: %v", err)
	}
	var resp proto.Message
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch r.URL.Path {
	case "/v1/metrics":
		req := &collmetricspb.ExportMetricsServiceRequest{}
		err, resp = proto.Unmarshal(b, req), &collmetricspb.ExportMetricsServiceResponse{}
		rc.metrics = append(rc.metrics, req)
	case "/v1/logs":
		req := &colllogspb.ExportLogsServiceRequest{}
		err, resp = proto.Unmarshal(b, req), &colllogspb.ExportLogsServiceResponse{}
		rc.logs = append(rc.logs, req)
	default:
		rc.t.Errorf("POST to %s", r.URL.Path)
	}
	if err != nil {
		rc.t.Errorf("decode %s: %v", r.URL.Path, err)
	}
	out, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// point is a metric point as received, flattened.
type point struct {
	Resource map[string]string
	Scope    string
	Name     string
	Time     time.Time
	Value    float64
	Attrs    map[string]string
}

// points returns the points received, in the order received.
func (rc *receiver) points() []point {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []point
	for _, req := range rc.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					for _, dp := range m.GetGauge().GetDataPoints() {
						out = append(out, point{Resource: attrMap(rm.Resource.GetAttributes()), Scope: sm.Scope.GetName() + "@" + sm.Scope.GetVersion(),
							Name: m.Name, Time: time.Unix(0, int64(dp.TimeUnixNano)).UTC(), Value: dp.GetAsDouble(), Attrs: attrMap(dp.Attributes)})
					}
				}
			}
		}
	}
	return out
}

// record is a log record as received, flattened.
type record struct {
	Resource       map[string]string
	Time, Observed time.Time
	Body           string
	Attrs          map[string]string
}

// records returns the log records received, in the order received.
func (rc *receiver) records() []record {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []record
	for _, req := range rc.logs {
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					out = append(out, record{Resource: attrMap(rl.Resource.GetAttributes()), Time: time.Unix(0, int64(lr.TimeUnixNano)).UTC(),
						Observed: time.Unix(0, int64(lr.ObservedTimeUnixNano)).UTC(), Body: lr.Body.GetStringValue(), Attrs: attrMap(lr.Attributes)})
				}
			}
		}
	}
	return out
}

// attrMap renders attributes as strings: arrays as [a b].
func attrMap(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		if _, dup := out[kv.Key]; dup {
			out[kv.Key] = "DUPLICATE KEY"
			continue
		}
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_BoolValue:
			out[kv.Key] = fmt.Sprint(v.BoolValue)
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = fmt.Sprint(v.IntValue)
		case *commonpb.AnyValue_ArrayValue:
			var s []string
			for _, e := range v.ArrayValue.Values {
				s = append(s, e.GetStringValue())
			}
			out[kv.Key] = fmt.Sprint(s)
		default:
			out[kv.Key] = fmt.Sprintf("%T", kv.Value.Value)
		}
	}
	return out
}

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
	rc := newReceiver(t)
	e := New(Options{MetricsURL: rc.srv.URL + "/v1/metrics", Gzip: true, Component: lookup, Tags: []string{"Name", "team", "env"},
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
	want := []point{
		{ec2, "skymap@1.2.3", "aws.ec2.cpuutilization.average", t0, 12.5, map[string]string{"aws.cloudwatch.dimension.InstanceId": "i-0abc"}},
		{ec2, "skymap@1.2.3", "aws.ec2.cpuutilization.average", t0.Add(time.Minute), 50, map[string]string{"aws.cloudwatch.dimension.InstanceId": "i-0abc"}},
		{ec2, "skymap@1.2.3", "aws.ec2.network_in.sum", t0, 1e9, map[string]string{"aws.cloudwatch.dimension.InstanceId": "i-0abc"}},
		{lambda, "skymap@1.2.3", "aws.lambda.invocations.sum", t0, 7, map[string]string{"aws.cloudwatch.dimension.FunctionName": "api"}},
		{cf, "skymap@1.2.3", "aws.cloudfront.requests.sum", t0, 3,
			map[string]string{"aws.cloudwatch.dimension.DistributionId": "E1", "aws.cloudwatch.dimension.Region": "Global"}},
		{unknown, "skymap@1.2.3", "aws.ec2.cpuutilization.average", t0, 1, map[string]string{"aws.cloudwatch.dimension.InstanceId": "i-gone"}},
	}
	if diff := cmp.Diff(want, rc.points()); diff != "" {
		t.Errorf("points received (-want +got):\n%s", diff)
	}
	rc.mu.Lock()
	if len(rc.metrics) != 1 || len(rc.metrics[0].ResourceMetrics) != 4 || rc.headers[0].Get("Content-Encoding") != "gzip" ||
		rc.headers[0].Get("User-Agent") != "skymap/1.2.3" {
		t.Errorf("%d requests, the first of %d resources, headers %v; want one gzipped request of 4 resources",
			len(rc.metrics), len(rc.metrics[0].ResourceMetrics), rc.headers[0])
	}
	rc.mu.Unlock()
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
	rc := newReceiver(t)
	read := t0.Add(time.Hour)
	e := New(Options{LogsURL: rc.srv.URL + "/v1/logs", Component: lookup, Linger: time.Millisecond, Now: func() time.Time { return read }})
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
	got := rc.records()
	if len(got) == 4 {
		if b := got[3].Body; len(b) > logs.MaxMessageBytes || !strings.HasPrefix(b, "éé") || !strings.HasSuffix(b, "é") {
			t.Errorf("huge body: %d bytes, ends %q", len(b), b[max(0, len(b)-4):])
		}
		got[3].Body = "(checked)"
	}
	want := []record{
		{res, t0.Add(time.Second), read, "START RequestId: 1", attrs()},
		{res, t0.Add(2 * time.Second), read, "bad \uFFFD( bytes", attrs("skymap.log.invalid_utf8", "true")},
		{res, t0.Add(3 * time.Second), read, "already cut", attrs("skymap.log.truncated", "true", "skymap.log.size", "300000")},
		{res, t0.Add(4 * time.Second), read, "(checked)", attrs("skymap.log.truncated", "true", "skymap.log.size", fmt.Sprint(len(huge)))},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records received (-want +got):\n%s", diff)
	}
	if st := e.Statuses(); len(st) != 1 || st[0].Signal != "logs" || st[0].Sent != 4 || st[0].Failed != 0 {
		t.Errorf("statuses %+v", st)
	}
	rc.mu.Lock()
	if enc := rc.headers[0].Get("Content-Encoding"); enc != "" {
		t.Errorf("Content-Encoding %q without gzip", enc)
	}
	rc.mu.Unlock()
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

package app

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	colllogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
)

// otlpSink is an OTLP/HTTP endpoint for tests: it decodes the requests
// with the collector's types and keeps them, with their headers.
type otlpSink struct {
	t       *testing.T
	mu      sync.Mutex
	metrics []*collmetricspb.ExportMetricsServiceRequest
	logs    []*colllogspb.ExportLogsServiceRequest
	headers []http.Header
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			s.t.Errorf("gzip: %v", err)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		s.t.Errorf("read %s: %v", r.URL.Path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.headers = append(s.headers, r.Header.Clone())
	var resp proto.Message
	switch r.URL.Path {
	case "/otlp/v1/metrics":
		req := &collmetricspb.ExportMetricsServiceRequest{}
		err, resp = proto.Unmarshal(b, req), &collmetricspb.ExportMetricsServiceResponse{}
		s.metrics = append(s.metrics, req)
	case "/otlp/v1/logs":
		req := &colllogspb.ExportLogsServiceRequest{}
		err, resp = proto.Unmarshal(b, req), &colllogspb.ExportLogsServiceResponse{}
		s.logs = append(s.logs, req)
	default:
		s.t.Errorf("POST to %s", r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.t.Errorf("decode %s: %v", r.URL.Path, err)
	}
	out, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// sinkAttrs renders attributes as strings, arrays as their first value.
func sinkAttrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		if a := kv.Value.GetArrayValue(); a != nil && len(a.Values) > 0 {
			out[kv.Key] = a.Values[0].GetStringValue()
			continue
		}
		out[kv.Key] = kv.Value.GetStringValue()
	}
	return out
}

// sinkPoint is a metric point received.
type sinkPoint struct {
	resource map[string]string
	name     string
	time     time.Time
	value    float64
}

func (s *otlpSink) points() []sinkPoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sinkPoint
	for _, req := range s.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					for _, dp := range m.GetGauge().GetDataPoints() {
						out = append(out, sinkPoint{sinkAttrs(rm.Resource.Attributes), m.Name, time.Unix(0, int64(dp.TimeUnixNano)).UTC(), dp.GetAsDouble()})
					}
				}
			}
		}
	}
	return out
}

// sinkRecord is a log record received.
type sinkRecord struct {
	resource, attrs map[string]string
	time            time.Time
	body            string
}

func (s *otlpSink) records() []sinkRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sinkRecord
	for _, req := range s.logs {
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					out = append(out, sinkRecord{sinkAttrs(rl.Resource.Attributes), sinkAttrs(lr.Attributes),
						time.Unix(0, int64(lr.TimeUnixNano)).UTC(), lr.Body.GetStringValue()})
				}
			}
		}
	}
	return out
}

// serve exports to a configured OTLP endpoint the CloudWatch datapoints
// of a moto-seeded EC2 instance (PutMetricData) and the line a Lambda
// function logged, each under its component's resource, with the
// configured header, which never shows in the status; a restart on the
// same data dir sends the log line no more.
func TestServeExportsOTLP(t *testing.T) {
	m, b := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	instance, ok := b.ID("<i:web-1>")
	if !ok {
		t.Fatal("the estate has no <i:web-1>")
	}
	const (
		function = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-api"
		group    = "/aws/lambda/skymap-demo-api"
		stream   = "2026/12/07/[$LATEST]otlp"
		apiKey   = "otlp-test-key-0123456789"
	)
	now := time.Now().UTC().Truncate(time.Minute)
	for _, p := range []struct {
		ago time.Duration
		v   float64
	}{{3 * time.Minute, 30}, {2 * time.Minute, 50}} {
		if _, err := metrics.NewClient(cfg).PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"),
			MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("CPUUtilization"), Timestamp: aws.Time(now.Add(-p.ago)), Value: aws.Float64(p.v),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(instance)}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	cl := logs.NewClient(cfg)
	if _, err := cl.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	logged := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := cl.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: []types.InputLogEvent{{Message: aws.String("order 42 paid"), Timestamp: aws.Int64(logged.UnixMilli())}}}); err != nil {
		t.Fatal(err)
	}

	sink := &otlpSink{t: t}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	conf := optOut + "flowlogs: {enabled: false}\nmetrics: {types: [aws.ec2.instance], interval: 1m, tag_labels: [Name]}\n" +
		"logs: {poll_interval: 1}\notlp: {endpoint: '" + srv.URL + "/otlp', headers: {X-Api-Key: " + apiKey + "}}\n"
	dir := t.TempDir()
	addr, stop := serve(t, conf, dir)
	waitScan(t, addr, time.Time{})

	var cpu []sinkPoint
	var lines []sinkRecord
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && (len(cpu) < 2 || len(lines) < 1); time.Sleep(200 * time.Millisecond) {
		cpu = cpu[:0]
		for _, p := range sink.points() {
			if p.name == "aws.ec2.cpuutilization.average" && p.resource["skymap.component.id"] == instance {
				cpu = append(cpu, p)
			}
		}
		lines = lines[:0]
		for _, r := range sink.records() {
			if r.body == "order 42 paid" {
				lines = append(lines, r)
			}
		}
	}
	if len(cpu) != 2 || !cpu[0].time.Equal(now.Add(-3*time.Minute)) || cpu[0].value != 30 || !cpu[1].time.Equal(now.Add(-2*time.Minute)) || cpu[1].value != 50 {
		t.Errorf("CPUUtilization points of %s: %+v, want 30 at -3m and 50 at -2m", instance, cpu)
	} else {
		r := cpu[0].resource
		if r["cloud.provider"] != "aws" || r["cloud.account.id"] != "123456789012" || r["cloud.region"] != "eu-west-1" ||
			r["cloud.resource_id"] != "arn:aws:ec2:eu-west-1:123456789012:instance/"+instance || r["skymap.component.type"] != "aws.ec2.instance" ||
			r["skymap.component.name"] != "web-1" || r["aws.tag.Name"] != "web-1" || r["cloud.platform"] != "aws_ec2" {
			t.Errorf("resource of the instance's points: %v", r)
		}
	}
	if len(lines) != 1 || !lines[0].time.Equal(logged) || lines[0].attrs["aws.log.group.names"] != group || lines[0].attrs["aws.log.stream.names"] != stream ||
		lines[0].resource["cloud.resource_id"] != function || lines[0].resource["skymap.component.type"] != "aws.lambda.function" {
		t.Errorf("records of the logged line: %+v", lines)
	}
	sink.mu.Lock()
	for i, h := range sink.headers {
		if h.Get("X-Api-Key") != apiKey {
			t.Errorf("request %d without the configured header: %v", i, h)
		}
	}
	sink.mu.Unlock()

	resp, err := http.Get("http://" + addr + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var st StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &st)
	if strings.Contains(string(raw), apiKey) || len(st.OTLP) != 2 || st.OTLP[0].Signal != "metrics" || st.OTLP[0].Sent < 2 ||
		st.OTLP[0].URL != srv.URL+"/otlp/v1/metrics" || st.OTLP[1].Signal != "logs" || st.OTLP[1].Sent < 1 || st.OTLP[1].Failed != 0 {
		t.Errorf("status otlp %+v", st.OTLP)
	}
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), `skymap_otlp_sent_total{signal="logs"}`) {
		t.Errorf("/metrics lacks skymap_otlp_sent_total: %s", grepLines(string(raw), "skymap_otlp"))
	}
	stop()

	// A restart on the same data dir: the tail resumes from its cursor and
	// reads the line again within its overlap, but does not send it.
	sent := len(sink.records())
	addr, stop = serve(t, conf, dir)
	defer stop()
	restarted := time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		getJSON(t, "http://"+addr+"/api/status", &st)
		if len(st.Logs) > 0 && st.Logs[0].LastPoll.After(restarted.Add(2*time.Second)) {
			break
		}
	}
	if len(st.Logs) == 0 || !st.Logs[0].LastPoll.After(restarted) {
		t.Fatalf("the tail did not poll after the restart: %+v", st.Logs)
	}
	time.Sleep(2 * time.Second) // past the exporter's linger
	if got := sink.records(); len(got) != sent {
		t.Errorf("%d log records after the restart, %d before: the line was sent again: %+v", len(got), sent, got[sent:])
	}
}

package app

import (
	"context"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/export/otlp/otlptest"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

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
	if err := awstest.PutMetrics(ctx, cfg, "AWS/EC2", awstest.Datum("CPUUtilization", "InstanceId", instance, now.Add(-3*time.Minute), 30),
		awstest.Datum("CPUUtilization", "InstanceId", instance, now.Add(-2*time.Minute), 50)); err != nil {
		t.Fatal(err)
	}
	logged := time.Now().UTC().Truncate(time.Millisecond)
	if err := awstest.PutLogs(ctx, cfg, group, stream, awstest.LogLine{At: logged, Message: "order 42 paid"}); err != nil {
		t.Fatal(err)
	}

	sink := otlptest.NewReceiver(t)
	conf := optOut + "flowlogs: {enabled: false}\nmetrics: {types: [aws.ec2.instance], interval: 1m, tag_labels: [Name]}\n" +
		"logs: {poll_interval: 1}\notlp: {endpoint: '" + sink.URL + "/otlp', headers: {X-Api-Key: " + apiKey + "}}\n"
	dir := t.TempDir()
	addr, stop := serve(t, conf, dir)
	waitScan(t, addr, time.Time{})

	var cpu []otlptest.Point
	var lines []otlptest.Record
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && (len(cpu) < 2 || len(lines) < 1); time.Sleep(200 * time.Millisecond) {
		cpu = cpu[:0]
		for _, p := range sink.Points() {
			if p.Name == "aws.ec2.cpuutilization.average" && p.Resource["skymap.component.id"] == instance {
				cpu = append(cpu, p)
			}
		}
		lines = lines[:0]
		for _, r := range sink.Records() {
			if r.Body == "order 42 paid" {
				lines = append(lines, r)
			}
		}
	}
	if len(cpu) != 2 || !cpu[0].Time.Equal(now.Add(-3*time.Minute)) || cpu[0].Value != 30 || !cpu[1].Time.Equal(now.Add(-2*time.Minute)) || cpu[1].Value != 50 {
		t.Errorf("CPUUtilization points of %s: %+v, want 30 at -3m and 50 at -2m", instance, cpu)
	} else {
		r := cpu[0].Resource
		if r["cloud.provider"] != "aws" || r["cloud.account.id"] != "123456789012" || r["cloud.region"] != "eu-west-1" ||
			r["cloud.resource_id"] != "arn:aws:ec2:eu-west-1:123456789012:instance/"+instance || r["skymap.component.type"] != "aws.ec2.instance" ||
			r["skymap.component.name"] != "web-1" || r["aws.tag.Name"] != "web-1" || r["cloud.platform"] != "aws_ec2" {
			t.Errorf("resource of the instance's points: %v", r)
		}
	}
	if len(lines) != 1 || !lines[0].Time.Equal(logged) || lines[0].Attrs["aws.log.group.names"] != "["+group+"]" || lines[0].Attrs["aws.log.stream.names"] != "["+stream+"]" ||
		lines[0].Resource["cloud.resource_id"] != function || lines[0].Resource["skymap.component.type"] != "aws.lambda.function" {
		t.Errorf("records of the logged line: %+v", lines)
	}
	for i, h := range sink.Headers() {
		if h.Get("X-Api-Key") != apiKey {
			t.Errorf("request %d without the configured header: %v", i, h)
		}
	}

	resp, err := http.Get("http://" + addr + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var st StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &st)
	if strings.Contains(string(raw), apiKey) || len(st.OTLP) != 2 || st.OTLP[0].Signal != "metrics" || st.OTLP[0].Sent < 2 ||
		st.OTLP[0].URL != sink.URL+"/otlp/v1/metrics" || st.OTLP[1].Signal != "logs" || st.OTLP[1].Sent < 1 || st.OTLP[1].Failed != 0 {
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
	sent := len(sink.Records())
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
	if got := sink.Records(); len(got) != sent {
		t.Errorf("%d log records after the restart, %d before: the line was sent again: %+v", len(got), sent, got[sent:])
	}
}

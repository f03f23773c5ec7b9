package selfmetrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/events"
	"github.com/skymap/skymap/internal/model"
)

type fakeGraph struct{ components, relations, pending int }

func (g fakeGraph) Len() int           { return g.components }
func (g fakeGraph) RelationCount() int { return g.relations }
func (g fakeGraph) PendingCount() int  { return g.pending }

func TestMetrics(t *testing.T) {
	m := New("v1.2.3")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m.ObserveScan(Scan{Started: t0, Finished: t0.Add(2 * time.Second),
		Scopes: map[Scope]bool{{"111111111111", "eu-west-1"}: true}})
	// A second scan forgets the first's scopes.
	m.ObserveScan(Scan{Started: t0, Finished: t0.Add(40 * time.Second),
		Scopes: map[Scope]bool{{"123456789012", "eu-west-1"}: false, {"123456789012", "global"}: true}})
	m.ObserveCall(awsconn.Call{Service: "ec2", Operation: "DescribeInstances", Outcome: model.OutcomeOK, Attempts: 1})
	m.ObserveCall(awsconn.Call{Service: "ec2", Operation: "DescribeInstances", Outcome: model.OutcomeThrottled, Attempts: 10})
	m.ObserveCall(awsconn.Call{Service: "iam", Operation: "ListRoles", Outcome: model.OutcomeDenied, Attempts: 1})
	m.ObserveEventDelay(90 * time.Second)
	m.ObserveFlowObject("s3://flows", FlowObject{Bytes: 1000, Records: 20, Malformed: 1, Rollups: 5,
		LastModified: t0, Committed: t0.Add(3 * time.Minute)})
	m.ObserveFlowObject("s3://flows", FlowObject{Bytes: 500, Records: 10, Rollups: 2}) // no LastModified: no delay
	m.WatchGraph(fakeGraph{components: 7, relations: 9, pending: 2})
	m.WatchEvents(func() events.Stats {
		return events.Stats{Events: 5, Applied: 3, Unmapped: 1, Failed: 1, Versions: 4, Refreshes: 2}
	})

	want := `
# HELP skymap_aws_api_calls_total AWS API calls, after their last retry, by outcome: ok, denied, throttled or failed.
# TYPE skymap_aws_api_calls_total counter
skymap_aws_api_calls_total{operation="DescribeInstances",outcome="ok",service="ec2"} 1
skymap_aws_api_calls_total{operation="DescribeInstances",outcome="throttled",service="ec2"} 1
skymap_aws_api_calls_total{operation="ListRoles",outcome="denied",service="iam"} 1
# HELP skymap_aws_api_retries_total AWS API call attempts beyond each call's first.
# TYPE skymap_aws_api_retries_total counter
skymap_aws_api_retries_total{operation="DescribeInstances",service="ec2"} 9
# HELP skymap_build_info Always 1; the version label is skymap's.
# TYPE skymap_build_info gauge
skymap_build_info{version="v1.2.3"} 1
# HELP skymap_components Components in the map.
# TYPE skymap_components gauge
skymap_components 7
# HELP skymap_events_applied_total Change events whose changes were committed to the map.
# TYPE skymap_events_applied_total counter
skymap_events_applied_total 3
# HELP skymap_events_failed_total Change events whose re-describe met a problem; the next full scan repairs what they missed.
# TYPE skymap_events_failed_total counter
skymap_events_failed_total 1
# HELP skymap_events_received_total Change events handled, whatever became of them.
# TYPE skymap_events_received_total counter
skymap_events_received_total 5
# HELP skymap_events_unmapped_total Change events skymap has no mapping for.
# TYPE skymap_events_unmapped_total counter
skymap_events_unmapped_total 1
# HELP skymap_flowlog_malformed_lines_total Flow-log lines skipped as malformed.
# TYPE skymap_flowlog_malformed_lines_total counter
skymap_flowlog_malformed_lines_total{source="s3://flows"} 1
# HELP skymap_flowlog_object_bytes_total Bytes of the flow-log objects committed, as stored in S3.
# TYPE skymap_flowlog_object_bytes_total counter
skymap_flowlog_object_bytes_total{source="s3://flows"} 1500
# HELP skymap_flowlog_objects_total Flow-log objects committed.
# TYPE skymap_flowlog_objects_total counter
skymap_flowlog_objects_total{source="s3://flows"} 2
# HELP skymap_flowlog_records_total Flow-log records read from the objects committed.
# TYPE skymap_flowlog_records_total counter
skymap_flowlog_records_total{source="s3://flows"} 30
# HELP skymap_flowlog_rollups_total Per-minute traffic rollups made from flow-log records.
# TYPE skymap_flowlog_rollups_total counter
skymap_flowlog_rollups_total{source="s3://flows"} 7
# HELP skymap_pending_relations Relations waiting for an end not seen yet.
# TYPE skymap_pending_relations gauge
skymap_pending_relations 2
# HELP skymap_relations Relations in the map with both ends known.
# TYPE skymap_relations gauge
skymap_relations 9
# HELP skymap_scan_last_end_timestamp_seconds When the last full scan ended, in seconds since the epoch.
# TYPE skymap_scan_last_end_timestamp_seconds gauge
skymap_scan_last_end_timestamp_seconds 1.767323085e+09
# HELP skymap_scan_last_success 1 when the last full scan met no problem in an account and region, else 0.
# TYPE skymap_scan_last_success gauge
skymap_scan_last_success{account="123456789012",region="eu-west-1"} 1
skymap_scan_last_success{account="123456789012",region="global"} 0
`
	names := []string{"skymap_aws_api_calls_total", "skymap_aws_api_retries_total", "skymap_build_info",
		"skymap_components", "skymap_relations", "skymap_pending_relations",
		"skymap_events_applied_total", "skymap_events_failed_total", "skymap_events_received_total", "skymap_events_unmapped_total",
		"skymap_flowlog_malformed_lines_total", "skymap_flowlog_object_bytes_total", "skymap_flowlog_objects_total",
		"skymap_flowlog_records_total", "skymap_flowlog_rollups_total",
		"skymap_scan_last_end_timestamp_seconds", "skymap_scan_last_success"}
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	for name, count := range map[string]int{
		"skymap_scan_duration_seconds": 2, "skymap_event_delay_seconds": 1, "skymap_flowlog_object_delay_seconds": 1,
	} {
		if n := histogramCount(t, m, name); n != count {
			t.Errorf("%s count = %d, want %d", name, n, count)
		}
	}
	if problems, err := testutil.GatherAndLint(m.reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

func histogramCount(t *testing.T, m *Metrics, name string) int {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			n := 0
			for _, x := range mf.GetMetric() {
				n += int(x.GetHistogram().GetSampleCount())
			}
			return n
		}
	}
	return 0
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(New("dev").Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`skymap_build_info{version="dev"} 1`, "go_goroutines ", "process_start_time_seconds "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

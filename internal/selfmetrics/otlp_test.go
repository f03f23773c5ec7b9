package selfmetrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/skymap/skymap/internal/export/otlp"
)

func TestWatchOTLP(t *testing.T) {
	m := New("v1")
	m.WatchOTLP(func() []otlp.Status {
		return []otlp.Status{
			{Signal: "metrics", Sent: 10, Rejected: 1, Failed: 2, Dropped: 3, Requests: 4, Retries: 5, Queued: 6, LastError: "x"},
			{Signal: "logs", Sent: 7},
		}
	})
	want := `
# HELP skymap_otlp_dropped_total Points or log records dropped, oldest first, from a full OTLP export queue.
# TYPE skymap_otlp_dropped_total counter
skymap_otlp_dropped_total{signal="logs"} 0
skymap_otlp_dropped_total{signal="metrics"} 3
# HELP skymap_otlp_failed_total Points or log records of OTLP requests that failed for good or ran out of retries.
# TYPE skymap_otlp_failed_total counter
skymap_otlp_failed_total{signal="logs"} 0
skymap_otlp_failed_total{signal="metrics"} 2
# HELP skymap_otlp_queued Points or log records waiting to be sent over OTLP.
# TYPE skymap_otlp_queued gauge
skymap_otlp_queued{signal="logs"} 0
skymap_otlp_queued{signal="metrics"} 6
# HELP skymap_otlp_rejected_total Points or log records the OTLP endpoint rejected in partial successes.
# TYPE skymap_otlp_rejected_total counter
skymap_otlp_rejected_total{signal="logs"} 0
skymap_otlp_rejected_total{signal="metrics"} 1
# HELP skymap_otlp_requests_total OTLP export requests, retries included.
# TYPE skymap_otlp_requests_total counter
skymap_otlp_requests_total{signal="logs"} 0
skymap_otlp_requests_total{signal="metrics"} 4
# HELP skymap_otlp_retries_total OTLP export requests that were retries.
# TYPE skymap_otlp_retries_total counter
skymap_otlp_retries_total{signal="logs"} 0
skymap_otlp_retries_total{signal="metrics"} 5
# HELP skymap_otlp_sent_total Points or log records the OTLP endpoint accepted.
# TYPE skymap_otlp_sent_total counter
skymap_otlp_sent_total{signal="logs"} 7
skymap_otlp_sent_total{signal="metrics"} 10
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want),
		"skymap_otlp_sent_total", "skymap_otlp_rejected_total", "skymap_otlp_failed_total", "skymap_otlp_dropped_total",
		"skymap_otlp_requests_total", "skymap_otlp_retries_total", "skymap_otlp_queued"); err != nil {
		t.Error(err)
	}
}

package selfmetrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/skymap/skymap/internal/export/stackstate"
)

func TestWatchStackState(t *testing.T) {
	m := New("dev")
	st := stackstate.Status{Pushes: 4, Failures: 1, Posts: 9, Retries: 2, SentBytes: 12345}
	m.WatchStackState(func() stackstate.Status { return st })
	want := `
# HELP skymap_stackstate_last_success_timestamp_seconds When the last push to StackState without error started, in seconds since the epoch; 0 before one.
# TYPE skymap_stackstate_last_success_timestamp_seconds gauge
skymap_stackstate_last_success_timestamp_seconds 0
# HELP skymap_stackstate_post_retries_total POSTs to the StackState receiver tried again after a connection error, 429 or 5xx.
# TYPE skymap_stackstate_post_retries_total counter
skymap_stackstate_post_retries_total 2
# HELP skymap_stackstate_posts_total POSTs the StackState receiver took.
# TYPE skymap_stackstate_posts_total counter
skymap_stackstate_posts_total 9
# HELP skymap_stackstate_push_failures_total Pushes to StackState that met an error; the next push sends everything again.
# TYPE skymap_stackstate_push_failures_total counter
skymap_stackstate_push_failures_total 1
# HELP skymap_stackstate_pushes_total Pushes of the map to StackState, failed ones included.
# TYPE skymap_stackstate_pushes_total counter
skymap_stackstate_pushes_total 4
# HELP skymap_stackstate_sent_bytes_total Bytes of the POSTs the StackState receiver took, as sent (compressed when compress is on).
# TYPE skymap_stackstate_sent_bytes_total counter
skymap_stackstate_sent_bytes_total 12345
`
	names := []string{"skymap_stackstate_last_success_timestamp_seconds", "skymap_stackstate_post_retries_total",
		"skymap_stackstate_posts_total", "skymap_stackstate_push_failures_total", "skymap_stackstate_pushes_total",
		"skymap_stackstate_sent_bytes_total"}
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	st.LastSuccess = time.Unix(1700000000, 500_000_000)
	want = strings.Replace(want, "skymap_stackstate_last_success_timestamp_seconds 0", "skymap_stackstate_last_success_timestamp_seconds 1.7000000005e+09", 1)
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(m.reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

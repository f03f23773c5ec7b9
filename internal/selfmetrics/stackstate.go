package selfmetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skymap/skymap/internal/export/stackstate"
)

// stackStateMetrics are the metrics of the push to StackState, each read
// from a field of stackstate.Status.
var stackStateMetrics = []struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(stackstate.Status) float64
}{
	{prometheus.NewDesc("skymap_stackstate_pushes_total",
		"Pushes of the map to StackState, failed ones included.", nil, nil),
		prometheus.CounterValue, func(s stackstate.Status) float64 { return float64(s.Pushes) }},
	{prometheus.NewDesc("skymap_stackstate_push_failures_total",
		"Pushes to StackState that met an error; the next push sends everything again.", nil, nil),
		prometheus.CounterValue, func(s stackstate.Status) float64 { return float64(s.Failures) }},
	{prometheus.NewDesc("skymap_stackstate_posts_total",
		"POSTs the StackState receiver took.", nil, nil),
		prometheus.CounterValue, func(s stackstate.Status) float64 { return float64(s.Posts) }},
	{prometheus.NewDesc("skymap_stackstate_post_retries_total",
		"POSTs to the StackState receiver tried again after a connection error, 429 or 5xx.", nil, nil),
		prometheus.CounterValue, func(s stackstate.Status) float64 { return float64(s.Retries) }},
	{prometheus.NewDesc("skymap_stackstate_sent_bytes_total",
		"Bytes of the POSTs the StackState receiver took, as sent (compressed when compress is on).", nil, nil),
		prometheus.CounterValue, func(s stackstate.Status) float64 { return float64(s.SentBytes) }},
	{prometheus.NewDesc("skymap_stackstate_last_success_timestamp_seconds",
		"When the last push to StackState without error started, in seconds since the epoch; 0 before one.", nil, nil),
		prometheus.GaugeValue, func(s stackstate.Status) float64 {
			if s.LastSuccess.IsZero() {
				return 0
			}
			return float64(s.LastSuccess.UnixNano()) / 1e9
		}},
}

// WatchStackState adds the metrics of the push to StackState, read from
// status at each scrape (stackstate.Pusher.Status).
func (m *Metrics) WatchStackState(status func() stackstate.Status) {
	m.reg.MustRegister(stackStateCollector{status})
}

// stackStateCollector reads the push's metrics at each scrape.
type stackStateCollector struct{ status func() stackstate.Status }

func (stackStateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range stackStateMetrics {
		ch <- s.desc
	}
}

func (c stackStateCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.status()
	for _, s := range stackStateMetrics {
		ch <- prometheus.MustNewConstMetric(s.desc, s.kind, s.value(st))
	}
}

package selfmetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skymap/skymap/internal/export/otlp"
)

// otlpMetrics are the metrics of the OTLP export, each from a field of
// otlp.Status, labelled by signal (metrics or logs).
var otlpMetrics = []struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(otlp.Status) float64
}{
	{prometheus.NewDesc("skymap_otlp_sent_total",
		"Points or log records the OTLP endpoint accepted.", []string{"signal"}, nil),
		prometheus.CounterValue, func(s otlp.Status) float64 { return float64(s.Sent) }},
	{prometheus.NewDesc("skymap_otlp_rejected_total",
		"Points or log records the OTLP endpoint rejected in partial successes.", []string{"signal"}, nil),
		prometheus.CounterValue, func(s otlp.Status) float64 { return float64(s.Rejected) }},
	{prometheus.NewDesc("skymap_otlp_failed_total",
		"Points or log records of OTLP requests that failed for good or ran out of retries.", []string{"signal"}, nil),
		prometheus.CounterValue, func(s otlp.Status) float64 { return float64(s.Failed) }},
	{prometheus.NewDesc("skymap_otlp_dropped_total",
		"Points or log records dropped, oldest first, from a full OTLP export queue.", []string{"signal"}, nil),
		prometheus.CounterValue, func(s otlp.Status) float64 { return float64(s.Dropped) }},
	{prometheus.NewDesc("skymap_otlp_requests_total",
		"OTLP export requests, retries included.", []string{"signal"}, nil),
		prometheus.CounterValue, func(s otlp.Status) float64 { return float64(s.Requests) }},
	{prometheus.NewDesc("skymap_otlp_retries_total",
		"OTLP export requests that were retries.", []string{"signal"}, nil),
		prometheus.CounterValue, func(s otlp.Status) float64 { return float64(s.Retries) }},
	{prometheus.NewDesc("skymap_otlp_queued",
		"Points or log records waiting to be sent over OTLP.", []string{"signal"}, nil),
		prometheus.GaugeValue, func(s otlp.Status) float64 { return float64(s.Queued) }},
}

// otlpCollector reads the OTLP export's statuses at each scrape.
type otlpCollector struct{ statuses func() []otlp.Status }

func (otlpCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range otlpMetrics {
		ch <- m.desc
	}
}

func (c otlpCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.statuses() {
		for _, m := range otlpMetrics {
			ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(s), s.Signal)
		}
	}
}

// WatchOTLP exports the counts of the OTLP export (otlp.Exporter.Statuses)
// at each scrape, per signal.
func (m *Metrics) WatchOTLP(statuses func() []otlp.Status) {
	m.reg.MustRegister(otlpCollector{statuses})
}

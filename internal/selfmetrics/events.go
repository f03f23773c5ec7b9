package selfmetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skymap/skymap/internal/collect/events"
)

// eventCounters are the counters of change events, each a field of
// events.Stats. They overlap: an event counted failed (its refresh met a
// problem) is counted applied too when what could be read was committed.
var eventCounters = []struct {
	desc  *prometheus.Desc
	value func(events.Stats) int
}{
	{prometheus.NewDesc("skymap_events_received_total",
		"Change events handled, whatever became of them.", nil, nil),
		func(s events.Stats) int { return s.Events }},
	{prometheus.NewDesc("skymap_events_applied_total",
		"Change events whose changes were committed to the map.", nil, nil),
		func(s events.Stats) int { return s.Applied }},
	{prometheus.NewDesc("skymap_events_failed_total",
		"Change events whose re-describe met a problem; the next full scan repairs what they missed.", nil, nil),
		func(s events.Stats) int { return s.Failed }},
	{prometheus.NewDesc("skymap_events_unmapped_total",
		"Change events skymap has no mapping for.", nil, nil),
		func(s events.Stats) int { return s.Unmapped }},
	{prometheus.NewDesc("skymap_events_not_monitored_total",
		"Change events of accounts or regions no instance monitors.", nil, nil),
		func(s events.Stats) int { return s.NotMonitored }},
	{prometheus.NewDesc("skymap_event_versions_total",
		"Versions of components and relations that change events wrote.", nil, nil),
		func(s events.Stats) int { return s.Versions }},
	{prometheus.NewDesc("skymap_event_refreshes_total",
		"Targeted re-describes that change events took (one per account and region of a batch).", nil, nil),
		func(s events.Stats) int { return s.Refreshes }},
}

// eventCollector reads the change-event counters at each scrape.
type eventCollector struct{ stats func() events.Stats }

func (eventCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range eventCounters {
		ch <- c.desc
	}
}

func (e eventCollector) Collect(ch chan<- prometheus.Metric) {
	s := e.stats()
	for _, c := range eventCounters {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.value(s)))
	}
}

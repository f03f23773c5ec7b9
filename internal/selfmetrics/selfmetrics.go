// Package selfmetrics keeps skymap's own Prometheus metrics: full scans,
// AWS API calls by outcome, change events, flow-log objects, the OTLP
// export, the size of the map, and the Go runtime's and the process's.
// Names begin with skymap_ and follow Prometheus's conventions (base units
// in the name, _total for counters). Labels stay few: service, operation,
// outcome, account, region, flow-log source and OTLP signal, never object
// keys or resource ids.
package selfmetrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/events"
)

// Metrics are skymap's own metrics, on a registry of their own. Its
// methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	scanDuration prometheus.Histogram
	scanEnd      prometheus.Gauge
	scanSuccess  *prometheus.GaugeVec

	awsCalls   *prometheus.CounterVec
	awsRetries *prometheus.CounterVec

	eventDelay prometheus.Histogram

	flowObjects   *prometheus.CounterVec
	flowBytes     *prometheus.CounterVec
	flowRecords   *prometheus.CounterVec
	flowMalformed *prometheus.CounterVec
	flowRollups   *prometheus.CounterVec
	flowDelay     *prometheus.HistogramVec
}

// delayBuckets suit delays from seconds (a queue) to an hour (CloudTrail
// is up to 15 minutes late, Firehose buffers, flow logs are written every
// 1 or 10 minutes).
var delayBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600}

// New returns the metrics of a skymap of the given version, with the Go
// runtime's and the process's.
func New(version string) *Metrics {
	source := []string{"source"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		scanDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skymap_scan_duration_seconds",
			Help:    "How long full scans took.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600},
		}),
		scanEnd: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skymap_scan_last_end_timestamp_seconds",
			Help: "When the last full scan ended, in seconds since the epoch.",
		}),
		scanSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skymap_scan_last_success",
			Help: "1 when the last full scan met no problem in an account and region, else 0.",
		}, []string{"account", "region"}),
		awsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skymap_aws_api_calls_total",
			Help: "AWS API calls, after their last retry, by outcome: ok, denied, throttled or failed.",
		}, []string{"service", "operation", "outcome"}),
		awsRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skymap_aws_api_retries_total",
			Help: "AWS API call attempts beyond each call's first.",
		}, []string{"service", "operation"}),
		eventDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skymap_event_delay_seconds",
			Help:    "Time from a change event to the commit of its changes.",
			Buckets: delayBuckets,
		}),
		flowObjects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skymap_flowlog_objects_total",
			Help: "Flow-log objects committed.",
		}, source),
		flowBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skymap_flowlog_object_bytes_total",
			Help: "Bytes of the flow-log objects committed, as stored in S3.",
		}, source),
		flowRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skymap_flowlog_records_total",
			Help: "Flow-log records read from the objects committed.",
		}, source),
		flowMalformed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skymap_flowlog_malformed_lines_total",
			Help: "Flow-log lines skipped as malformed.",
		}, source),
		flowRollups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skymap_flowlog_rollups_total",
			Help: "Per-minute traffic rollups made from flow-log records.",
		}, source),
		flowDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "skymap_flowlog_object_delay_seconds",
			Help:    "Time from a flow-log object's last modification in S3 to its commit.",
			Buckets: delayBuckets,
		}, source),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "skymap_build_info",
		Help:        "Always 1; the version label is skymap's.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build,
		m.scanDuration, m.scanEnd, m.scanSuccess,
		m.awsCalls, m.awsRetries,
		m.eventDelay,
		m.flowObjects, m.flowBytes, m.flowRecords, m.flowMalformed, m.flowRollups, m.flowDelay,
	)
	return m
}

// Handler serves the metrics in Prometheus's exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Scope is an account and region.
type Scope struct{ Account, Region string }

// Scan is what ObserveScan takes of a full scan.
type Scan struct {
	Started, Finished time.Time
	// Scopes are the accounts and regions the scan reached, true where
	// it met a problem (a listing incomplete, a call denied or failed).
	Scopes map[Scope]bool
}

// ObserveScan records a full scan. The scopes of an earlier scan that
// this one did not reach are forgotten.
func (m *Metrics) ObserveScan(s Scan) {
	m.scanDuration.Observe(s.Finished.Sub(s.Started).Seconds())
	m.scanEnd.Set(float64(s.Finished.UnixNano()) / 1e9)
	m.scanSuccess.Reset()
	for sc, problem := range s.Scopes {
		ok := 1.0
		if problem {
			ok = 0
		}
		m.scanSuccess.WithLabelValues(sc.Account, sc.Region).Set(ok)
	}
}

// ObserveCall counts an AWS API call; it is an awsconn.Options.OnCall.
func (m *Metrics) ObserveCall(c awsconn.Call) {
	m.awsCalls.WithLabelValues(c.Service, c.Operation, c.Outcome).Inc()
	if c.Attempts > 1 {
		m.awsRetries.WithLabelValues(c.Service, c.Operation).Add(float64(c.Attempts - 1))
	}
}

// ObserveEventDelay records the delay of an applied change event; it is
// an events.Updater.ObserveDelay.
func (m *Metrics) ObserveEventDelay(d time.Duration) { m.eventDelay.Observe(d.Seconds()) }

// FlowObject is what ObserveFlowObject takes of a committed flow-log object.
type FlowObject struct {
	// Bytes is its size in S3; Records, Malformed and Rollups count what
	// was read, skipped and rolled up.
	Bytes, Records, Malformed, Rollups int64
	// LastModified is S3's, zero when unknown (then no delay is recorded).
	LastModified, Committed time.Time
}

// ObserveFlowObject records a committed flow-log object of a source
// ("s3://<bucket>" or a queue URL).
func (m *Metrics) ObserveFlowObject(source string, o FlowObject) {
	m.flowObjects.WithLabelValues(source).Inc()
	m.flowBytes.WithLabelValues(source).Add(float64(o.Bytes))
	m.flowRecords.WithLabelValues(source).Add(float64(o.Records))
	m.flowMalformed.WithLabelValues(source).Add(float64(o.Malformed))
	m.flowRollups.WithLabelValues(source).Add(float64(o.Rollups))
	if !o.LastModified.IsZero() {
		m.flowDelay.WithLabelValues(source).Observe(o.Committed.Sub(o.LastModified).Seconds())
	}
}

// Graph is what the map's gauges read at each scrape; *topology.Graph is one.
type Graph interface {
	Len() int
	RelationCount() int
	PendingCount() int
}

// WatchGraph adds gauges of the map's size, read from g at each scrape.
func (m *Metrics) WatchGraph(g Graph) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skymap_components", Help: "Components in the map.",
		}, func() float64 { return float64(g.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skymap_relations", Help: "Relations in the map with both ends known.",
		}, func() float64 { return float64(g.RelationCount()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skymap_pending_relations", Help: "Relations waiting for an end not seen yet.",
		}, func() float64 { return float64(g.PendingCount()) }),
	)
}

// WatchEvents adds the change-event counters, read from stats at each
// scrape (events.Updater.Stats).
func (m *Metrics) WatchEvents(stats func() events.Stats) {
	m.reg.MustRegister(eventCollector{stats})
}

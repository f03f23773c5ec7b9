package app

import (
	"log/slog"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/export/otlp"
	"github.com/skymap/skymap/internal/selfmetrics"
	"github.com/skymap/skymap/internal/topology"
)

// newOTLPExporter returns serve's OTLP exporter, nil when the otlp section
// sets no endpoint. It is given every datapoint the refresher fetches and
// every event the tail (nil when logs are off) reads; its resources are
// the map's components, with the tags of metrics.tag_labels; its counts
// go to met.
func newOTLPExporter(cfg *config.Config, g *topology.Graph, version string, log *slog.Logger, met *selfmetrics.Metrics,
	refresher *metrics.Refresher, tail *logs.Tail) *otlp.Exporter {
	if !cfg.OTLP.Enabled() {
		return nil
	}
	log = log.With("exporter", "otlp")
	headers := make(map[string]string, len(cfg.OTLP.Headers))
	for k, v := range cfg.OTLP.Headers {
		headers[k] = v.Reveal()
	}
	e := otlp.New(otlp.Options{MetricsURL: cfg.OTLP.MetricsURL, LogsURL: cfg.OTLP.LogsURL, Headers: headers, Gzip: cfg.OTLP.Gzip,
		Timeout: cfg.OTLP.Timeout, QueueSize: cfg.OTLP.QueueSize, BatchSize: cfg.OTLP.BatchSize, Component: g.Lookup,
		Tags: cfg.Metrics.TagLabels, Version: version, Logger: log})
	if e.ExportsMetrics() {
		refresher.OnPoints = e.ExportPoints
		if !cfg.Metrics.Enabled || len(cfg.Metrics.Types) == 0 {
			log.Warn("OTLP metrics export has nothing to send: metrics.types names no component type (or metrics.enabled is false)")
		}
	}
	if e.ExportsLogs() {
		if tail != nil {
			tail.OnEvents = e.ExportEvents
		} else {
			log.Warn("OTLP logs export has nothing to send: logs.enabled is false")
		}
	}
	met.WatchOTLP(e.Statuses)
	return e
}

package selfmetrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skymap/skymap/internal/collect/metrics"
)

// cloudWatchCollector exports the latest CloudWatch samples of the
// periodically refreshed metric sets, named and labelled as YACE (the
// CloudWatch exporter) does: aws_<namespace>_<metric>_<statistic> with
// name (the component id), account_id, region, dimension_<Name> and
// tag_<Key> for the configured tags.
type cloudWatchCollector struct {
	samples func() []metrics.Sample
	tags    []string
}

// Describe sends nothing: the metric names depend on what was fetched
// (an unchecked collector).
func (cloudWatchCollector) Describe(chan<- *prometheus.Desc) {}

func (c cloudWatchCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.samples() {
		names := []string{"name", "account_id", "region"}
		values := []string{s.Component, s.Account, s.Region}
		for _, d := range s.Dimensions {
			names = append(names, metrics.PromLabel("dimension_", d[0]))
			values = append(values, d[1])
		}
		for _, t := range c.tags {
			v := ""
			for _, l := range s.Labels {
				if k, val, ok := strings.Cut(l, ":"); ok && k == t {
					v = val
					break
				}
			}
			names = append(names, metrics.PromLabel("tag_", t))
			values = append(values, v)
		}
		desc := prometheus.NewDesc(metrics.PromName(s.Namespace, s.Name, s.Stat),
			"CloudWatch "+s.Namespace+" "+s.Name+" ("+s.Stat+"), the newest datapoint.", names, nil)
		m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, s.Value, values...)
		if err != nil {
			continue // two dimension names that sanitize alike: leave the sample out
		}
		ch <- prometheus.NewMetricWithTimestamp(s.Time, m)
	}
}

// WatchCloudWatch exports samples (metrics.Refresher.Samples) at each
// scrape, with the tags named as tag_<key> labels.
func (m *Metrics) WatchCloudWatch(samples func() []metrics.Sample, tags []string) {
	m.reg.MustRegister(cloudWatchCollector{samples: samples, tags: tags})
}

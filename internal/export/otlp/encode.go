package otlp

import (
	"time"

	colllogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
)

// Attributes of points and log records.
const (
	// attrDimensionPrefix + a CloudWatch dimension name holds its value.
	attrDimensionPrefix = "aws.cloudwatch.dimension."
	// The semantic conventions' log group and stream, string arrays.
	attrLogGroups  = "aws.log.group.names"
	attrLogStreams = "aws.log.stream.names"
	// attrInvalidUTF8 says bytes of the message that were not UTF-8 were
	// replaced by U+FFFD; attrTruncated that the body was cut to
	// logs.MaxMessageBytes, and attrSize is then the message's length.
	attrInvalidUTF8 = "skymap.log.invalid_utf8"
	attrTruncated   = "skymap.log.truncated"
	attrSize        = "skymap.log.size"
)

// scopeName is the instrumentation scope of everything exported.
const scopeName = "skymap"

// maxRequestBytes bounds a request's estimated size before compression,
// well below the 20 MiB the specification recommends servers accept.
const maxRequestBytes = 4 << 20

// pointItem makes a CloudWatch datapoint a gauge point of the metric
// metrics.OTLPName names, with the CloudWatch dimensions as attributes.
func pointItem(res *resource, p *metrics.Sample) item {
	name := metrics.OTLPName(p.Namespace, p.Name, p.Stat)
	desc := "CloudWatch " + p.Namespace + " " + p.Name + " (" + p.Stat + ")"
	size := 96 + len(name) + len(desc)
	attrs := make([]*commonpb.KeyValue, len(p.Dimensions))
	for i, d := range p.Dimensions {
		attrs[i] = str(attrDimensionPrefix+d[0], d[1])
		size += 64 + len(attrs[i].Key) + len(d[1])
	}
	return item{res: res, name: name, desc: desc, size: size, point: &metricspb.NumberDataPoint{
		Attributes: attrs, TimeUnixNano: unixNano(p.Time), Value: &metricspb.NumberDataPoint_AsDouble{AsDouble: p.Value}}}
}

// recordItem makes a log event a log record: its message as a string body
// (valid UTF-8, at most logs.MaxMessageBytes, whatever the caller gave),
// its group and stream as attributes, observed when skymap read it.
func recordItem(res *resource, ev *logs.Event, observed time.Time) item {
	body, invalid, truncated := logs.Clean(ev.Message)
	invalid = invalid || ev.InvalidUTF8
	size := len(ev.Message)
	if ev.Truncated {
		truncated, size = true, ev.Size
	}
	attrs := []*commonpb.KeyValue{strs(attrLogGroups, ev.Group)}
	if ev.Stream != "" {
		attrs = append(attrs, strs(attrLogStreams, ev.Stream))
	}
	if invalid {
		attrs = append(attrs, &commonpb.KeyValue{Key: attrInvalidUTF8, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}})
	}
	if truncated {
		attrs = append(attrs,
			&commonpb.KeyValue{Key: attrTruncated, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}},
			&commonpb.KeyValue{Key: attrSize, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: int64(size)}}})
	}
	return item{res: res, size: 256 + len(body) + len(ev.Group) + len(ev.Stream), record: &logspb.LogRecord{
		TimeUnixNano: unixNano(ev.Timestamp), ObservedTimeUnixNano: unixNano(observed), Attributes: attrs,
		Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: body}}}}
}

// unixNano is t in nanoseconds since the epoch, 0 (unknown) for the zero
// time or one before the epoch.
func unixNano(t time.Time) uint64 {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return 0
	}
	return uint64(t.UnixNano())
}

// scope is the instrumentation scope of everything exported.
func (e *Exporter) scope() *commonpb.InstrumentationScope {
	return &commonpb.InstrumentationScope{Name: scopeName, Version: e.opts.Version}
}

// metricsRequest is the request of a batch of points: one ResourceMetrics
// per component, one gauge per metric name in it.
func (e *Exporter) metricsRequest(batch []item) proto.Message {
	req := &collmetricspb.ExportMetricsServiceRequest{}
	scopes := map[string]*metricspb.ScopeMetrics{}
	gauges := map[[2]string]*metricspb.Gauge{}
	for _, it := range batch {
		sm := scopes[it.res.id]
		if sm == nil {
			sm = &metricspb.ScopeMetrics{Scope: e.scope()}
			scopes[it.res.id] = sm
			req.ResourceMetrics = append(req.ResourceMetrics, &metricspb.ResourceMetrics{Resource: it.res.pb, ScopeMetrics: []*metricspb.ScopeMetrics{sm}})
		}
		k := [2]string{it.res.id, it.name}
		g := gauges[k]
		if g == nil {
			g = &metricspb.Gauge{}
			gauges[k] = g
			sm.Metrics = append(sm.Metrics, &metricspb.Metric{Name: it.name, Description: it.desc, Data: &metricspb.Metric_Gauge{Gauge: g}})
		}
		g.DataPoints = append(g.DataPoints, it.point)
	}
	return req
}

// logsRequest is the request of a batch of log records: one ResourceLogs
// per component.
func (e *Exporter) logsRequest(batch []item) proto.Message {
	req := &colllogspb.ExportLogsServiceRequest{}
	scopes := map[string]*logspb.ScopeLogs{}
	for _, it := range batch {
		sl := scopes[it.res.id]
		if sl == nil {
			sl = &logspb.ScopeLogs{Scope: e.scope()}
			scopes[it.res.id] = sl
			req.ResourceLogs = append(req.ResourceLogs, &logspb.ResourceLogs{Resource: it.res.pb, ScopeLogs: []*logspb.ScopeLogs{sl}})
		}
		sl.LogRecords = append(sl.LogRecords, it.record)
	}
	return req
}

// partialSuccess reads the partial success of a response body of a
// signal: how many were rejected and the server's message.
func partialSuccess(signal string, body []byte) (rejected int64, msg string, err error) {
	switch signal {
	case "metrics":
		var resp collmetricspb.ExportMetricsServiceResponse
		if err := proto.Unmarshal(body, &resp); err != nil {
			return 0, "", err
		}
		ps := resp.GetPartialSuccess()
		return ps.GetRejectedDataPoints(), ps.GetErrorMessage(), nil
	default:
		var resp colllogspb.ExportLogsServiceResponse
		if err := proto.Unmarshal(body, &resp); err != nil {
			return 0, "", err
		}
		ps := resp.GetPartialSuccess()
		return ps.GetRejectedLogRecords(), ps.GetErrorMessage(), nil
	}
}

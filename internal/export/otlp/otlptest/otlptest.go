// Package otlptest is an OTLP/HTTP endpoint for tests of what skymap
// exports: it decodes requests with the collector's types and keeps them.
package otlptest

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	colllogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// Receiver is an OTLP/HTTP endpoint for tests: it decodes what arrives
// at a path ending in /v1/metrics or /v1/logs with the collector's
// request types and answers 200, or what Answer says.
type Receiver struct {
	t *testing.T
	// URL is the server's base URL.
	URL string

	mu      sync.Mutex
	metrics []*collmetricspb.ExportMetricsServiceRequest
	logs    []*colllogspb.ExportLogsServiceRequest
	headers []http.Header
	answer  func(n int, w http.ResponseWriter, r *http.Request) bool
}

// NewReceiver starts a Receiver until the test ends.
func NewReceiver(t *testing.T) *Receiver {
	rc := &Receiver{t: t}
	srv := httptest.NewServer(http.HandlerFunc(rc.serve))
	rc.URL = srv.URL
	t.Cleanup(srv.Close)
	return rc
}

// SetAnswer makes answer answer request n (0-based, of either signal)
// when it returns true; when it returns false the request is decoded and
// answered 200.
func (rc *Receiver) SetAnswer(answer func(n int, w http.ResponseWriter, r *http.Request) bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = answer
}

// Headers returns the headers of every request received, in order.
func (rc *Receiver) Headers() []http.Header {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.headers)
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	n := len(rc.headers)
	rc.headers = append(rc.headers, r.Header.Clone())
	answer := rc.answer
	rc.mu.Unlock()
	if answer != nil && answer(n, w, r) {
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-protobuf" {
		rc.t.Errorf("%s %s with Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			rc.t.Errorf("gzip: %v", err)
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		rc.t.Errorf("read body: %v", err)
	}
	var resp proto.Message
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/v1/metrics"):
		req := &collmetricspb.ExportMetricsServiceRequest{}
		err, resp = proto.Unmarshal(b, req), &collmetricspb.ExportMetricsServiceResponse{}
		rc.metrics = append(rc.metrics, req)
	case strings.HasSuffix(r.URL.Path, "/v1/logs"):
		req := &colllogspb.ExportLogsServiceRequest{}
		err, resp = proto.Unmarshal(b, req), &colllogspb.ExportLogsServiceResponse{}
		rc.logs = append(rc.logs, req)
	default:
		rc.t.Errorf("POST to %s", r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if err != nil {
		rc.t.Errorf("decode %s: %v", r.URL.Path, err)
	}
	out, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// Point is a metric point as received, flattened.
type Point struct {
	Resource map[string]string
	Scope    string
	Name     string
	Time     time.Time
	Value    float64
	Attrs    map[string]string
}

// Points returns the points received, in the order received.
func (rc *Receiver) Points() []Point {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []Point
	for _, req := range rc.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					for _, dp := range m.GetGauge().GetDataPoints() {
						out = append(out, Point{Resource: Attrs(rm.Resource.GetAttributes()), Scope: sm.Scope.GetName() + "@" + sm.Scope.GetVersion(),
							Name: m.Name, Time: time.Unix(0, int64(dp.TimeUnixNano)).UTC(), Value: dp.GetAsDouble(), Attrs: Attrs(dp.Attributes)})
					}
				}
			}
		}
	}
	return out
}

// Record is a log record as received, flattened.
type Record struct {
	Resource       map[string]string
	Time, Observed time.Time
	Body           string
	Attrs          map[string]string
}

// Records returns the log records received, in the order received.
func (rc *Receiver) Records() []Record {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []Record
	for _, req := range rc.logs {
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					out = append(out, Record{Resource: Attrs(rl.Resource.GetAttributes()), Time: time.Unix(0, int64(lr.TimeUnixNano)).UTC(),
						Observed: time.Unix(0, int64(lr.ObservedTimeUnixNano)).UTC(), Body: lr.Body.GetStringValue(), Attrs: Attrs(lr.Attributes)})
				}
			}
		}
	}
	return out
}

// Attrs renders attributes as strings: arrays as [a b].
func Attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		if _, dup := out[kv.Key]; dup {
			out[kv.Key] = "DUPLICATE KEY"
			continue
		}
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_BoolValue:
			out[kv.Key] = fmt.Sprint(v.BoolValue)
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = fmt.Sprint(v.IntValue)
		case *commonpb.AnyValue_ArrayValue:
			var s []string
			for _, e := range v.ArrayValue.Values {
				s = append(s, e.GetStringValue())
			}
			out[kv.Key] = fmt.Sprint(s)
		default:
			out[kv.Key] = fmt.Sprintf("%T", kv.Value.Value)
		}
	}
	return out
}

// MetricRequests returns the metric export requests received, in order.
func (rc *Receiver) MetricRequests() []*collmetricspb.ExportMetricsServiceRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.metrics)
}

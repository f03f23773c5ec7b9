package traces

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const (
	fn    = "arn:aws:lambda:eu-west-1:123456789012:function:orders"
	table = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
	queue = "arn:aws:sqs:eu-west-1:123456789012:shipments"
)

// lambdaSpans sends, through the official OTLP/HTTP exporter with opts,
// the spans of an instrumented Lambda function "orders" that reads its
// DynamoDB table three times (one call failing) and sends to an SQS queue
// once.
func lambdaSpans(t *testing.T, endpoint string, opts ...otlptracehttp.Option) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, append([]otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint + "/v1/traces")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(
		attribute.String("cloud.provider", "aws"), attribute.String("cloud.region", "eu-west-1"),
		attribute.String("cloud.account.id", "123456789012"), attribute.String("faas.name", "orders"),
		attribute.String("service.name", "orders"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(exp))
	tr := tp.Tracer("test")
	root, span := tr.Start(ctx, "orders", trace.WithSpanKind(trace.SpanKindServer))
	start := time.Now().Add(-time.Second)
	for i, d := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond} {
		_, s := tr.Start(root, "DynamoDB.GetItem", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start),
			trace.WithAttributes(attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "DynamoDB"),
				attribute.String("rpc.method", "GetItem"), attribute.StringSlice("aws.dynamodb.table_names", []string{"orders"})))
		if i == 2 {
			s.SetStatus(codes.Error, "throttled")
		}
		s.End(trace.WithTimestamp(start.Add(d)))
	}
	_, s := tr.Start(root, "SQS.SendMessage", trace.WithSpanKind(trace.SpanKindProducer), trace.WithTimestamp(start),
		trace.WithAttributes(attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "SQS"),
			attribute.String("rpc.method", "SendMessage"),
			attribute.String("aws.sqs.queue_url", "https://sqs.eu-west-1.amazonaws.com/123456789012/shipments")))
	s.End(trace.WithTimestamp(start.Add(5 * time.Millisecond)))
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// brief is a relation without the figures that depend on the clock.
type brief struct {
	Source, Target, System string
	Operations             []string
	Calls, Errors          uint64
	Max                    float64
}

func briefs(rels []Relation) []brief {
	var out []brief
	for _, r := range rels {
		out = append(out, brief{r.Source, r.Target, r.System, r.Operations, r.Calls, r.Errors, r.LatencyMax})
	}
	return out
}

func TestOfficialExporter(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	want := []brief{
		{fn, table, "aws-api", []string{"GetItem"}, 3, 1, 30},
		{fn, queue, "aws-api", []string{"SendMessage"}, 1, 0, 5},
	}
	for _, tt := range []struct {
		name string
		opts []otlptracehttp.Option
	}{
		{"protobuf", nil},
		{"protobuf gzip", []otlptracehttp.Option{otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}},
		{"json", []otlptracehttp.Option{otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON)}},
		{"json gzip", []otlptracehttp.Option{otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON),
			otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReceiver(Options{})
			srv := httptest.NewServer(NewHandler(r, nil))
			defer srv.Close()
			lambdaSpans(t, srv.URL, tt.opts...)
			rels := r.Relations(nil)
			if d := cmp.Diff(want, briefs(rels)); d != "" {
				t.Errorf("relations (-want +got):\n%s", d)
			}
			if len(rels) > 0 && (rels[0].LatencyAvg != 20 || rels[0].LatencyP50 < 16 || rels[0].LatencyP50 > 24) {
				t.Errorf("latency of %s: avg %v ms, p50 %v ms; want 20 and about 20", rels[0].Target, rels[0].LatencyAvg, rels[0].LatencyP50)
			}
			if st := r.Stats(); st.Spans != 5 || st.Mapped != 4 || st.Rejected != 0 {
				t.Errorf("stats %+v, want 5 spans, 4 calls mapped", st)
			}
		})
	}
}

// jsonPayload is an OTLP JSON export as the specification writes it:
// lowerCamelCase, hex ids, enums as numbers, integers as strings.
const jsonPayload = `{"resourceSpans":[{"resource":{"attributes":[
  {"key":"cloud.resource_id","value":{"stringValue":"arn:aws:lambda:eu-west-1:123456789012:function:orders:42"}}]},
 "scopeSpans":[{"scope":{"name":"x"},"spans":[
  {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173",
   "name":"PutItem","kind":3,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000",
   "attributes":[{"key":"rpc.system","value":{"stringValue":"aws-api"}},{"key":"rpc.service","value":{"stringValue":"DynamoDB"}},
     {"key":"aws.dynamodb.table_names","value":{"arrayValue":{"values":[{"stringValue":"orders"}]}}}],
   "status":{"code":2},"unknownField":true},
  {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"GET",
   "kind":"SPAN_KIND_CLIENT","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000",
   "attributes":[{"key":"url.full","value":{"stringValue":"https://My-LB-1.eu-west-1.elb.amazonaws.com/api?x=1"}},
     {"key":"http.request.method","value":{"stringValue":"GET"}}]},
  {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","name":"SELECT orders","kind":3,
   "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000001000000",
   "attributes":[{"key":"db.system","value":{"stringValue":"postgresql"}},{"key":"db.operation.name","value":{"stringValue":"SELECT"}},
     {"key":"server.address","value":{"stringValue":"orders.abc.eu-west-1.rds.amazonaws.com"}}]},
  {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b177","name":"charge","kind":3,
   "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000002000000",
   "attributes":[{"key":"peer.service","value":{"stringValue":"payments"}}]}
 ]}]}]}`

func TestJSONPayload(t *testing.T) {
	at := time.Unix(1700000000, 0).Add(time.Minute)
	r := NewReceiver(Options{Now: func() time.Time { return at }})
	srv := httptest.NewServer(NewHandler(r, nil))
	defer srv.Close()
	resp, body := post(t, srv.URL, "application/json", "", []byte(jsonPayload))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var msg coltracepb.ExportTraceServiceResponse
	if err := protojson.Unmarshal(body, &msg); err != nil || msg.PartialSuccess != nil {
		t.Errorf("response %s: %v, want an empty ExportTraceServiceResponse", body, err)
	}
	fn := "arn:aws:lambda:eu-west-1:123456789012:function:orders" // the version qualifier dropped
	want := []brief{
		{fn, table, "aws-api", []string{"PutItem"}, 1, 1, 250},
		{fn, "urn:endpoint:/my-lb-1.eu-west-1.elb.amazonaws.com", "http", []string{"GET"}, 1, 0, 100},
		{fn, "urn:endpoint:/orders.abc.eu-west-1.rds.amazonaws.com", "postgresql", []string{"SELECT"}, 1, 0, 1},
		{fn, "urn:service:/payments", "peer", []string{"charge"}, 1, 0, 2},
	}
	if d := cmp.Diff(want, briefs(r.Relations(nil)), cmpSorted); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
}

var cmpSorted = cmp.Transformer("sorted", func(in []brief) map[string]brief {
	out := map[string]brief{}
	for _, b := range in {
		out[b.Source+" "+b.Target] = b
	}
	return out
})

func post(t *testing.T, url, ct, enc string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/traces", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestBadInput(t *testing.T) {
	valid := &coltracepb.ExportTraceServiceRequest{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(jsonPayload), valid); err != nil {
		t.Fatal(err)
	}
	pb, err := proto.Marshal(valid) // ids of the wrong length: protojson read hex as base64
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, ct, enc string
		body          []byte
		status        int
		reason        string
	}{
		{"truncated protobuf", "application/x-protobuf", "", pb[:len(pb)-3], 400, "protobuf"},
		{"protobuf ids of the wrong length", "application/x-protobuf", "", pb, 400, "traceId: want 16 bytes"},
		{"not json", "application/json", "", []byte(`{"resourceSpans": [`), 400, "json"},
		{"wrong json type", "application/json", "", []byte(`{"resourceSpans": {}}`), 400, "json"},
		{"base64 ids in json", "application/json", "", []byte(strings.Replace(jsonPayload,
			`"spanId":"eee19b7ec3c1b174"`, `"spanId":"7uGbfsPBsXQ="`, 1)), 400, "spanId"},
		{"short id in json", "application/json", "", []byte(strings.Replace(jsonPayload,
			`"eee19b7ec3c1b175"`, `"eee19b7e"`, 1)), 400, "spans[1].spanId: want 8 bytes"},
		{"corrupt gzip", "application/json", "gzip", gzipped([]byte(jsonPayload))[:40], 400, "gzip"},
		{"not gzip", "application/json", "gzip", []byte(jsonPayload), 400, "gzip"},
		{"other encoding", "application/json", "br", []byte(jsonPayload), 415, "content encoding"},
		{"other content type", "text/plain", "", []byte(jsonPayload), 415, "content type"},
		{"too large", "application/json", "", bytes.Repeat([]byte(" "), MaxBody+1), 413, "body over"},
		{"too large uncompressed", "application/json", "gzip", gzipped(bytes.Repeat([]byte(" "), MaxBody+1)), 413, "uncompressed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReceiver(Options{Now: func() time.Time { return time.Unix(1700000000, 0) }})
			srv := httptest.NewServer(NewHandler(r, nil))
			defer srv.Close()
			resp, body := post(t, srv.URL, tt.ct, tt.enc, tt.body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.reason) {
				t.Errorf("status %d, body %s; want %d naming %q", resp.StatusCode, body, tt.status, tt.reason)
			}
			if rels := r.Relations(nil); len(rels) != 0 || r.Stats().Spans != 0 {
				t.Errorf("kept %v and %+v from a bad request", rels, r.Stats())
			}
		})
	}
}

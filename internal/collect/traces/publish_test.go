package traces

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"google.golang.org/protobuf/proto"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// request is one resource's client spans, each with attrs, ending at end.
func request(res []*commonpb.KeyValue, end time.Time, spans ...[]*commonpb.KeyValue) *coltracepb.ExportTraceServiceRequest {
	ss := &tracepb.ScopeSpans{}
	for i, attrs := range spans {
		ss.Spans = append(ss.Spans, &tracepb.Span{TraceId: make([]byte, 16), SpanId: []byte{0, 0, 0, 0, 0, 0, 0, byte(i + 1)},
			Name: "call", Kind: tracepb.Span_SPAN_KIND_CLIENT, Attributes: attrs,
			StartTimeUnixNano: uint64(end.Add(-time.Millisecond).UnixNano()), EndTimeUnixNano: uint64(end.UnixNano())})
	}
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: res}, ScopeSpans: []*tracepb.ScopeSpans{ss}}}}
}

func TestPublish(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	g := topology.New(nil, topology.WithClock(clock))
	inventory := model.Snapshot{Scope: model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "test"}, Complete: true,
		Components: []model.Component{
			{ID: fn, Type: "aws.lambda.function", Name: "orders"},
			{ID: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/1", Type: "aws.elb-v2.application-load-balancer",
				Name: "web", Identifiers: []string{"urn:endpoint:/web-1.eu-west-1.elb.amazonaws.com"}},
			{ID: "arn:aws:lambda:eu-west-1:123456789012:function:billing", Type: "aws.lambda.function", Name: "billing"},
			{ID: "arn:aws:lambda:eu-west-1:210987654321:function:billing", Type: "aws.lambda.function", Name: "billing"},
		}}
	if _, err := g.Apply(context.Background(), "scan", []model.Snapshot{inventory}); err != nil {
		t.Fatal(err)
	}
	r := NewReceiver(Options{Window: time.Hour, Now: clock})
	p := &Publisher{Receiver: r, Graph: g}
	// A service known by name only calls the load balancer by its DNS
	// name, a host nobody knows, and "billing", a name two functions have.
	r.ingest(request([]*commonpb.KeyValue{str("service.name", "orders")}, t0,
		[]*commonpb.KeyValue{str("url.full", "https://WEB-1.eu-west-1.elb.amazonaws.com./x")},
		[]*commonpb.KeyValue{str("server.address", "api.example.com:443")},
		[]*commonpb.KeyValue{str("peer.service", "billing")}))
	p.started = t0
	if err := p.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	type end struct{ Source, Target string }
	ends := func(rels []model.Relation) []end {
		var out []end
		for _, r := range rels {
			out = append(out, end{r.Source, r.Target})
		}
		return out
	}
	want := []end{{fn, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/1"}}
	if d := cmp.Diff(want, ends(g.Relations())); d != "" {
		t.Errorf("resolved relations (-want +got):\n%s", d)
	}
	wantPending := []end{{fn, "urn:service:/api.example.com"}, {fn, "urn:service:/billing"}}
	if d := cmp.Diff(wantPending, ends(g.Pending())); d != "" {
		t.Errorf("pending relations (-want +got):\n%s", d)
	}
	out, _, _ := g.Neighbours(fn)
	wantData := map[string]any{"source": "trace", "system": "http", "operations": []string{"call"}, "window": "1h"}
	if len(out) != 1 || !cmp.Equal(wantData, out[0].Data) {
		t.Errorf("relation data %v, want %v", out, wantData)
	}

	// Within a window of the start, relations of before stay (they may be
	// from before a restart); after it, they go with their calls.
	now = t0.Add(59 * time.Minute)
	r.ingest(request([]*commonpb.KeyValue{str("service.name", "orders")}, now,
		[]*commonpb.KeyValue{str("peer.service", "billing")}))
	now = t0.Add(61 * time.Minute)
	if err := p.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ends(append(g.Relations(), g.Pending()...)); !cmp.Equal(got, []end{{fn, "urn:service:/billing"}}) {
		t.Errorf("after the window, relations %v; want only the one called since", got)
	}
	if f := r.Relations(nil); len(f) != 1 || f[0].Calls != 1 || !f[0].FirstSeen.Equal(t0) {
		t.Errorf("figures %+v, want 1 call in the window, first seen %s", f, t0)
	}
}

func TestMaxRelations(t *testing.T) {
	at := time.Unix(1700000000, 0)
	r := NewReceiver(Options{MaxRelations: 2, Now: func() time.Time { return at }})
	var spans [][]*commonpb.KeyValue
	for i := range 3 {
		spans = append(spans, []*commonpb.KeyValue{str("peer.service", fmt.Sprint("s", i))})
	}
	res := r.ingest(request([]*commonpb.KeyValue{str("service.name", "a")}, at, spans...))
	if res.rejected != 1 || len(r.Relations(nil)) != 2 {
		t.Errorf("rejected %d, %d relations; want 1 rejected, 2 kept", res.rejected, len(r.Relations(nil)))
	}
	// Client spans of a resource naming no caller are rejected too.
	res = r.ingest(request(nil, at, spans[0]))
	if res.rejected != 1 {
		t.Errorf("rejected %d spans of a resource without a name, want 1", res.rejected)
	}
}

// BenchmarkTraceIngest measures spans per second into relations through
// the handler: requests of 1,000 client spans of 10 Lambda functions
// calling 50 DynamoDB tables and SQS queues, encoded as the official
// exporter sends them (protobuf).
func BenchmarkTraceIngest(b *testing.B) {
	at := time.Unix(1700000000, 0)
	body := benchBody(b, at)
	r := NewReceiver(Options{Now: func() time.Time { return at }})
	h := NewHandler(r, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		hr := httptest.NewRequest("POST", "/v1/traces", bytes.NewReader(body))
		hr.Header.Set("Content-Type", "application/x-protobuf")
		h.ServeHTTP(w, hr)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "spans/s")
	if n := len(r.Relations(nil)); n != 500 {
		b.Fatalf("%d relations, want 500", n)
	}
}

// BenchmarkTraceDecode is the baseline of BenchmarkTraceIngest: decoding
// the same requests with proto.Unmarshal alone.
func BenchmarkTraceDecode(b *testing.B) {
	body := benchBody(b, time.Unix(1700000000, 0))
	b.ReportAllocs()
	for b.Loop() {
		var m coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "spans/s")
}

// benchBody is the request of the benchmarks, encoded.
func benchBody(b *testing.B, at time.Time) []byte {
	req := &coltracepb.ExportTraceServiceRequest{}
	for f := range 10 {
		res := []*commonpb.KeyValue{str("cloud.provider", "aws"), str("cloud.region", "eu-west-1"),
			str("cloud.account.id", "123456789012"), str("faas.name", fmt.Sprint("fn-", f)), str("service.name", fmt.Sprint("fn-", f))}
		var spans [][]*commonpb.KeyValue
		for i := range 100 {
			if i%2 == 0 {
				spans = append(spans, []*commonpb.KeyValue{str("rpc.system", "aws-api"), str("rpc.service", "DynamoDB"),
					str("rpc.method", "GetItem"), {Key: "aws.dynamodb.table_names", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{
						ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{{Value: &commonpb.AnyValue_StringValue{StringValue: fmt.Sprint("t", i%50)}}}}}}}})
			} else {
				spans = append(spans, []*commonpb.KeyValue{str("rpc.system", "aws-api"), str("rpc.service", "SQS"), str("rpc.method", "SendMessage"),
					str("aws.sqs.queue_url", fmt.Sprint("https://sqs.eu-west-1.amazonaws.com/123456789012/q", i%50))})
			}
		}
		req.ResourceSpans = append(req.ResourceSpans, request(res, at, spans...).ResourceSpans...)
	}
	body, err := proto.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/skymap/skymap/internal/collect/traces"
	"github.com/skymap/skymap/internal/model"
)

// TestServeTraces runs skymap serve on moto's sample estate, sends it the
// spans of the sample's worker Lambda function calling its SQS queue and
// a DynamoDB table through the official OTLP/HTTP exporter, and reads the
// uses-service relations they make, with their figures, through the API.
func TestServeTraces(t *testing.T) {
	estate(t)
	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\n", t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})

	const (
		worker = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-worker"
		queue  = "arn:aws:sqs:eu-west-1:123456789012:skymap-demo-orders"
		table  = "arn:aws:dynamodb:eu-west-1:123456789012:table/sessions"
	)
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL("http://"+addr+"/v1/traces"),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(
		attribute.String("cloud.provider", "aws"), attribute.String("cloud.region", "eu-west-1"),
		attribute.String("faas.name", "skymap-demo-worker"), attribute.String("service.name", "skymap-demo-worker"))))
	tr := tp.Tracer("test")
	root, span := tr.Start(ctx, "skymap-demo-worker", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("aws.lambda.invoked_arn", worker)))
	for range 2 {
		_, s := tr.Start(root, "SQS.SendMessage", trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
			attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "SQS"), attribute.String("rpc.method", "SendMessage"),
			attribute.String("aws.sqs.queue_url", "https://sqs.eu-west-1.amazonaws.com/123456789012/skymap-demo-orders")))
		s.End()
	}
	_, s := tr.Start(root, "DynamoDB.PutItem", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "DynamoDB"), attribute.String("rpc.method", "PutItem"),
		attribute.StringSlice("aws.dynamodb.table_names", []string{"sessions"})))
	s.SetStatus(codes.Error, "ConditionalCheckFailed")
	s.End()
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("export: %v", err)
	}

	// The relations appear within a few seconds of the export.
	deadline := time.Now().Add(20 * time.Second)
	var rels struct{ Relations, Pending []model.Relation }
	var toQueue, toTable *model.Relation
	for toQueue == nil || toTable == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no trace relations to the queue and the table: %+v", rels)
		}
		time.Sleep(200 * time.Millisecond)
		getJSON(t, "http://"+addr+"/api/relations?component="+worker, &rels)
		for i, r := range append(rels.Relations, rels.Pending...) {
			if r.Type != model.UsesService || r.Data["source"] != "trace" {
				continue
			}
			switch {
			case r.Target == queue && i < len(rels.Relations): // resolved: the queue is in the map
				toQueue = &r
			case r.Target == table: // resolved or pending, as the estate has it in eu-west-1 or not
				toTable = &r
			}
		}
	}
	if toQueue.Source != worker || toQueue.Data["system"] != "aws-api" || toQueue.Data["window"] != "1h" {
		t.Errorf("relation to the queue: %+v", toQueue)
	}

	var figures struct {
		Relations []traces.Relation `json:"relations"`
		Stats     traces.Stats      `json:"stats"`
	}
	getJSON(t, "http://"+addr+"/api/traces/relations", &figures)
	got := map[string][2]uint64{}
	for _, r := range figures.Relations {
		got[r.Source+" -> "+r.Target] = [2]uint64{r.Calls, r.Errors}
	}
	if got[worker+" -> "+queue] != [2]uint64{2, 0} || got[worker+" -> "+table] != [2]uint64{1, 1} {
		t.Errorf("figures (calls, errors) %v; want 2 calls to the queue, 1 failed call to the table", got)
	}
	if figures.Stats.Spans != 4 || figures.Stats.Mapped != 3 {
		t.Errorf("stats %+v, want 4 spans, 3 calls mapped", figures.Stats)
	}
	// The relations of one component only.
	getJSON(t, "http://"+addr+"/api/traces/relations?component="+url.QueryEscape(queue), &figures)
	if len(figures.Relations) != 1 || figures.Relations[0].Target != queue || figures.Relations[0].Calls != 2 {
		t.Errorf("relations of the queue %+v, want the worker's 2 calls", figures.Relations)
	}

	// A malformed export is refused with its reason, and changes nothing.
	resp, err := http.Post("http://"+addr+"/v1/traces", "application/json", strings.NewReader(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed export: %s, want 400", resp.Status)
	}
	getJSON(t, "http://"+addr+"/api/traces/relations", &figures)
	if figures.Stats.Spans != 4 {
		t.Errorf("after a malformed export, %d spans counted, want 4", figures.Stats.Spans)
	}
}

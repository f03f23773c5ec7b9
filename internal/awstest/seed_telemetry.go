package awstest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The sample estate's telemetry, for the demo: what CloudWatch and an
// instrumented application would report about web-1 and the Lambda
// functions of 123456789012/eu-west-1. Kept out of SampleEstate so that
// the tests that put their own datapoints and alarms start from none.
const (
	// DemoWebLogGroup is the log group of web-1's application, mapped to
	// the instance in the demo's config (CloudWatch has no table entry for
	// an instance's logs: its agent writes where it is told).
	DemoWebLogGroup = "/skymap-demo/web-1/app"
	// DemoCPUAlarm is the alarm on web-1's CPU, left in ALARM.
	DemoCPUAlarm = "web-1 CPU above 80%"
	// DemoErrorsAlarm is the alarm on the API function's errors, left OK.
	DemoErrorsAlarm = "skymap-demo-api errors"
)

// SeedTelemetry puts an hour of metrics for web-1 and the API function
// (ending now), an alarm on each (web-1's in ALARM), and log events in the
// API function's group and in DemoWebLogGroup, into 123456789012/eu-west-1
// of a moto holding the sample estate b was built from.
func SeedTelemetry(ctx context.Context, m *Moto, b *Built) error {
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		return err
	}
	instance, ok := b.ID("<i:web-1>")
	if !ok {
		return fmt.Errorf("awstest: the estate has no <i:web-1>")
	}
	now := time.Now().UTC().Truncate(time.Minute)
	dim := func(name, value string) []cwtypes.Dimension {
		return []cwtypes.Dimension{{Name: aws.String(name), Value: aws.String(value)}}
	}
	var web, fn []cwtypes.MetricDatum
	for i := 60; i >= 1; i-- {
		at := aws.Time(now.Add(-time.Duration(i) * time.Minute))
		// CPU climbs past 80% over the last quarter of an hour.
		cpu := 35 + 10*math.Sin(float64(i)/6)
		if i <= 15 {
			cpu = 85 + float64(15-i)
		}
		web = append(web,
			cwtypes.MetricDatum{MetricName: aws.String("CPUUtilization"), Dimensions: dim("InstanceId", instance), Timestamp: at,
				Value: aws.Float64(math.Round(cpu*10) / 10), Unit: cwtypes.StandardUnitPercent},
			cwtypes.MetricDatum{MetricName: aws.String("NetworkIn"), Dimensions: dim("InstanceId", instance), Timestamp: at,
				Value: aws.Float64(float64(2_000_000 + 10_000*i)), Unit: cwtypes.StandardUnitBytes},
			cwtypes.MetricDatum{MetricName: aws.String("NetworkOut"), Dimensions: dim("InstanceId", instance), Timestamp: at,
				Value: aws.Float64(float64(9_000_000 + 25_000*i)), Unit: cwtypes.StandardUnitBytes})
		fn = append(fn,
			cwtypes.MetricDatum{MetricName: aws.String("Invocations"), Dimensions: dim("FunctionName", demoAPIFn), Timestamp: at,
				Value: aws.Float64(float64(120 + i%7*10)), Unit: cwtypes.StandardUnitCount},
			cwtypes.MetricDatum{MetricName: aws.String("Errors"), Dimensions: dim("FunctionName", demoAPIFn), Timestamp: at,
				Value: aws.Float64(float64(i % 5 / 4)), Unit: cwtypes.StandardUnitCount},
			cwtypes.MetricDatum{MetricName: aws.String("Duration"), Dimensions: dim("FunctionName", demoAPIFn), Timestamp: at,
				Value: aws.Float64(float64(180 + i%11*9)), Unit: cwtypes.StandardUnitMilliseconds})
	}
	for ns, data := range map[string][]cwtypes.MetricDatum{"AWS/EC2": web, "AWS/Lambda": fn} {
		if err := PutMetrics(ctx, cfg, ns, data...); err != nil {
			return err
		}
	}
	for _, a := range []struct {
		Alarm
		state cwtypes.StateValue
	}{
		{Alarm{Name: DemoCPUAlarm, Namespace: "AWS/EC2", Metric: "CPUUtilization", DimName: "InstanceId", DimValue: instance, Threshold: 80, Periods: 3},
			cwtypes.StateValueAlarm},
		{Alarm{Name: DemoErrorsAlarm, Namespace: "AWS/Lambda", Metric: "Errors", DimName: "FunctionName", DimValue: demoAPIFn, Threshold: 10, Periods: 3},
			cwtypes.StateValueOk},
	} {
		if err := PutAlarm(ctx, cfg, a.Alarm, a.state); err != nil {
			return err
		}
	}
	for group, lines := range map[string][]string{
		"/aws/lambda/" + demoAPIFn: {
			"START RequestId: 5e1d0c2a-0001 Version: $LATEST",
			`{"level":"info","msg":"order accepted","order":"o-1001","items":3}`,
			"END RequestId: 5e1d0c2a-0001",
			"REPORT RequestId: 5e1d0c2a-0001 Duration: 182.35 ms Billed Duration: 183 ms Memory Size: 128 MB Max Memory Used: 71 MB",
			"START RequestId: 5e1d0c2a-0002 Version: $LATEST",
			`{"level":"error","msg":"DynamoDB PutItem failed","error":"ConditionalCheckFailedException","table":"sessions"}`,
			"END RequestId: 5e1d0c2a-0002",
		},
		DemoWebLogGroup: {
			`10.0.1.10 - - GET /healthz 200 0.002`,
			`10.0.1.10 - - POST /checkout 200 0.184`,
			`WARN upstream orders API slow: 1.9 s`,
			`<script>alert("tag")</script> untrusted text shown as text`,
			`ERROR checkout failed: upstream timeout`,
		},
	} {
		events := make([]LogLine, len(lines))
		for i, l := range lines {
			events[i] = LogLine{At: time.Now().Add(-time.Duration(len(lines)-i) * 20 * time.Second), Message: l}
		}
		if err := PutLogs(ctx, cfg, group, "2026/12/07/[$LATEST]demo", events...); err != nil {
			return err
		}
	}
	return nil
}

// SendDemoTraces sends, through the official OTLP/HTTP exporter to url
// (skymap's /v1/traces), the spans of a minute of the sample estate's
// applications: web-1 invoking the API function, the API function writing
// the sessions table (one write failing), the worker function sending to
// the orders queue. instance is web-1's instance id.
func SendDemoTraces(ctx context.Context, url, instance string) error {
	// The SDK hands export failures to the global handler, not to
	// Shutdown: catch them to return them.
	var mu sync.Mutex
	var exportErr error
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		exportErr = err
		mu.Unlock()
	}))
	defer otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
	var providers []*sdktrace.TracerProvider
	service := func(name string, attrs ...attribute.KeyValue) (trace.Tracer, error) {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url), otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, attribute.String("cloud.provider", "aws"), attribute.String("cloud.region", "eu-west-1"),
			attribute.String("cloud.account.id", "123456789012"), attribute.String("service.name", name))
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.NewSchemaless(attrs...)))
		providers = append(providers, tp)
		return tp.Tracer("skymap-demo"), nil
	}
	call := func(tr trace.Tracer, parent context.Context, name string, kind trace.SpanKind, failed bool, attrs ...attribute.KeyValue) {
		_, s := tr.Start(parent, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
		if failed {
			s.SetStatus(codes.Error, "ConditionalCheckFailedException")
		}
		s.End()
	}
	awsCall := func(svc, method string, attrs ...attribute.KeyValue) []attribute.KeyValue {
		return append(attrs, attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", svc), attribute.String("rpc.method", method))
	}
	web, err := service("web-1", attribute.String("cloud.platform", "aws_ec2"),
		attribute.String("cloud.resource_id", "arn:aws:ec2:eu-west-1:123456789012:instance/"+instance), attribute.String("host.id", instance))
	if err != nil {
		return err
	}
	api, err := service(demoAPIFn, attribute.String("cloud.platform", "aws_lambda"), attribute.String("faas.name", demoAPIFn))
	if err != nil {
		return err
	}
	worker, err := service(demoWorkerFn, attribute.String("cloud.platform", "aws_lambda"), attribute.String("faas.name", demoWorkerFn))
	if err != nil {
		return err
	}
	for i := range 20 {
		root, span := web.Start(ctx, "POST /checkout", trace.WithSpanKind(trace.SpanKindServer))
		call(web, root, "Lambda.Invoke", trace.SpanKindClient, false, awsCall("Lambda", "Invoke", attribute.String("faas.invoked_name", demoAPIFn),
			attribute.String("faas.invoked_provider", "aws"), attribute.String("faas.invoked_region", "eu-west-1"))...)
		span.End()
		fnRoot, fnSpan := api.Start(ctx, demoAPIFn, trace.WithSpanKind(trace.SpanKindServer))
		call(api, fnRoot, "DynamoDB.PutItem", trace.SpanKindClient, i%10 == 0,
			awsCall("DynamoDB", "PutItem", attribute.StringSlice("aws.dynamodb.table_names", []string{"sessions"}))...)
		fnSpan.End()
		wRoot, wSpan := worker.Start(ctx, demoWorkerFn, trace.WithSpanKind(trace.SpanKindConsumer))
		call(worker, wRoot, "SQS.SendMessage", trace.SpanKindProducer, false, awsCall("SQS", "SendMessage",
			attribute.String("aws.sqs.queue_url", "https://sqs.eu-west-1.amazonaws.com/123456789012/"+demoQueue))...)
		wSpan.End()
	}
	for _, tp := range providers {
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("export demo spans to %s: %w", url, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if exportErr != nil {
		return fmt.Errorf("export demo spans to %s: %w", url, exportErr)
	}
	return nil
}

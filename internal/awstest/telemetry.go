package awstest

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// CloudWatch returns a CloudWatch client speaking awsQuery, which moto
// answers (not the SDK's default CBOR): metrics.NewClient's protocol,
// here because the metrics package's tests import awstest.
func CloudWatch(cfg aws.Config) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) })
}

// Datum is a datapoint of a metric with one dimension, for PutMetrics.
func Datum(name, dimName, dimValue string, at time.Time, v float64) cwtypes.MetricDatum {
	return cwtypes.MetricDatum{MetricName: aws.String(name), Timestamp: aws.Time(at), Value: aws.Float64(v),
		Dimensions: []cwtypes.Dimension{{Name: aws.String(dimName), Value: aws.String(dimValue)}}}
}

// PutMetrics puts datapoints of a namespace in the account and region of
// cfg, 500 to a call.
func PutMetrics(ctx context.Context, cfg aws.Config, namespace string, data ...cwtypes.MetricDatum) error {
	cw := CloudWatch(cfg)
	for start := 0; start < len(data); start += 500 {
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(namespace),
			MetricData: data[start:min(start+500, len(data))]}); err != nil {
			return fmt.Errorf("put %s metrics: %w", namespace, err)
		}
	}
	return nil
}

// LogLine is a log event for PutLogs.
type LogLine struct {
	At      time.Time
	Message string
}

// PutLogs writes lines to a stream of a log group in the account and
// region of cfg, creating the group and the stream when missing.
func PutLogs(ctx context.Context, cfg aws.Config, group, stream string, lines ...LogLine) error {
	c := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); RetriedCreate(err) != nil {
		return fmt.Errorf("create log group %s: %w", group, err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group),
		LogStreamName: aws.String(stream)}); RetriedCreate(err) != nil {
		return fmt.Errorf("create log stream %s in %s: %w", stream, group, err)
	}
	events := make([]logtypes.InputLogEvent, len(lines))
	for i, l := range lines {
		events[i] = logtypes.InputLogEvent{Message: aws.String(l.Message), Timestamp: aws.Int64(l.At.UnixMilli())}
	}
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group),
		LogStreamName: aws.String(stream), LogEvents: events}); err != nil {
		return fmt.Errorf("put log events in %s: %w", group, err)
	}
	return nil
}

// Alarm is a metric alarm on a metric with one dimension: its average
// over 60 s above Threshold for Periods periods.
type Alarm struct {
	Name, Namespace, Metric, DimName, DimValue string
	Threshold                                  float64
	Periods                                    int32
}

// PutAlarm creates (or replaces) the alarm in the account and region of
// cfg, and sets its state when state is not "" (moto evaluates no alarm).
func PutAlarm(ctx context.Context, cfg aws.Config, a Alarm, state cwtypes.StateValue) error {
	cw := CloudWatch(cfg)
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(a.Name), Namespace: aws.String(a.Namespace),
		MetricName: aws.String(a.Metric), Dimensions: []cwtypes.Dimension{{Name: aws.String(a.DimName), Value: aws.String(a.DimValue)}},
		Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(max(a.Periods, 1)),
		Threshold: aws.Float64(a.Threshold), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
		return fmt.Errorf("put alarm %q: %w", a.Name, err)
	}
	if state == "" {
		return nil
	}
	return SetAlarmState(ctx, cfg, a.Name, state)
}

// SetAlarmState sets an alarm's state in the account and region of cfg.
func SetAlarmState(ctx context.Context, cfg aws.Config, name string, state cwtypes.StateValue) error {
	if _, err := CloudWatch(cfg).SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: state,
		StateReason: aws.String("set to " + string(state) + " by the test estate")}); err != nil {
		return fmt.Errorf("set state of alarm %q: %w", name, err)
	}
	return nil
}

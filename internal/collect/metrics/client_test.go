package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/skymap/skymap/internal/awstest"
)

// The awsQuery client writes and reads back through moto.
func TestClientMoto(t *testing.T) {
	m := awstest.StartT(t)
	ctx := context.Background()
	cfg, err := m.Config(ctx, "eu-west-1", "")
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(cfg)
	now := time.Now().UTC().Truncate(time.Minute)
	dims := []types.Dimension{{Name: aws.String("InstanceId"), Value: aws.String("i-0123")}}
	if _, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("CPUUtilization"), Dimensions: dims, Timestamp: aws.Time(now.Add(-2 * time.Minute)), Value: aws.Float64(42), Unit: types.StandardUnitPercent},
	}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Minute)),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m0"), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"), Dimensions: dims},
			Period: aws.Int32(60), Stat: aws.String("Average")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricDataResults) != 1 || len(out.MetricDataResults[0].Values) != 1 || out.MetricDataResults[0].Values[0] != 42 {
		t.Fatalf("results %+v", out.MetricDataResults)
	}
	lm, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/EC2")})
	if err != nil || len(lm.Metrics) == 0 {
		t.Fatalf("list metrics: %v %+v", err, lm)
	}
	if _, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("cpu-high"), Namespace: aws.String("AWS/EC2"),
		MetricName: aws.String("CPUUtilization"), Dimensions: dims, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(90), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, Statistic: types.StatisticAverage}); err != nil {
		t.Fatal(err)
	}
	da, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil || len(da.MetricAlarms) != 1 {
		t.Fatalf("describe alarms: %v %+v", err, da)
	}
	t.Logf("alarm state %s, dims %v", da.MetricAlarms[0].StateValue, da.MetricAlarms[0].Dimensions)
}

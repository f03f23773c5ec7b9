// Package alarms turns CloudWatch alarms and run states into component
// health. It reads the metric alarms of every account and region holding
// components (DescribeAlarms, alarms.go), maps each to the components its
// dimensions name by reading the default metric table backwards
// (internal/collect/metrics), reads EC2 status checks (status.go), and
// sets each component's health through the topology graph, so that every
// change is a version in the history (health.go, refresh.go).
package alarms

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/skymap/skymap/internal/partition"
)

// IAMActions are the IAM actions health needs in a monitored account.
var IAMActions = []string{"cloudwatch:DescribeAlarms", "ec2:DescribeInstanceStatus"}

// Alarm states, as CloudWatch names them.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Alarm is a CloudWatch metric alarm and the components it is about.
type Alarm struct {
	Name       string    `json:"name"`
	ARN        string    `json:"arn"`
	State      string    `json:"state"`
	Reason     string    `json:"reason"`
	Updated    time.Time `json:"updated"`
	ConsoleURL string    `json:"console_url"`
	// Warning is true for an alarm whose name contains "warn" (any case):
	// in ALARM it makes its components DEVIATING, not CRITICAL.
	Warning bool `json:"warning,omitempty"`
	// Metrics are the metrics it watches (one, or those of its metric
	// math), each as namespace and dimensions.
	Metrics []Metric `json:"metrics"`
	// Components are the ids of the components its metrics name.
	Components []string `json:"components"`
}

// Metric is a metric an alarm watches.
type Metric struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions"`
}

// CloudWatch is the call Read makes.
type CloudWatch interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

var _ CloudWatch = (*cloudwatch.Client)(nil)

// Read returns the metric alarms of one account and region, every page.
// Composite alarms are not read: they name no metric, so no component.
func Read(ctx context.Context, api CloudWatch, region string) ([]Alarm, error) {
	var out []Alarm
	p := cloudwatch.NewDescribeAlarmsPaginator(api, &cloudwatch.DescribeAlarmsInput{
		AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm}, MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("cloudwatch:DescribeAlarms in %s: %w", region, err)
		}
		for _, a := range page.MetricAlarms {
			out = append(out, alarmOf(a, region))
		}
	}
	return out, nil
}

func alarmOf(a types.MetricAlarm, region string) Alarm {
	name := aws.ToString(a.AlarmName)
	al := Alarm{Name: name, ARN: aws.ToString(a.AlarmArn), State: string(a.StateValue), Reason: aws.ToString(a.StateReason),
		Updated: aws.ToTime(a.StateUpdatedTimestamp).UTC(), Warning: isWarning(name), ConsoleURL: consoleURL(region, name),
		Metrics: []Metric{}, Components: []string{}}
	if a.MetricName != nil {
		al.Metrics = append(al.Metrics, metricOf(aws.ToString(a.Namespace), aws.ToString(a.MetricName), a.Dimensions))
	}
	for _, q := range a.Metrics {
		if q.MetricStat != nil && q.MetricStat.Metric != nil {
			m := q.MetricStat.Metric
			al.Metrics = append(al.Metrics, metricOf(aws.ToString(m.Namespace), aws.ToString(m.MetricName), m.Dimensions))
		}
	}
	return al
}

func metricOf(ns, name string, dims []types.Dimension) Metric {
	m := Metric{Namespace: ns, Name: name, Dimensions: make(map[string]string, len(dims))}
	for _, d := range dims {
		m.Dimensions[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	return m
}

// consoleURL links to the alarm in the CloudWatch console of its
// partition.
func consoleURL(region, name string) string {
	p, ok := partition.OfRegion(region)
	if !ok {
		p, _ = partition.ByID("aws")
	}
	return p.ConsoleBase(region) + "/cloudwatch/home?region=" + region + "#alarmsV2:alarm/" + url.PathEscape(name)
}

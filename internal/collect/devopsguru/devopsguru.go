// Package devopsguru lists the Amazon DevOps Guru insights of every account
// and region holding components and attaches each to the components it
// names. It reads the insights that are ongoing or closed within a
// lookback window, both reactive and proactive (ListInsights), their
// descriptions (DescribeInsight) and the resources and metrics their
// anomalies name (ListAnomaliesForInsight) (read.go); maps those to
// components by CloudFormation type and name, by CloudWatch metric
// dimensions read backwards through the metric table
// (internal/collect/metrics) and by CloudFormation stack name (match.go);
// and keeps them in memory, refreshed every interval (refresh.go), with
// what each refresh did and the outcome of every call per account and
// region (status.go).
package devopsguru

import (
	"context"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/devopsguru"

	"github.com/skymap/skymap/internal/partition"
)

// The IAM actions of the calls, as call outcomes name them.
const (
	actionList      = "devops-guru:ListInsights"
	actionDescribe  = "devops-guru:DescribeInsight"
	actionAnomalies = "devops-guru:ListAnomaliesForInsight"
)

// IAMActions are the IAM actions reading insights needs in a monitored
// account (for `skymap iam-policy`).
var IAMActions = []string{actionList, actionDescribe, actionAnomalies}

// Insight types, statuses and severities, as DevOps Guru names them.
const (
	TypeReactive  = "REACTIVE"
	TypeProactive = "PROACTIVE"

	StatusOngoing = "ONGOING"
	StatusClosed  = "CLOSED"

	SeverityLow    = "LOW"
	SeverityMedium = "MEDIUM"
	SeverityHigh   = "HIGH"
)

// Kinds of the resources an insight names.
const (
	// KindResource is a resource of an anomaly: a CloudFormation type
	// (AWS::Lambda::Function) and a name or id.
	KindResource = "resource"
	// KindMetric is a CloudWatch metric an anomaly is about: namespace
	// (as Type), metric name and dimensions.
	KindMetric = "metric"
	// KindStack is a CloudFormation stack of the insight's resource
	// collection, by name.
	KindStack = "stack"
	// KindARN is a resource the insight names by ARN
	// (AssociatedResourceArns).
	KindARN = "arn"
)

// Insight is a DevOps Guru insight and the components it names.
type Insight struct {
	ID string `json:"id"`
	// Name is DevOps Guru's title, e.g. "ApiGateway 5XXError Anomalous In
	// Stack TestStack".
	Name string `json:"name"`
	// Description is DescribeInsight's; empty until that call worked.
	Description string `json:"description,omitempty"`
	// Type is REACTIVE or PROACTIVE.
	Type string `json:"type"`
	// Status is ONGOING or CLOSED.
	Status string `json:"status"`
	// Severity is LOW, MEDIUM or HIGH.
	Severity string `json:"severity"`
	Account  string `json:"account"`
	Region   string `json:"region"`
	// Start and End are when the behaviour began and ended; End is nil
	// while the insight is ongoing.
	Start time.Time  `json:"start"`
	End   *time.Time `json:"end,omitempty"`
	// PredictedStart and PredictedEnd are when a proactive insight
	// predicts the behaviour; nil for reactive insights.
	PredictedStart *time.Time `json:"predicted_start,omitempty"`
	PredictedEnd   *time.Time `json:"predicted_end,omitempty"`
	// OpsItem is the id of the Systems Manager OpsItem DevOps Guru made
	// for the insight, if any.
	OpsItem    string `json:"ops_item,omitempty"`
	ConsoleURL string `json:"console_url"`
	// Tags are the tag boundaries of the insight's resource collection.
	// They are kept, not mapped: a boundary names every resource carrying
	// the tag, not the ones that behaved anomalously.
	Tags []Tag `json:"tags,omitempty"`
	// Services are the AWS services the insight is about (LAMBDA,
	// DYNAMO_DB, ...).
	Services []string `json:"services,omitempty"`
	// Anomalies counts the anomalies of the insight at the last
	// ListAnomaliesForInsight that worked.
	Anomalies int `json:"anomalies"`
	// Resources are what the insight and its anomalies name, each with the
	// component it maps to, if any.
	Resources []Resource `json:"resources"`
	// Components are the ids of the components of Resources, sorted.
	Components []string `json:"components"`
	// Unmatched counts the Resources that name no known component.
	Unmatched int `json:"unmatched"`

	// described and anomaliesRead are true once DescribeInsight and
	// ListAnomaliesForInsight answered for the insight's current state
	// (status, severity and end).
	described, anomaliesRead bool
}

// Resource is something an insight names.
type Resource struct {
	// Kind is KindResource, KindMetric, KindStack or KindARN.
	Kind string `json:"kind"`
	// Type is the CloudFormation type of a resource or stack, the
	// namespace of a metric, empty for an ARN.
	Type string `json:"type,omitempty"`
	// Name is the resource's name or id, the metric's name, the stack's
	// name or the ARN.
	Name string `json:"name"`
	// Dimensions are a metric's.
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Component is the id of the component it maps to, empty when none.
	Component string `json:"component,omitempty"`
}

// Tag is a tag boundary of a resource collection: resources whose tag
// AppBoundaryKey has one of Values.
type Tag struct {
	AppBoundaryKey string   `json:"app_boundary_key"`
	Values         []string `json:"values"`
}

// API is the calls a refresh makes; *devopsguru.Client is one.
type API interface {
	ListInsights(ctx context.Context, in *devopsguru.ListInsightsInput, optFns ...func(*devopsguru.Options)) (*devopsguru.ListInsightsOutput, error)
	DescribeInsight(ctx context.Context, in *devopsguru.DescribeInsightInput, optFns ...func(*devopsguru.Options)) (*devopsguru.DescribeInsightOutput, error)
	ListAnomaliesForInsight(ctx context.Context, in *devopsguru.ListAnomaliesForInsightInput, optFns ...func(*devopsguru.Options)) (*devopsguru.ListAnomaliesForInsightOutput, error)
}

var _ API = (*devopsguru.Client)(nil)

// NewClient returns a DevOps Guru client for cfg.
func NewClient(cfg aws.Config) *devopsguru.Client { return devopsguru.NewFromConfig(cfg) }

// consoleURL links to an insight in the DevOps Guru console of its
// partition, as DevOps Guru's own notifications do
// (https://<region>.console.aws.amazon.com/devops-guru/#/insight/reactive/<id>).
func consoleURL(region, typ, id string) string {
	p, ok := partition.OfRegion(region)
	if !ok {
		p, _ = partition.ByID("aws")
	}
	kind := "reactive"
	if typ == TypeProactive {
		kind = "proactive"
	}
	return p.ConsoleBase(region) + "/devops-guru/#/insight/" + kind + "/" + url.PathEscape(id)
}

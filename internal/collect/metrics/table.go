package metrics

import (
	"fmt"
	"strings"

	"github.com/skymap/skymap/internal/model"
)

// The default metric sets: for each component type, the CloudWatch
// namespace, how its dimensions are read from the component, and the
// metrics with the statistic that summarises each best. One table, so that
// the API, the periodic fetches, alarms (which name the same dimensions)
// and the docs agree.

// Metric is one metric of a set, with the statistic asked for it.
type Metric struct {
	Name string
	Stat string // Average, Sum, Maximum, Minimum, SampleCount or a percentile (p99)
}

// Dimension is one dimension of a set and how a component gives its value.
type Dimension struct {
	Name  string
	Value func(c *model.Component) string
	// Fixed is true for a dimension whose value is the same for every
	// component (S3's StorageType): it does not tell components apart.
	Fixed bool
}

// Set is the default metric set of a component type.
type Set struct {
	Type       string
	Namespace  string
	Dimensions []Dimension
	Metrics    []Metric
	// MinPeriod is the shortest period the metrics have (S3's storage
	// metrics are daily); 0 means 60 s.
	MinPeriod int32
	// Region, when set, is where the metrics are (CloudFront's are in
	// us-east-1 whatever the distribution); else the component's region.
	Region string
}

func avg(names ...string) []Metric  { return stat("Average", names...) }
func sum(names ...string) []Metric  { return stat("Sum", names...) }
func maxm(names ...string) []Metric { return stat("Maximum", names...) }

func stat(s string, names ...string) []Metric {
	out := make([]Metric, len(names))
	for i, n := range names {
		out[i] = Metric{Name: n, Stat: s}
	}
	return out
}

func join(sets ...[]Metric) []Metric {
	var out []Metric
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// data returns a dimension read from the component's data field key.
func data(name, key string) Dimension {
	return Dimension{Name: name, Value: func(c *model.Component) string { return dataString(c, key) }}
}

func dataString(c *model.Component, key string) string {
	if s, ok := c.Data[key].(string); ok {
		return s
	}
	return ""
}

// arnTail is the part of the component's ARN (its id, or data key) after
// the last sep.
func arnTail(name, key, sep string) Dimension {
	return Dimension{Name: name, Value: func(c *model.Component) string {
		arn := c.ID
		if key != "" {
			arn = dataString(c, key)
		}
		if i := strings.LastIndex(arn, sep); i >= 0 && strings.HasPrefix(arn, "arn:") {
			return arn[i+len(sep):]
		}
		return ""
	}}
}

// afterMarker is the part of an ARN (data key) after marker: an ALB's
// "app/<name>/<id>" after "loadbalancer/".
func afterMarker(name, key, marker string) Dimension {
	return Dimension{Name: name, Value: func(c *model.Component) string {
		return after(dataString(c, key), marker)
	}}
}

func after(s, marker string) string {
	if i := strings.Index(s, marker); i >= 0 {
		return s[i+len(marker):]
	}
	return ""
}

// constant is a dimension with a fixed value.
func constant(name, value string) Dimension {
	return Dimension{Name: name, Value: func(*model.Component) string { return value }, Fixed: true}
}

// targetGroupLB is a target group's first load balancer, as CloudWatch
// names it ("app/<name>/<id>"): its metrics are per (target group, load
// balancer).
var targetGroupLB = Dimension{Name: "LoadBalancer", Value: func(c *model.Component) string {
	arns, _ := c.Data["LoadBalancerArns"].([]any)
	if len(arns) == 0 {
		return ""
	}
	s, _ := arns[0].(string)
	return after(s, ":loadbalancer/")
}}

// targetGroupDim is a target group as CloudWatch names it:
// "targetgroup/<name>/<id>".
var targetGroupDim = Dimension{Name: "TargetGroup", Value: func(c *model.Component) string {
	if s := after(dataString(c, "TargetGroupArn"), ":targetgroup/"); s != "" {
		return "targetgroup/" + s
	}
	return ""
}}

// ecsServiceCluster is an ECS service's cluster name, from its ARN.
var ecsServiceCluster = Dimension{Name: "ClusterName", Value: func(c *model.Component) string {
	return after(dataString(c, "ClusterArn"), ":cluster/")
}}

var sets = []Set{
	{Type: "aws.ec2.instance", Namespace: "AWS/EC2", Dimensions: []Dimension{data("InstanceId", "InstanceId")},
		Metrics: join(avg("CPUUtilization"), sum("NetworkIn", "NetworkOut", "NetworkPacketsIn", "NetworkPacketsOut"),
			maxm("StatusCheckFailed", "StatusCheckFailed_Instance", "StatusCheckFailed_System"))},
	{Type: "aws.ec2.volume", Namespace: "AWS/EBS", Dimensions: []Dimension{data("VolumeId", "VolumeId")},
		Metrics: join(sum("VolumeReadOps", "VolumeWriteOps", "VolumeReadBytes", "VolumeWriteBytes"), avg("VolumeQueueLength"))},
	{Type: "aws.ec2.nat-gateway", Namespace: "AWS/NATGateway", Dimensions: []Dimension{data("NatGatewayId", "NatGatewayId")},
		Metrics: join(sum("BytesOutToDestination", "BytesInFromSource", "ErrorPortAllocation", "PacketsDropCount"), maxm("ActiveConnectionCount"))},
	{Type: "aws.ec2.transit-gateway", Namespace: "AWS/TransitGateway", Dimensions: []Dimension{data("TransitGateway", "TransitGatewayId")},
		Metrics: sum("BytesIn", "BytesOut", "PacketsIn", "PacketsOut", "PacketDropCountBlackhole", "PacketDropCountNoRoute")},
	{Type: "aws.elb-classic.load-balancer", Namespace: "AWS/ELB", Dimensions: []Dimension{data("LoadBalancerName", "LoadBalancerName")},
		Metrics: join(sum("RequestCount", "HTTPCode_Backend_4XX", "HTTPCode_Backend_5XX", "HTTPCode_ELB_5XX"), avg("Latency"),
			maxm("UnHealthyHostCount"), avg("HealthyHostCount"))},
	{Type: "aws.elb-v2.application-load-balancer", Namespace: "AWS/ApplicationELB",
		Dimensions: []Dimension{afterMarker("LoadBalancer", "LoadBalancerArn", ":loadbalancer/")},
		Metrics: join(sum("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count",
			"ActiveConnectionCount", "ProcessedBytes"), avg("TargetResponseTime"))},
	{Type: "aws.elb-v2.network-load-balancer", Namespace: "AWS/NetworkELB",
		Dimensions: []Dimension{afterMarker("LoadBalancer", "LoadBalancerArn", ":loadbalancer/")},
		Metrics:    join(avg("ActiveFlowCount"), sum("NewFlowCount", "ProcessedBytes", "TCP_Client_Reset_Count", "TCP_Target_Reset_Count"))},
	// A target group of a network load balancer has its metrics in
	// AWS/NetworkELB: targetGroupSet picks by protocol.
	{Type: "aws.elb-v2.target-group", Namespace: "AWS/ApplicationELB",
		Dimensions: []Dimension{targetGroupDim, targetGroupLB},
		Metrics:    join(avg("HealthyHostCount", "UnHealthyHostCount", "TargetResponseTime"), sum("RequestCount", "HTTPCode_Target_5XX_Count"))},
	{Type: "aws.autoscaling.group", Namespace: "AWS/AutoScaling", Dimensions: []Dimension{data("AutoScalingGroupName", "AutoScalingGroupName")},
		Metrics: avg("GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances", "GroupTerminatingInstances")},
	{Type: "aws.ecs.cluster", Namespace: "AWS/ECS", Dimensions: []Dimension{data("ClusterName", "ClusterName")},
		Metrics: avg("CPUUtilization", "MemoryUtilization", "CPUReservation", "MemoryReservation")},
	{Type: "aws.ecs.service", Namespace: "AWS/ECS", Dimensions: []Dimension{ecsServiceCluster, data("ServiceName", "ServiceName")},
		Metrics: avg("CPUUtilization", "MemoryUtilization")},
	{Type: "aws.eks.cluster", Namespace: "ContainerInsights", Dimensions: []Dimension{data("ClusterName", "Name")},
		Metrics: join(avg("node_cpu_utilization", "node_memory_utilization"), maxm("cluster_failed_node_count", "cluster_node_count"))},
	{Type: "aws.lambda.function", Namespace: "AWS/Lambda", Dimensions: []Dimension{data("FunctionName", "FunctionName")},
		Metrics: join(sum("Invocations", "Errors", "Throttles"), avg("Duration"), stat("p99", "Duration"), maxm("ConcurrentExecutions"))},
	{Type: "aws.stepfunction.statemachine", Namespace: "AWS/States", Dimensions: []Dimension{data("StateMachineArn", "StateMachineArn")},
		Metrics: join(sum("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionThrottled"), avg("ExecutionTime"))},
	{Type: "aws.apigateway.rest-api", Namespace: "AWS/ApiGateway", Dimensions: []Dimension{data("ApiName", "Name")},
		Metrics: join(sum("Count", "4XXError", "5XXError"), avg("Latency", "IntegrationLatency"))},
	{Type: "aws.apigatewayv2.api", Namespace: "AWS/ApiGateway", Dimensions: []Dimension{data("ApiId", "ApiId")},
		Metrics: join(sum("Count", "4xx", "5xx"), avg("Latency", "IntegrationLatency"))},
	{Type: "aws.s3.bucket", Namespace: "AWS/S3", Dimensions: []Dimension{data("BucketName", "Name"), constant("StorageType", "StandardStorage")},
		Metrics: avg("BucketSizeBytes"), MinPeriod: 86400},
	{Type: "aws.rds.instance", Namespace: "AWS/RDS", Dimensions: []Dimension{data("DBInstanceIdentifier", "DBInstanceIdentifier")},
		Metrics: join(avg("CPUUtilization", "DatabaseConnections", "ReadIOPS", "WriteIOPS", "ReadLatency", "WriteLatency"),
			stat("Minimum", "FreeStorageSpace", "FreeableMemory"))},
	{Type: "aws.rds.cluster", Namespace: "AWS/RDS", Dimensions: []Dimension{data("DBClusterIdentifier", "DBClusterIdentifier")},
		Metrics: join(avg("CPUUtilization", "DatabaseConnections", "AuroraReplicaLag"), sum("VolumeReadIOPs", "VolumeWriteIOPs"))},
	{Type: "aws.redshift.cluster", Namespace: "AWS/Redshift", Dimensions: []Dimension{data("ClusterIdentifier", "ClusterIdentifier")},
		Metrics: avg("CPUUtilization", "DatabaseConnections", "PercentageDiskSpaceUsed", "HealthStatus")},
	{Type: "aws.elasticache.cluster", Namespace: "AWS/ElastiCache", Dimensions: []Dimension{data("CacheClusterId", "CacheClusterId")},
		Metrics: join(avg("CPUUtilization", "CurrConnections"), sum("Evictions", "CacheHits", "CacheMisses"))},
	{Type: "aws.dynamodb.table", Namespace: "AWS/DynamoDB", Dimensions: []Dimension{data("TableName", "TableName")},
		Metrics: sum("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ReadThrottleEvents", "WriteThrottleEvents", "SystemErrors")},
	{Type: "aws.sqs.queue", Namespace: "AWS/SQS", Dimensions: []Dimension{arnTail("QueueName", "", ":")},
		Metrics: join(sum("NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted"),
			maxm("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"))},
	{Type: "aws.sns.topic", Namespace: "AWS/SNS", Dimensions: []Dimension{arnTail("TopicName", "", ":")},
		Metrics: sum("NumberOfMessagesPublished", "NumberOfNotificationsDelivered", "NumberOfNotificationsFailed")},
	{Type: "aws.kinesis.data-stream", Namespace: "AWS/Kinesis", Dimensions: []Dimension{data("StreamName", "StreamName")},
		Metrics: join(sum("IncomingRecords", "IncomingBytes", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded"),
			maxm("GetRecords.IteratorAgeMilliseconds"))},
	{Type: "aws.firehose.delivery-stream", Namespace: "AWS/Firehose", Dimensions: []Dimension{data("DeliveryStreamName", "DeliveryStreamName")},
		Metrics: join(sum("IncomingRecords", "IncomingBytes"), avg("DeliveryToS3.Success"), maxm("DeliveryToS3.DataFreshness"))},
	{Type: "aws.events.rule", Namespace: "AWS/Events", Dimensions: []Dimension{data("RuleName", "Name")},
		Metrics: sum("Invocations", "FailedInvocations", "TriggeredRules")},
	{Type: "aws.cloudfront.distribution", Namespace: "AWS/CloudFront", Region: "us-east-1",
		Dimensions: []Dimension{data("DistributionId", "Id"), constant("Region", "Global")},
		Metrics:    join(sum("Requests", "BytesDownloaded"), avg("4xxErrorRate", "5xxErrorRate"))},
}

var byType = func() map[string]*Set {
	m := make(map[string]*Set, len(sets))
	for i := range sets {
		if m[sets[i].Type] != nil {
			panic("metrics: two sets for " + sets[i].Type)
		}
		m[sets[i].Type] = &sets[i]
	}
	return m
}()

// Sets returns the default metric sets, one per component type that has
// CloudWatch metrics.
func Sets() []Set { return sets }

// SetFor returns the default set of a component type, or nil.
func SetFor(typ string) *Set { return byType[typ] }

// Query is one metric of one component, ready to ask for.
type Query struct {
	Component  string      `json:"component"` // its id
	Account    string      `json:"account"`
	Region     string      `json:"region"` // where the metric is
	Namespace  string      `json:"namespace"`
	Name       string      `json:"name"`
	Stat       string      `json:"stat"`
	Dimensions [][2]string `json:"dimensions"` // name, value, in the set's order
	MinPeriod  int32       `json:"-"`
}

// Key identifies the metric (namespace, name, dimensions) and statistic.
func (q *Query) Key() string {
	var b strings.Builder
	b.WriteString(q.Namespace)
	b.WriteByte('|')
	b.WriteString(q.Name)
	b.WriteByte('|')
	b.WriteString(q.Stat)
	for _, d := range q.Dimensions {
		fmt.Fprintf(&b, "|%s=%s", d[0], d[1])
	}
	return b.String()
}

// Queries returns the default metric set of c as queries, or an error
// naming the dimension c lacks (a component described without the field
// its metrics are keyed by) or saying its type has no metrics.
func Queries(c *model.Component) ([]Query, error) {
	set := byType[c.Type]
	if set == nil {
		return nil, fmt.Errorf("%s: components of type %s have no CloudWatch metrics in skymap's table", c.ID, c.Type)
	}
	dims := make([][2]string, len(set.Dimensions))
	for i, d := range set.Dimensions {
		v := d.Value(c)
		if v == "" {
			return nil, fmt.Errorf("%s: no value for the %s dimension of %s", c.ID, d.Name, set.Namespace)
		}
		dims[i] = [2]string{d.Name, v}
	}
	ns := set.Namespace
	if c.Type == "aws.elb-v2.target-group" && isNetworkProtocol(dataString(c, "Protocol")) {
		ns = "AWS/NetworkELB"
	}
	region := c.Region
	if set.Region != "" {
		region = set.Region
	}
	out := make([]Query, len(set.Metrics))
	for i, m := range set.Metrics {
		out[i] = Query{Component: c.ID, Account: c.Account, Region: region, Namespace: ns, Name: m.Name, Stat: m.Stat,
			Dimensions: dims, MinPeriod: set.MinPeriod}
	}
	return out, nil
}

// isNetworkProtocol tells a network load balancer's target group by its
// protocol.
func isNetworkProtocol(p string) bool {
	switch p {
	case "TCP", "UDP", "TCP_UDP", "TLS":
		return true
	}
	return false
}

package traces

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/skymap/skymap/internal/partition"
)

// Reference prefixes of the ends a span names. An ARN or urn:host:/<ip>
// is published as it is; urn:endpoint:/<host> and urn:service:/<name> are
// resolved against the map when relations are published (see resolve).
const (
	endpointPrefix = "urn:endpoint:/"
	servicePrefix  = "urn:service:/"
	hostPrefix     = "urn:host:/"
)

// caller is the component a resource's spans come from.
type caller struct {
	ref     string // an ARN, or urn:service:/<name>
	account string // for building the ARNs of what it calls, "" when unknown
	region  string
	part    string // ARN partition of region, "aws" when unknown
}

// callerOf reads the calling component from a resource's attributes:
// cloud.resource_id when it is an ARN; faas.name with cloud.region and
// cloud.account.id as a Lambda function's ARN; else faas.name or
// service.name as urn:service:/<name>, resolved by name when published.
// The zero caller (ref "") means the resource names nothing usable.
func callerOf(attrs []*commonpb.KeyValue) caller {
	var resourceID, faasName, serviceName string
	var c caller
	for _, kv := range attrs {
		switch kv.GetKey() {
		case "cloud.resource_id":
			resourceID = kv.GetValue().GetStringValue()
		case "faas.name":
			faasName = kv.GetValue().GetStringValue()
		case "service.name":
			serviceName = kv.GetValue().GetStringValue()
		case "cloud.region":
			c.region = kv.GetValue().GetStringValue()
		case "cloud.account.id":
			c.account = kv.GetValue().GetStringValue()
		}
	}
	c.part = "aws"
	if p, ok := partition.OfRegion(c.region); ok {
		c.part = p.ID
	}
	switch {
	case resourceID != "":
		if a, ok := partition.ParseARN(resourceID); ok {
			c.ref = functionARN(a)
			c.part, c.account, c.region = a.Partition, a.Account, a.Region
			return c
		}
	case faasName != "" && c.region != "" && partition.IsAccountID(c.account):
		c.ref = "arn:" + c.part + ":lambda:" + c.region + ":" + c.account + ":function:" + faasName
		return c
	}
	switch {
	case faasName != "":
		c.ref = servicePrefix + faasName
	case serviceName != "" && !strings.HasPrefix(serviceName, "unknown_service"):
		c.ref = servicePrefix + serviceName
	}
	return c
}

// withInvokedARN completes a caller known only by name from a Lambda's
// aws.lambda.invoked_arn or faas.invoked_arn span attribute (the ARN it
// was invoked by), which is what instrumented functions report when their
// resource lacks cloud.account.id.
func (c caller) withInvokedARN(spans []*tracepb.Span) caller {
	if !strings.HasPrefix(c.ref, servicePrefix) {
		return c
	}
	for _, s := range spans {
		for _, kv := range s.GetAttributes() {
			if k := kv.GetKey(); k != "aws.lambda.invoked_arn" && k != "faas.invoked_arn" {
				continue
			}
			if a, ok := partition.ParseARN(kv.GetValue().GetStringValue()); ok && a.Service == "lambda" {
				return caller{ref: functionARN(a), account: a.Account, region: a.Region, part: a.Partition}
			}
		}
	}
	return c
}

// functionARN drops a version qualifier ($LATEST or a number) from a
// Lambda function ARN: the function is the component. An alias qualifier
// stays, naming the alias component.
func functionARN(a partition.ARN) string {
	if a.Service != "lambda" {
		return a.String()
	}
	if name, q, ok := strings.Cut(strings.TrimPrefix(a.Resource, "function:"), ":"); ok {
		if _, err := strconv.ParseUint(q, 10, 64); err == nil || q == "$LATEST" {
			a.Resource = "function:" + name
		}
	}
	return a.String()
}

// callAttrs are the span attributes that name what a client or producer
// span called.
type callAttrs struct {
	rpcSystem, rpcService, rpcMethod string
	tables                           []string // aws.dynamodb.table_names
	queueURL, bucket, stream         string
	invokedName, invokedRegion       string
	arns                             []string // aws.*.arn and aws.*_arn values
	dbSystem, dbOperation            string
	msgSystem, msgDest, msgOperation string
	peerService                      string
	serverAddress, url               string
	httpMethod                       string
}

// readCallAttrs collects the attributes callAttrs holds, of the current
// and the older semantic conventions.
func readCallAttrs(attrs []*commonpb.KeyValue, a *callAttrs) {
	*a = callAttrs{tables: a.tables[:0], arns: a.arns[:0]}
	for _, kv := range attrs {
		k := kv.GetKey()
		v := kv.GetValue()
		switch k {
		case "rpc.system":
			a.rpcSystem = v.GetStringValue()
		case "rpc.service":
			a.rpcService = v.GetStringValue()
		case "rpc.method":
			a.rpcMethod = v.GetStringValue()
		case "aws.dynamodb.table_names":
			for _, e := range v.GetArrayValue().GetValues() {
				a.tables = append(a.tables, e.GetStringValue())
			}
			if s := v.GetStringValue(); s != "" {
				a.tables = append(a.tables, s)
			}
		case "aws.sqs.queue_url":
			a.queueURL = v.GetStringValue()
		case "aws.s3.bucket":
			a.bucket = v.GetStringValue()
		case "aws.kinesis.stream_name":
			a.stream = v.GetStringValue()
		case "faas.invoked_name":
			a.invokedName = v.GetStringValue()
		case "faas.invoked_region":
			a.invokedRegion = v.GetStringValue()
		case "db.system", "db.system.name":
			a.dbSystem = v.GetStringValue()
		case "db.operation", "db.operation.name":
			a.dbOperation = v.GetStringValue()
		case "messaging.system":
			a.msgSystem = v.GetStringValue()
		case "messaging.destination.name", "messaging.destination":
			a.msgDest = v.GetStringValue()
		case "messaging.operation", "messaging.operation.type", "messaging.operation.name":
			a.msgOperation = v.GetStringValue()
		case "peer.service":
			a.peerService = v.GetStringValue()
		case "server.address", "net.peer.name":
			a.serverAddress = v.GetStringValue()
		case "url.full", "http.url":
			a.url = v.GetStringValue()
		case "http.request.method", "http.method":
			a.httpMethod = v.GetStringValue()
		default:
			if strings.HasPrefix(k, "aws.") && (strings.HasSuffix(k, ".arn") || strings.HasSuffix(k, "_arn")) {
				if s := v.GetStringValue(); s != "" {
					a.arns = append(a.arns, s)
				}
			}
		}
	}
}

// call is what one span called: the ends (more than one when a DynamoDB
// batch names several tables), the system ("aws-api", a db.system, a
// messaging.system, "peer" or "http") and the operation.
type call struct {
	targets   []string
	system    string
	operation string
}

// awsResource builds the ARN of a resource an AWS SDK span names by its
// name, in the caller's account and region: an ARN builder per service,
// keyed by the lower-case rpc.service (or messaging.system).
var awsResource = map[string]func(part, region, account, name string) string{
	"dynamodb": func(p, r, a, n string) string { return "arn:" + p + ":dynamodb:" + r + ":" + a + ":table/" + n },
	"sqs":      func(p, r, a, n string) string { return "arn:" + p + ":sqs:" + r + ":" + a + ":" + n },
	"sns":      func(p, r, a, n string) string { return "arn:" + p + ":sns:" + r + ":" + a + ":" + n },
	"kinesis":  func(p, r, a, n string) string { return "arn:" + p + ":kinesis:" + r + ":" + a + ":stream/" + n },
	"lambda":   func(p, r, a, n string) string { return "arn:" + p + ":lambda:" + r + ":" + a + ":function:" + n },
	"s3":       func(p, _, _, n string) string { return "arn:" + p + ":s3:::" + n },
}

// messagingService maps messaging.system values to the keys of
// awsResource.
var messagingService = map[string]string{"aws_sqs": "sqs", "aws.sqs": "sqs", "aws_sns": "sns", "aws.sns": "sns", "aws_kinesis": "kinesis"}

// callOf maps a client or producer span's attributes to what it called,
// trying in turn the AWS SDK conventions (rpc.system aws-api and aws.*),
// db.*, messaging.*, peer.service and the HTTP URL or server address. It
// appends the ends to c.targets; none means the span names nothing
// skymap can place (an AWS call naming no resource, say).
func callOf(from caller, a *callAttrs, c *call) {
	c.targets, c.system, c.operation = c.targets[:0], "", ""
	svc := strings.ToLower(a.rpcService)
	if s, ok := messagingService[strings.ToLower(a.msgSystem)]; ok && svc == "" {
		svc = s
	}
	if a.rpcSystem == "aws-api" || len(a.tables) > 0 || a.queueURL != "" || a.bucket != "" || len(a.arns) > 0 || a.stream != "" {
		c.system, c.operation = "aws-api", a.rpcMethod
		named := func(service, name, region string) {
			switch {
			case name == "":
			case strings.HasPrefix(name, "arn:"):
				c.targets = append(c.targets, name)
			case partition.IsAccountID(from.account) && region != "" || service == "s3":
				c.targets = append(c.targets, awsResource[service](from.part, region, from.account, name))
			default:
				c.targets = append(c.targets, servicePrefix+name)
			}
		}
		for _, t := range a.tables {
			named("dynamodb", t, from.region)
		}
		switch {
		case a.queueURL != "":
			c.targets = append(c.targets, queueRef(a.queueURL, from))
		case svc == "sqs" && strings.Contains(a.msgDest, "://"):
			c.targets = append(c.targets, queueRef(a.msgDest, from))
		case svc == "sqs":
			named("sqs", a.msgDest, from.region)
		case svc == "sns":
			named("sns", a.msgDest, from.region)
		}
		named("s3", a.bucket, "")
		named("kinesis", a.stream, from.region)
		if a.invokedRegion != "" {
			named("lambda", a.invokedName, a.invokedRegion)
		} else {
			named("lambda", a.invokedName, from.region)
		}
		for _, arn := range a.arns {
			if _, ok := partition.ParseARN(arn); ok && !containsStr(c.targets, arn) {
				c.targets = append(c.targets, arn)
			}
		}
		return
	}
	host := a.serverAddress
	if a.url != "" {
		if u, err := url.Parse(a.url); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
	}
	switch {
	case a.dbSystem != "":
		c.system, c.operation = a.dbSystem, a.dbOperation
		if ref := hostRef(host); ref != "" {
			c.targets = append(c.targets, ref)
		} else if a.peerService != "" {
			c.targets = append(c.targets, servicePrefix+a.peerService)
		}
		return
	case a.msgSystem != "":
		c.system, c.operation = a.msgSystem, a.msgOperation
	case a.peerService != "":
		c.system = "peer"
	default:
		c.system, c.operation = "http", a.httpMethod
	}
	switch {
	case a.peerService != "":
		c.targets = append(c.targets, servicePrefix+a.peerService)
	case hostRef(host) != "":
		c.targets = append(c.targets, hostRef(host))
	}
}

// queueRef is the ARN of the queue a queue URL names: the path is
// /<account>/<name> whatever the host (sqs.<region>.amazonaws.com, the
// legacy <region>.queue.amazonaws.com, a VPC endpoint or an emulator);
// the region is a label of the host, else the caller's. A URL of another
// shape is published as urn:service:/<url>.
func queueRef(v string, from caller) string {
	u, err := url.Parse(v)
	if err == nil {
		seg := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(seg) == 2 && partition.IsAccountID(seg[0]) && seg[1] != "" {
			region, part := from.region, from.part
			for _, label := range strings.Split(strings.ToLower(u.Hostname()), ".") {
				if p, ok := partition.OfRegion(label); ok {
					region, part = label, p.ID
					break
				}
			}
			if region != "" {
				return "arn:" + part + ":sqs:" + region + ":" + seg[0] + ":" + seg[1]
			}
		}
	}
	return servicePrefix + v
}

// hostRef is the reference of a host name or address: urn:host:/<ip> for
// an IP address, urn:endpoint:/<name> for a DNS name (lower case, without
// a port or trailing dot), "" for nothing.
func hostRef(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	if host == "" || strings.ContainsAny(host, " /\t\r\n") {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil {
		return hostPrefix + ip.String()
	}
	return endpointPrefix + host
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

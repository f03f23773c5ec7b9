package events

import (
	"net/url"
	"strings"

	"github.com/skymap/skymap/internal/partition"
)

// Ids of the resources of some services, built from names in requests.
var (
	function     = first(arns(res("functionArn")), arn("arn:{partition}:lambda:{region}:{account}:function:{name}", req("functionName")))
	table        = first(arns(res("tableDescription.tableArn")), arn("arn:{partition}:dynamodb:{region}:{account}:table/{name}", req("tableName")))
	stream       = arn("arn:{partition}:kinesis:{region}:{account}:stream/{name}", req("streamARN", "streamName"))
	firehose     = first(arns(res("deliveryStreamARN")), arn("arn:{partition}:firehose:{region}:{account}:deliverystream/{name}", req("deliveryStreamName")))
	bucket       = arn("arn:{partition}:s3:::{name}", req("bucketName"))
	queue        = queueARN(req("queueUrl"))
	classicLB    = arn("arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/{name}", req("loadBalancerName", "loadBalancerNames"))
	asg          = req("autoScalingGroupName")
	rdsInstance  = first(arns(res("dBInstanceArn")), arn("arn:{partition}:rds:{region}:{account}:db:{name}", lower(req("dBInstanceIdentifier"))))
	rdsCluster   = first(arns(res("dBClusterArn")), arn("arn:{partition}:rds:{region}:{account}:cluster:{name}", lower(req("dBClusterIdentifier"))))
	redshift     = arn("arn:{partition}:redshift:{region}:{account}:cluster:{name}", lower(first(res("clusterIdentifier"), req("clusterIdentifier"))))
	cache        = first(arns(res("aRN", "cacheCluster.aRN")), arn("arn:{partition}:elasticache:{region}:{account}:cluster:{name}", lower(req("cacheClusterId"))))
	ecsCluster   = first(arns(res("cluster.clusterArn")), arn("arn:{partition}:ecs:{region}:{account}:cluster/{name}", req("cluster", "clusterName")))
	eksCluster   = first(arns(res("cluster.arn")), arn("arn:{partition}:eks:{region}:{account}:cluster/{name}", req("name")))
	restAPI      = arn("arn:{partition}:apigateway:{region}::/restapis/{name}", first(res("id", "self.restApiId"), req("restApiId")))
	apiV2        = arn("arn:{partition}:apigateway:{region}::/apis/{name}", first(res("apiId"), req("apiId")))
	hostedZone   = trim("/hostedzone/", first(res("hostedZone.id"), req("hostedZoneId", "id")))
	distribution = first(arns(res("distribution.aRN", "distribution.ARN")),
		arn("arn:{partition}:cloudfront::{account}:distribution/{name}", first(res("distribution.id"), req("id"))))
	stack = first(res("stackId"), req("stackName"))
	// role: IAM gives only the name; the ARN assumes the default path "/"
	// (a role with a path is missed until the next scan).
	role = first(arns(res("role.arn")), arn("arn:{partition}:iam::{account}:role/{name}", req("roleName")))
	// tagged is the resource a TagResource-like call names, by ARN; its
	// type is the one the ARN names.
	tagged = arns(req("resourceArn", "resourceARN", "resource", "resourceArns", "resourceName", "resourceArnList"))
)

// queueARN turns queue URLs (https://sqs.<region>.amazonaws.com/<account>/<name>
// and the legacy and endpoint forms) into queue ARNs: the account and name
// from the path, the region from a label of the host that is one, else the
// event's.
func queueARN(s source) source {
	return mapIDs(s, func(c *call, v string) string {
		if strings.HasPrefix(v, "arn:") {
			return c.normalise(v)
		}
		u, err := url.Parse(v)
		if err != nil {
			return ""
		}
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return ""
		}
		region, p := c.e.Region, c.partition
		for _, label := range strings.Split(u.Hostname(), ".") {
			if part, ok := partition.OfRegion(label); ok {
				region, p = label, part.ID
				break
			}
		}
		return "arn:" + p + ":sqs:" + region + ":" + parts[0] + ":" + parts[1]
	})
}

// loadBalancerOf turns ELBv2 load balancer, listener and listener rule ARNs
// into their load balancer's ARN.
func loadBalancerOf(s source) source {
	return mapIDs(s, func(c *call, v string) string {
		a, ok := partition.ParseARN(c.normalise(v))
		if !ok {
			return ""
		}
		parts := strings.Split(a.Resource, "/")
		if len(parts) < 4 {
			return ""
		}
		switch parts[0] {
		case "loadbalancer", "listener", "listener-rule":
			a.Resource = "loadbalancer/" + strings.Join(parts[1:4], "/")
			return a.String()
		}
		return ""
	})
}

// topicOf turns subscription ARNs (<topic ARN>:<id>) into topic ARNs.
func topicOf(s source) source {
	return mapIDs(s, func(c *call, v string) string {
		a, ok := partition.ParseARN(c.normalise(v))
		if !ok {
			return ""
		}
		i := strings.LastIndexByte(a.Resource, ':')
		if i < 0 {
			return ""
		}
		a.Resource = a.Resource[:i]
		return a.String()
	})
}

// ec2Tagged is what EC2's CreateTags and DeleteTags name, typed by the
// prefix of each id; ids of types skymap does not show are left out.
var ec2Tagged = rule{"", Refresh, func(c *call) []string {
	var out []string
	for _, id := range lookup(c.req, "resourcesSet.items.resourceId") {
		for _, p := range ec2Prefixes {
			if strings.HasPrefix(id, p.prefix) {
				// typed by ARN: the rule's type is "" so that ids of
				// several types can share it.
				out = append(out, "arn:"+c.partition+":ec2:"+c.e.Region+":"+c.e.Account+":"+p.kind+"/"+id)
				break
			}
		}
	}
	return out
}}

// ec2Prefixes are the id prefixes of EC2 resource kinds, as their ARNs
// name them.
var ec2Prefixes = []struct{ prefix, kind string }{
	{"i-", "instance"}, {"vpc-", "vpc"}, {"subnet-", "subnet"}, {"sg-", "security-group"},
	{"vol-", "volume"}, {"eni-", "network-interface"}, {"rtb-", "route-table"},
	{"igw-", "internet-gateway"}, {"nat-", "natgateway"}, {"vgw-", "vpn-gateway"},
	{"tgw-", "transit-gateway"}, {"vpce-", "vpc-endpoint"},
}

// ecsService builds a service's ARN from the request's service and cluster
// (the long ARN format, the default since 2021); the response's ARN is
// preferred where there is one.
var ecsService source = func(c *call) []string {
	svc := lookup(c.req, "service")
	if len(svc) != 1 {
		return nil
	}
	if strings.HasPrefix(svc[0], "arn:") {
		return []string{c.normalise(svc[0])}
	}
	cluster := "default"
	if cl := lookup(c.req, "cluster"); len(cl) == 1 {
		cluster = cl[0][strings.LastIndexByte(cl[0], '/')+1:]
	}
	return []string{c.fill("arn:{partition}:ecs:{region}:{account}:service/", "") + cluster + "/" + svc[0]}
}

// nodegroup is a node group change: the node group by the response's ARN,
// else its cluster.
func nodegroup(a Action) rule {
	return rule{"", a, first(arns(res("nodegroup.nodegroupArn")), eksCluster)}
}

// lambdaAlias builds an alias's ARN from the request's function and alias
// names.
var lambdaAlias source = func(c *call) []string {
	fn, name := lookup(c.req, "functionName"), lookup(c.req, "name")
	if len(fn) != 1 || len(name) != 1 {
		return nil
	}
	f := fn[0]
	if !strings.HasPrefix(f, "arn:") {
		f = c.fill("arn:{partition}:lambda:{region}:{account}:function:{name}", f)
	}
	return []string{f + ":" + name[0]}
}

// restAPIOf and apiV2Of are the API a call on a part of it names.
var (
	restAPIOf = arn("arn:{partition}:apigateway:{region}::/restapis/{name}", req("restApiId"))
	apiV2Of   = arn("arn:{partition}:apigateway:{region}::/apis/{name}", req("apiId"))
)

// stageOf builds a stage's ARN from the request's API id (at idPath) and
// stage name.
func stageOf(kind, idPath string) source {
	return func(c *call) []string {
		id, stage := lookup(c.req, idPath), lookup(c.req, "stageName")
		if len(id) != 1 || len(stage) != 1 {
			return nil
		}
		return []string{c.fill("arn:{partition}:apigateway:{region}::/", "") + kind + "/" + id[0] + "/stages/" + stage[0]}
	}
}

// zoneTagged is the hosted zone ChangeTagsForResource names (it also tags
// health checks, which are not components).
var zoneTagged source = func(c *call) []string {
	if t := lookup(c.req, "resourceType"); len(t) != 1 || t[0] != "hostedzone" {
		return nil
	}
	return lookup(c.req, "resourceId")
}

// eventRule builds a rule's ARN from the request's rule name (at namePath)
// and event bus: rule/<name> on the default bus, rule/<bus>/<name> on
// others.
func eventRule(namePath string) source {
	return func(c *call) []string {
		name := lookup(c.req, namePath)
		if len(name) != 1 {
			return nil
		}
		if strings.HasPrefix(name[0], "arn:") {
			return []string{c.normalise(name[0])}
		}
		r := "rule/" + name[0]
		if bus := lookup(c.req, "eventBusName"); len(bus) == 1 {
			b := bus[0][strings.LastIndexByte(bus[0], '/')+1:]
			if b != "default" {
				r = "rule/" + b + "/" + name[0]
			}
		}
		return []string{c.fill("arn:{partition}:events:{region}:{account}:", "") + r}
	}
}

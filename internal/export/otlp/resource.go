package otlp

import (
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// Resource attributes of a component, from the OpenTelemetry semantic
// conventions where they name the thing (cloud.*), else skymap's own.
const (
	attrCloudProvider   = "cloud.provider"    // always "aws"
	attrCloudAccount    = "cloud.account.id"  // the component's account
	attrCloudRegion     = "cloud.region"      // its region; absent for global resources
	attrCloudResourceID = "cloud.resource_id" // its ARN, when it has one
	attrCloudPlatform   = "cloud.platform"    // from cloudPlatforms, when its type is there
	attrComponentID     = "skymap.component.id"
	attrComponentType   = "skymap.component.type"
	attrComponentName   = "skymap.component.name"
	attrTagPrefix       = "aws.tag." // + a tag key of Options.Tags
)

// cloudPlatforms are the cloud.platform values of the component types that
// the semantic conventions name.
var cloudPlatforms = map[string]string{
	"aws.ec2.instance":      "aws_ec2",
	"aws.lambda.function":   "aws_lambda",
	"aws.lambda.alias":      "aws_lambda",
	"aws.ecs.cluster":       "aws_ecs",
	"aws.ecs.service":       "aws_ecs",
	"aws.ecs.task":          "aws_ecs",
	"aws.eks.cluster":       "aws_eks",
	"aws.eks.nodegroup":     "aws_eks",
	"aws.autoscaling.group": "aws_ec2",
}

// resource is a component's OTLP resource, shared by its points or records
// in a queue and never changed once made.
type resource struct {
	id string // the component id: what batches group by
	pb *resourcepb.Resource
}

// resources returns a function giving the resource of a component, looked
// up once per call of resources. account and region stand in for a
// component not in the map.
func (e *Exporter) resources() func(id, account, region string) *resource {
	made := map[string]*resource{}
	return func(id, account, region string) *resource {
		if r := made[id]; r != nil {
			return r
		}
		attrs := []*commonpb.KeyValue{str(attrCloudProvider, "aws")}
		var c model.Component
		ok := false
		if e.opts.Component != nil {
			c, ok = e.opts.Component(id)
		}
		if ok {
			account, region = c.Account, c.Region
		}
		if account != "" {
			attrs = append(attrs, str(attrCloudAccount, account))
		}
		if region != "" && region != partition.Global {
			attrs = append(attrs, str(attrCloudRegion, region))
		}
		if arn := arnOf(id, c.Identifiers); arn != "" {
			attrs = append(attrs, str(attrCloudResourceID, arn))
		}
		if p := cloudPlatforms[c.Type]; p != "" {
			attrs = append(attrs, str(attrCloudPlatform, p))
		}
		attrs = append(attrs, str(attrComponentID, id))
		if ok {
			attrs = append(attrs, str(attrComponentType, c.Type), str(attrComponentName, c.Name))
		}
		for _, t := range e.opts.Tags {
			for _, l := range c.Labels {
				if k, v, found := strings.Cut(l, ":"); found && k == t {
					attrs = append(attrs, str(attrTagPrefix+t, v))
					break
				}
			}
		}
		r := &resource{id: id, pb: &resourcepb.Resource{Attributes: attrs}}
		made[id] = r
		return r
	}
}

// arnOf returns the component's ARN: its id when that is one, else the
// first ARN among its identifiers (TOPOLOGY.md: ids that are not ARNs also
// carry the ARN as an identifier), else "".
func arnOf(id string, identifiers []string) string {
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	for _, s := range identifiers {
		if strings.HasPrefix(s, "arn:") {
			return s
		}
	}
	return ""
}

// str is a string attribute.
func str(key, value string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: key, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: value}}}
}

// strs is a string-array attribute.
func strs(key string, values ...string) *commonpb.KeyValue {
	vs := make([]*commonpb.AnyValue, len(values))
	for i, v := range values {
		vs[i] = &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}
	}
	return &commonpb.KeyValue{Key: key, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}}
}

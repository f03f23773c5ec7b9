package inventory

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

const typeStack = "aws.cloudformation.stack"

var cloudformationTypes = map[string]typeInfo{
	typeStack: {model.LayerManagement, "/cloudformation/home?region={region}#/stacks/stackinfo?stackId={id}", "CloudFormation", ""},
}

var cloudformationListings = []listing{
	{"cloudformation", "stacks", []string{typeStack}, regional, collectStacks, []string{
		"cloudformation:DescribeStacks", "cloudformation:ListStackResources"}},
}

// refFromReference marks a resource type whose physical id is resolved by
// Target.reference (a URL or an ARN).
const refFromReference = "{reference}"

// stackResourceIDs maps a CloudFormation resource type to the identifier
// the inventory gives the resource, as a template over its physical id
// ({id}) and the stack's partition, region and account. Types not here are
// not related to their stack.
var stackResourceIDs = map[string]string{
	// EC2 and VPC: the physical id is the resource id.
	"AWS::EC2::Instance":         "{id}",
	"AWS::EC2::VPC":              "{id}",
	"AWS::EC2::Subnet":           "{id}",
	"AWS::EC2::SecurityGroup":    "{id}",
	"AWS::EC2::InternetGateway":  "{id}",
	"AWS::EC2::VPNGateway":       "{id}",
	"AWS::EC2::NatGateway":       "{id}",
	"AWS::EC2::TransitGateway":   "{id}",
	"AWS::EC2::RouteTable":       "{id}",
	"AWS::EC2::NetworkInterface": "{id}",
	"AWS::EC2::VPCEndpoint":      "{id}",
	"AWS::EC2::Volume":           "{id}",
	// The physical id is the ARN.
	"AWS::ElasticLoadBalancingV2::LoadBalancer": "{id}",
	"AWS::ElasticLoadBalancingV2::TargetGroup":  "{id}",
	"AWS::SNS::Topic":                           "{id}",
	"AWS::ECS::Service":                         "{id}",
	"AWS::Lambda::Alias":                        "{id}",
	"AWS::StepFunctions::StateMachine":          "{id}",
	"AWS::StepFunctions::Activity":              "{id}",
	"AWS::CloudFormation::Stack":                "{id}",
	// The physical id is a name; the Auto Scaling group carries it as an identifier.
	"AWS::AutoScaling::AutoScalingGroup": "{id}",
	"AWS::Route53::HostedZone":           "{id}",
	// The physical id is a queue URL.
	"AWS::SQS::Queue": refFromReference,
	// The physical id is a name in the stack's account and region.
	"AWS::S3::Bucket":                         "arn:{partition}:s3:::{id}",
	"AWS::Lambda::Function":                   "arn:{partition}:lambda:{region}:{account}:function:{id}",
	"AWS::DynamoDB::Table":                    "arn:{partition}:dynamodb:{region}:{account}:table/{id}",
	"AWS::ElasticLoadBalancing::LoadBalancer": "arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/{id}",
	"AWS::ECS::Cluster":                       "arn:{partition}:ecs:{region}:{account}:cluster/{id}",
	"AWS::EKS::Cluster":                       "arn:{partition}:eks:{region}:{account}:cluster/{id}",
	"AWS::RDS::DBInstance":                    "arn:{partition}:rds:{region}:{account}:db:{id}",
	"AWS::RDS::DBCluster":                     "arn:{partition}:rds:{region}:{account}:cluster:{id}",
	"AWS::Redshift::Cluster":                  "arn:{partition}:redshift:{region}:{account}:cluster:{id}",
	"AWS::ElastiCache::CacheCluster":          "arn:{partition}:elasticache:{region}:{account}:cluster:{id}",
	"AWS::Kinesis::Stream":                    "arn:{partition}:kinesis:{region}:{account}:stream/{id}",
	"AWS::KinesisFirehose::DeliveryStream":    "arn:{partition}:firehose:{region}:{account}:deliverystream/{id}",
	"AWS::Events::Rule":                       "arn:{partition}:events:{region}:{account}:rule/{id}",
	"AWS::ApiGateway::RestApi":                "arn:{partition}:apigateway:{region}::/restapis/{id}",
	"AWS::ApiGatewayV2::Api":                  "arn:{partition}:apigateway:{region}::/apis/{id}",
	"AWS::CloudFront::Distribution":           "arn:{partition}:cloudfront::{account}:distribution/{id}",
}

// stackResourceID returns the identifier of a stack's resource, or "" for a
// type the table does not know or a resource without a physical id (not
// created yet, or deleted).
func (t Target) stackResourceID(typ, physicalID string) string {
	tmpl, ok := stackResourceIDs[typ]
	if !ok || physicalID == "" {
		return ""
	}
	if a, ok := partition.ParseARN(physicalID); tmpl == refFromReference || ok && a.Resource != "" {
		// An ARN is its own identifier, whatever the type's usual physical id.
		return t.reference(physicalID)
	}
	return fill(tmpl, t.Partition, t.Region, t.Account, physicalID)
}

// ResourceRef returns the identifier the inventory gives a resource that
// AWS names by its CloudFormation resource type (AWS::Lambda::Function) and
// physical id (a name, an id, a queue URL or an ARN) in an account and
// region of partition p, or "" for a type the stack table does not know.
// DevOps Guru names the resources of its anomalies this way.
func ResourceRef(p partition.Partition, account, region, typ, physicalID string) string {
	return Target{Account: account, Partition: p, Region: region}.stackResourceID(typ, physicalID)
}

func collectStacks(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := cloudformation.NewFromConfig(t.Config)
	var stacks []cfntypes.Stack
	p := cloudformation.NewDescribeStacksPaginator(client, &cloudformation.DescribeStacksInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, s := range page.Stacks {
			switch {
			case s.StackStatus == cfntypes.StackStatusDeleteComplete:
			case aws.ToString(s.StackId) == "":
				res.malformed("cloudformation", aws.ToString(s.StackName), "stack without an id")
			default:
				stacks = append(stacks, s)
			}
		}
	}
	return res, describeEach(ctx, &res, stacks,
		func(s cfntypes.Stack) string { return "stack " + aws.ToString(s.StackName) },
		func(ctx context.Context, s cfntypes.Stack, out *Result) error {
			id := aws.ToString(s.StackId)
			rels, err := stackResources(ctx, t, client, id)
			if isCode(err, "ValidationError") { // CloudFormation's answer for a stack deleted since it was listed
				return nil
			}
			keep, failure := detailOutcome(err)
			if !keep {
				return failure
			}
			out.Components = append(out.Components, t.component(resource{
				typ: typeStack, id: id, short: id, name: aws.ToString(s.StackName), tags: cfnTags(s.Tags), data: redactStack(s),
			}))
			out.Relations = append(out.Relations, rels...)
			return failure
		})
}

// stackResources relates a stack to every resource it created whose type
// the table knows.
func stackResources(ctx context.Context, t Target, client *cloudformation.Client, stack string) ([]model.Relation, error) {
	var rels []model.Relation
	p := cloudformation.NewListStackResourcesPaginator(client, &cloudformation.ListStackResourcesInput{StackName: aws.String(stack)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return rels, err
		}
		for _, r := range page.StackResourceSummaries {
			if r.ResourceStatus == cfntypes.ResourceStatusDeleteComplete {
				continue
			}
			if id := t.stackResourceID(aws.ToString(r.ResourceType), aws.ToString(r.PhysicalResourceId)); id != "" {
				rels = append(rels, rel(stack, id, model.HasResource))
			}
		}
	}
	return rels, nil
}

// redactStack keeps the names of a stack's parameters, not their values:
// only NoEcho parameters are masked by AWS, and others may hold secrets too.
func redactStack(s cfntypes.Stack) cfntypes.Stack {
	params := make([]cfntypes.Parameter, len(s.Parameters))
	for i, p := range s.Parameters {
		params[i] = cfntypes.Parameter{ParameterKey: p.ParameterKey}
	}
	s.Parameters = params
	return s
}

func cfnTags(tags []cfntypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

package awstest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// shopStackTemplate creates a queue, a topic, a bucket and an ECS cluster.
const shopStackTemplate = `{
  "Resources": {
    "Orders": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "skymap-demo-orders"}},
    "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "skymap-demo-alerts"}},
    "Artifacts": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "skymap-demo-cfn-artifacts"}},
    "Batch": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "batch"}}
  }
}`

// SeedStacks creates the CloudFormation stack "shop-infra" from
// shopStackTemplate, with a parameterless template and a tag.
func SeedStacks(ctx context.Context, s *Seed) error {
	out, err := cloudformation.NewFromConfig(s.Config).CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName:    aws.String("shop-infra"),
		TemplateBody: aws.String(shopStackTemplate),
		Tags:         []cfntypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}},
	})
	if err != nil {
		return fmt.Errorf("create stack shop-infra: %w", err)
	}
	id := aws.ToString(out.StackId)
	uuid := id[strings.LastIndexByte(id, '/')+1:]
	// The console link escapes the ARN's slashes: "...%2F<uuid>" has no
	// word boundary before the uuid, so the escaped form is a value too.
	return errors.Join(s.Add(uuid, "stack-uuid", "shop-infra"), s.Add("2F"+uuid, "stack-uuid", "shop-infra:escaped"))
}

// SeedCloudFront creates the distribution "shop" in front of the bucket
// skymap-demo-assets (an S3 origin) and the custom origin
// origin.shop.example.com, with the alias www.shop.example.com.
func SeedCloudFront(ctx context.Context, s *Seed) error {
	out, err := cloudfront.NewFromConfig(s.Config).CreateDistributionWithTags(ctx, &cloudfront.CreateDistributionWithTagsInput{
		DistributionConfigWithTags: &cftypes.DistributionConfigWithTags{
			DistributionConfig: &cftypes.DistributionConfig{
				CallerReference: aws.String("skymap-shop"),
				Comment:         aws.String("shop"),
				Enabled:         aws.Bool(true),
				Aliases:         &cftypes.Aliases{Quantity: aws.Int32(1), Items: []string{"www.shop.example.com"}},
				Origins: &cftypes.Origins{Quantity: aws.Int32(2), Items: []cftypes.Origin{
					{Id: aws.String("assets"), DomainName: aws.String("skymap-demo-assets.s3.amazonaws.com"),
						S3OriginConfig: &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")}},
					{Id: aws.String("app"), DomainName: aws.String("origin.shop.example.com"),
						CustomOriginConfig: &cftypes.CustomOriginConfig{HTTPPort: aws.Int32(80), HTTPSPort: aws.Int32(443),
							OriginProtocolPolicy: cftypes.OriginProtocolPolicyHttpsOnly},
						CustomHeaders: &cftypes.CustomHeaders{Quantity: aws.Int32(1), Items: []cftypes.OriginCustomHeader{
							{HeaderName: aws.String("X-Origin-Verify"), HeaderValue: aws.String("not-for-the-map")}}}},
				}},
				DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{
					TargetOriginId: aws.String("app"), ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyRedirectToHttps,
					CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6"),
				},
			},
			Tags: &cftypes.Tags{Items: []cftypes.Tag{{Key: aws.String("team"), Value: aws.String("edge")}}},
		},
	})
	if err != nil {
		return fmt.Errorf("create distribution shop: %w", err)
	}
	d := out.Distribution
	errs := []error{s.Add(aws.ToString(d.Id), "cf", "shop"), s.Add(aws.ToString(d.DomainName), "cf-domain", "shop")}
	if lower := strings.ToLower(aws.ToString(d.DomainName)); lower != aws.ToString(d.DomainName) {
		errs = append(errs, s.Add(lower, "cf-domain", "shop:lower"))
	}
	if lower := strings.ToLower(aws.ToString(d.Id)); lower != aws.ToString(d.Id) {
		errs = append(errs, s.Add(lower, "cf", "shop:lower"))
	}
	return errors.Join(errs...)
}

// SeedRoute53 creates the public zone shop.example.com: www is an alias of
// the distribution "shop", lb a dualstack alias of a load balancer, k8s a
// CNAME of the EKS cluster's endpoint. Run it after SeedCloudFront, in the
// account that ran SeedEKS.
func SeedRoute53(ctx context.Context, s *Seed) error {
	cf, err1 := s.Need("<cf-domain:shop>")
	k8s, err2 := s.Need("<eks-endpoint:shop-k8s>")
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	c := route53.NewFromConfig(s.Config)
	out, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("shop.example.com"), CallerReference: aws.String("skymap-shop"),
	})
	if err != nil {
		return fmt.Errorf("create hosted zone shop.example.com: %w", err)
	}
	zone := strings.TrimPrefix(aws.ToString(out.HostedZone.Id), "/hostedzone/")
	errs := []error{s.Add(zone, "zone", "shop.example.com")}
	if out.ChangeInfo != nil {
		errs = append(errs, s.Add(strings.TrimPrefix(aws.ToString(out.ChangeInfo.Id), "/change/"), "change", "shop.example.com"))
	}
	if out.DelegationSet != nil {
		for k, ns := range out.DelegationSet.NameServers {
			errs = append(errs, s.Add(ns, "ns", fmt.Sprintf("shop.example.com:%d", k)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if _, err := c.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{
		ResourceType: r53types.TagResourceTypeHostedzone, ResourceId: aws.String(zone),
		AddTags: []r53types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}},
	}); err != nil {
		return fmt.Errorf("tag hosted zone: %w", err)
	}
	upsert := func(rs r53types.ResourceRecordSet) r53types.Change {
		return r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &rs}
	}
	ch, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zone),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
			upsert(r53types.ResourceRecordSet{Name: aws.String("www.shop.example.com"), Type: r53types.RRTypeA,
				AliasTarget: &r53types.AliasTarget{DNSName: aws.String(cf + "."), HostedZoneId: aws.String("Z2FDTNDATAQYW2")}}),
			upsert(r53types.ResourceRecordSet{Name: aws.String("lb.shop.example.com"), Type: r53types.RRTypeA,
				AliasTarget: &r53types.AliasTarget{DNSName: aws.String("dualstack.shop-lb-1234567890.eu-west-1.elb.amazonaws.com."),
					HostedZoneId: aws.String("Z32O12XQLNTSW2")}}),
			upsert(r53types.ResourceRecordSet{Name: aws.String("k8s.shop.example.com"), Type: r53types.RRTypeCname,
				TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(k8s)}}}),
			upsert(r53types.ResourceRecordSet{Name: aws.String("mail.shop.example.com"), Type: r53types.RRTypeMx,
				TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("10 mx.example.net")}}}),
		}},
	})
	if err != nil {
		return fmt.Errorf("create records in shop.example.com: %w", err)
	}
	return s.Add(strings.TrimPrefix(aws.ToString(ch.ChangeInfo.Id), "/change/"), "change", "shop.example.com:records")
}

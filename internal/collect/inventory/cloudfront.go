package inventory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/skymap/skymap/internal/model"
)

const typeDistribution = "aws.cloudfront.distribution"

var cloudfrontTypes = map[string]typeInfo{
	typeDistribution: {model.LayerNetworking, "/cloudfront/v4/home#/distributions/{id}", "CloudFront", ""},
}

var cloudfrontListings = []listing{
	{"cloudfront", "distributions", []string{typeDistribution}, global, collectDistributions, []string{
		"cloudfront:ListDistributions", "cloudfront:ListTagsForResource"}},
}

func collectDistributions(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := cloudfront.NewFromConfig(t.Config)
	var dists []cftypes.DistributionSummary
	p := cloudfront.NewListDistributionsPaginator(client, &cloudfront.ListDistributionsInput{MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		if page.DistributionList == nil {
			continue
		}
		for _, d := range page.DistributionList.Items {
			if aws.ToString(d.ARN) == "" {
				res.malformed("cloudfront", aws.ToString(d.Id), "distribution without an ARN")
				continue
			}
			dists = append(dists, d)
		}
	}
	return res, describeEach(ctx, &res, dists,
		func(d cftypes.DistributionSummary) string { return "distribution " + aws.ToString(d.Id) },
		func(ctx context.Context, d cftypes.DistributionSummary, out *Result) error {
			tags, err := distributionTags(ctx, client, d.ARN)
			keep, failure := detailOutcome(err)
			if !keep {
				return failure
			}
			comp, rels := t.distribution(d, tags)
			out.Components = append(out.Components, comp)
			out.Relations = append(out.Relations, rels...)
			return failure
		})
}

// distributionTags reads a distribution's tags; none when that fails.
func distributionTags(ctx context.Context, client *cloudfront.Client, arn *string) (map[string]string, error) {
	tags := map[string]string{}
	out, err := client.ListTagsForResource(ctx, &cloudfront.ListTagsForResourceInput{Resource: arn})
	if err != nil {
		return tags, fmt.Errorf("tags: %w", err)
	}
	if out.Tags != nil {
		for _, tag := range out.Tags.Items {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	return tags, nil
}

// distribution describes a distribution: its id (which is all its
// standard log objects' keys name) is an identifier, its DNS name and
// aliases are endpoint identifiers, and it uses each of its origins.
func (t Target) distribution(d cftypes.DistributionSummary, tags map[string]string) (model.Component, []model.Relation) {
	arn, id := aws.ToString(d.ARN), aws.ToString(d.Id)
	var idents []string
	if id != "" {
		idents = append(idents, id)
	}
	if ref := endpointRef(aws.ToString(d.DomainName)); ref != "" {
		idents = append(idents, ref)
	}
	if d.Aliases != nil {
		for _, a := range d.Aliases.Items {
			if ref := endpointRef(a); ref != "" {
				idents = append(idents, ref)
			}
		}
	}
	var rels []model.Relation
	if d.Origins != nil {
		for _, o := range d.Origins.Items {
			if ref := t.originRef(o); ref != "" && !slices.ContainsFunc(rels, func(r model.Relation) bool { return r.Target == ref }) {
				rels = append(rels, rel(arn, ref, model.UsesService))
			}
		}
	}
	comp := t.component(resource{typ: typeDistribution, id: arn, short: id, name: id, tags: tags,
		idents: idents, data: redactOrigins(d)})
	return comp, rels
}

// originRef is the identifier of what an origin names: the bucket for an
// S3 origin (one with S3OriginConfig, which AWS defines as an S3 bucket's
// REST endpoint, <bucket>.s3[.<region>|-<region>].amazonaws.com[.cn]),
// else the endpoint of its domain name.
func (t Target) originRef(o cftypes.Origin) string {
	domain := strings.ToLower(aws.ToString(o.DomainName))
	if o.S3OriginConfig != nil {
		if i := max(strings.LastIndex(domain, ".s3."), strings.LastIndex(domain, ".s3-")); i > 0 {
			return "arn:" + t.Partition.ID + ":s3:::" + domain[:i]
		}
	}
	return t.reference(domain)
}

// redactOrigins drops the values of the headers CloudFront adds to origin
// requests: they are often shared secrets that the origin checks.
func redactOrigins(d cftypes.DistributionSummary) cftypes.DistributionSummary {
	if d.Origins == nil {
		return d
	}
	origins := *d.Origins
	origins.Items = slices.Clone(origins.Items)
	for i, o := range origins.Items {
		if o.CustomHeaders == nil {
			continue
		}
		h := *o.CustomHeaders
		h.Items = make([]cftypes.OriginCustomHeader, len(o.CustomHeaders.Items))
		for j, item := range o.CustomHeaders.Items {
			h.Items[j] = cftypes.OriginCustomHeader{HeaderName: item.HeaderName}
		}
		origins.Items[i].CustomHeaders = &h
	}
	d.Origins = &origins
	return d
}

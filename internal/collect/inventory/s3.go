package inventory

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

const typeBucket = "aws.s3.bucket"

var s3Types = map[string]typeInfo{
	typeBucket: {model.LayerStorage, "/s3/buckets/{id}?region={region}", "S3", ""},
}

var s3Listings = []listing{
	{"s3", "buckets", []string{typeBucket}, accountWide, collectBuckets, []string{
		"s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketTagging", "s3:GetBucketNotification"}},
}

// collectBuckets lists the account's buckets once (ListBuckets is account
// wide) and keeps those whose region is one of the target's regions.
func collectBuckets(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := awsconn.NewS3(t.Config)
	var buckets []s3types.Bucket
	// A MaxBuckets parameter makes S3 include each bucket's region.
	p := s3.NewListBucketsPaginator(client, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		buckets = append(buckets, page.Buckets...)
	}

	// A bucket whose details failed to read (other than by a denial) is left
	// out and makes the listing incomplete, so the stored bucket is kept as
	// it was instead of being deleted or stripped of its tags and
	// notification relations.
	return res, describeEach(ctx, &res, buckets,
		func(b s3types.Bucket) string { return "bucket " + aws.ToString(b.Name) },
		func(ctx context.Context, b s3types.Bucket, out *Result) error {
			return bucket(ctx, t, client, b, out)
		})
}

// describeBuckets describes the buckets refs name (by ARN or name): each
// is looked up by a listing of the names it begins (ListBuckets' Prefix),
// which gives its region and creation date as the full listing does.
func describeBuckets(ctx context.Context, t Target, refs []string) (Result, error) {
	var res Result
	client := awsconn.NewS3(t.Config)
	return res, describeEach(ctx, &res, refs,
		func(ref string) string { return "bucket " + ref },
		func(ctx context.Context, ref string, out *Result) error {
			name := ref
			if a, ok := partition.ParseARN(ref); ok {
				name = a.Resource
			}
			p := s3.NewListBucketsPaginator(client, &s3.ListBucketsInput{Prefix: aws.String(name), MaxBuckets: aws.Int32(1000)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				for _, b := range page.Buckets {
					if aws.ToString(b.Name) == name {
						return bucket(ctx, t, client, b, out)
					}
				}
			}
			return nil // gone
		})
}

// bucket describes one bucket, unless it is outside the target's regions
// or was deleted since the listing. A detail call that is denied leaves its
// part out; any other failure (throttled, unreachable) is returned, and the
// bucket left out.
func bucket(ctx context.Context, t Target, list *s3.Client, b s3types.Bucket, res *Result) error {
	name := aws.ToString(b.Name)
	region := aws.ToString(b.BucketRegion)
	if region == "" {
		loc, err := list.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b.Name})
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		region = bucketRegion(string(loc.LocationConstraint))
	}
	if !slices.Contains(t.Regions, region) {
		return nil
	}
	client := awsconn.NewS3(t.ConfigFor(region))
	data := map[string]any{"Name": name, "CreationDate": b.CreationDate, "BucketRegion": region}
	tags := map[string]string{}
	tg, err := client.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b.Name})
	switch {
	case gone(err):
		return nil
	case isCode(err, "NoSuchTagSet"), denied(err):
		// No tags, or no permission to read them: a lasting state, not a
		// hiccup, so the bucket is still described (the status names the
		// denied action).
	case err != nil:
		return err
	default:
		for _, tag := range tg.TagSet {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	id := "arn:" + t.Partition.ID + ":s3:::" + name
	var rels []model.Relation
	nc, err := client.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: b.Name})
	switch {
	case gone(err):
		return nil
	case denied(err):
		nc = &s3.GetBucketNotificationConfigurationOutput{}
	case err != nil:
		return err
	default:
		data["NotificationConfiguration"] = toData(nc)
	}
	for _, c := range nc.LambdaFunctionConfigurations {
		rels = append(rels, rel(id, aws.ToString(c.LambdaFunctionArn), model.UsesService))
	}
	for _, c := range nc.QueueConfigurations {
		rels = append(rels, rel(id, aws.ToString(c.QueueArn), model.UsesService))
	}
	for _, c := range nc.TopicConfigurations {
		rels = append(rels, rel(id, aws.ToString(c.TopicArn), model.UsesService))
	}
	res.Components = append(res.Components, t.component(resource{typ: typeBucket, id: id, short: name, name: name,
		region: region, tags: tags, data: data}))
	res.Relations = append(res.Relations, rels...)
	return nil
}

// bucketRegion maps a GetBucketLocation constraint to a region name.
func bucketRegion(constraint string) string {
	switch constraint {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return constraint
}

package inventory

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/model"
)

// bucketDetailConcurrency bounds the per-bucket detail calls in flight.
const bucketDetailConcurrency = 8

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

	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(bucketDetailConcurrency)
	for _, b := range buckets {
		g.Go(func() error {
			comp, rels, ok := bucket(gctx, t, client, b)
			if ok {
				mu.Lock()
				res.Components = append(res.Components, comp)
				res.Relations = append(res.Relations, rels...)
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	return res, ctx.Err()
}

// bucket describes one bucket. It reports false for a bucket outside the
// target's regions, or one deleted since the listing. Detail calls that fail
// (denied, say) leave their part out; the outcome is recorded by awsconn.
func bucket(ctx context.Context, t Target, list *s3.Client, b s3types.Bucket) (model.Component, []model.Relation, bool) {
	name := aws.ToString(b.Name)
	region := aws.ToString(b.BucketRegion)
	if region == "" {
		loc, err := list.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b.Name})
		if err != nil {
			return model.Component{}, nil, false
		}
		region = bucketRegion(string(loc.LocationConstraint))
	}
	if !slices.Contains(t.Regions, region) {
		return model.Component{}, nil, false
	}
	client := awsconn.NewS3(t.ConfigFor(region))
	data := map[string]any{"Name": name, "CreationDate": b.CreationDate, "BucketRegion": region}
	var tags map[string]string
	tg, err := client.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b.Name})
	switch {
	case err == nil:
		tags = map[string]string{}
		for _, tag := range tg.TagSet {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	case isCode(err, "NoSuchBucket"):
		return model.Component{}, nil, false
	}
	id := "arn:" + t.Partition.ID + ":s3:::" + name
	var rels []model.Relation
	nc, err := client.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: b.Name})
	if err == nil {
		data["NotificationConfiguration"] = toData(nc)
		for _, c := range nc.LambdaFunctionConfigurations {
			rels = append(rels, rel(id, aws.ToString(c.LambdaFunctionArn), model.UsesService))
		}
		for _, c := range nc.QueueConfigurations {
			rels = append(rels, rel(id, aws.ToString(c.QueueArn), model.UsesService))
		}
		for _, c := range nc.TopicConfigurations {
			rels = append(rels, rel(id, aws.ToString(c.TopicArn), model.UsesService))
		}
	}
	comp := t.component(resource{typ: typeBucket, id: id, short: name, name: name, region: region, tags: tags, data: data})
	return comp, rels, true
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

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

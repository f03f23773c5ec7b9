package awstest

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// buildBucket creates a bucket with its tags and notifications. Bucket names
// are chosen, not generated, so nothing needs a placeholder.
func buildBucket(ctx context.Context, m *Moto, account string, b Bucket) error {
	cfg, err := m.Config(ctx, b.Region, account)
	if err != nil {
		return err
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	in := &s3.CreateBucketInput{Bucket: aws.String(b.Name)}
	if b.Region != "us-east-1" { // the one region that refuses a location constraint
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(b.Region),
		}
	}
	if _, err := c.CreateBucket(ctx, in); err != nil {
		return fmt.Errorf("create bucket %s: %w", b.Name, err)
	}
	if b.Versioning {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b.Name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			return fmt.Errorf("enable versioning of bucket %s: %w", b.Name, err)
		}
	}
	if len(b.Tags) > 0 {
		var tags []s3types.Tag
		for _, k := range slices.Sorted(maps.Keys(b.Tags)) {
			tags = append(tags, s3types.Tag{Key: aws.String(k), Value: aws.String(b.Tags[k])})
		}
		if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
			Bucket: aws.String(b.Name), Tagging: &s3types.Tagging{TagSet: tags},
		}); err != nil {
			return fmt.Errorf("tag bucket %s: %w", b.Name, err)
		}
	}
	if len(b.Notifications) == 0 {
		return nil
	}
	var nc s3types.NotificationConfiguration
	for _, n := range b.Notifications {
		var events []s3types.Event
		for _, e := range n.Events {
			events = append(events, s3types.Event(e))
		}
		id, arn := aws.String(n.ID), aws.String(n.TargetARN)
		switch notificationKind(n.TargetARN) {
		case "queue":
			nc.QueueConfigurations = append(nc.QueueConfigurations, s3types.QueueConfiguration{Id: id, QueueArn: arn, Events: events})
		case "topic":
			nc.TopicConfigurations = append(nc.TopicConfigurations, s3types.TopicConfiguration{Id: id, TopicArn: arn, Events: events})
		case "lambda":
			nc.LambdaFunctionConfigurations = append(nc.LambdaFunctionConfigurations,
				s3types.LambdaFunctionConfiguration{Id: id, LambdaFunctionArn: arn, Events: events})
		}
	}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(b.Name), NotificationConfiguration: &nc,
	}); err != nil {
		return fmt.Errorf("put notification configuration of bucket %s: %w", b.Name, err)
	}
	return nil
}

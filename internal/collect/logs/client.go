// Package logs reads the logs of components. CloudWatch Logs: the log
// groups of each component type (table.go), read on demand with
// FilterLogEvents over a time range with a plain-text filter (fetch.go)
// and every poll from a persisted cursor (tail.go). The logs AWS delivers
// to S3 for load balancers and CloudFront distributions: their lines
// (s3logs.go) and keys (s3keys.go), read every poll from a persisted
// cursor (s3source.go, s3list.go, s3object.go, s3status.go) and on demand
// over a time range (s3fetch.go).
package logs

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// NewClient returns a CloudWatch Logs client. The SDK's default protocol
// (awsJson1_1) is what CloudWatch Logs and moto both speak.
func NewClient(cfg aws.Config) *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(cfg)
}

// IAMActions are the IAM actions reading logs needs in a monitored account
// (for `skymap iam-policy`): FilterLogEvents reads a group, DescribeLogGroups
// expands the prefixes of the table (RDS's groups per log type);
// ListBucket and GetObject read the buckets of logs.s3 (S3Logs).
var IAMActions = []string{"logs:DescribeLogGroups", "logs:FilterLogEvents", "s3:GetObject", "s3:ListBucket"}

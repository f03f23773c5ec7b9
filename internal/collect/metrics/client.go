// Package metrics reads CloudWatch metrics for components: a default
// metric set per component type with its dimensions (table.go), fetched
// with GetMetricData only, 500 queries to a call (fetch.go).
package metrics

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// NewClient returns a CloudWatch client speaking the awsQuery protocol,
// which every CloudWatch endpoint and the emulators answer, instead of the
// SDK's default Smithy RPC v2 CBOR, which moto does not.
func NewClient(cfg aws.Config) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
	})
}

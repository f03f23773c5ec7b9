package metrics

import (
	"testing"

	"github.com/skymap/skymap/internal/model"
)

// Each component's key is among the keys of its own default metrics'
// dimensions, first; a metric naming fewer dimensions finds no component.
func TestDimensionKeysFindTheComponent(t *testing.T) {
	const acct, region = "123456789012", "eu-west-1"
	tests := []struct {
		c    model.Component
		dims map[string]string
	}{
		{model.Component{Type: "aws.ec2.instance", Data: map[string]any{"InstanceId": "i-1"}},
			map[string]string{"InstanceId": "i-1"}},
		{model.Component{Type: "aws.lambda.function", Data: map[string]any{"FunctionName": "api"}},
			map[string]string{"FunctionName": "api", "Resource": "api:live"}},
		{model.Component{ID: "arn:aws:sqs:eu-west-1:123456789012:jobs", Type: "aws.sqs.queue"},
			map[string]string{"QueueName": "jobs"}},
		{model.Component{Type: "aws.elb-v2.application-load-balancer",
			Data: map[string]any{"LoadBalancerArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/abc"}},
			map[string]string{"LoadBalancer": "app/web/abc"}},
		{model.Component{Type: "aws.elb-v2.target-group", Data: map[string]any{
			"TargetGroupArn":   "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/def",
			"LoadBalancerArns": []any{"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/abc"}}},
			map[string]string{"LoadBalancer": "app/web/abc", "TargetGroup": "targetgroup/web/def"}},
		{model.Component{Type: "aws.s3.bucket", Data: map[string]any{"Name": "logs"}},
			map[string]string{"BucketName": "logs", "StorageType": "AllStorageTypes"}},
	}
	for _, tt := range tests {
		tt.c.Account, tt.c.Region = acct, region
		k, ok := DimensionKey(&tt.c)
		if !ok {
			t.Errorf("%s: no key", tt.c.Type)
			continue
		}
		keys := DimensionKeys(acct, region, SetFor(tt.c.Type).Namespace, tt.dims)
		if len(keys) == 0 || keys[0] != k {
			t.Errorf("%s: keys %q, want %q first", tt.c.Type, keys, k)
		}
	}
	if keys := DimensionKeys(acct, region, "AWS/EC2", map[string]string{"AutoScalingGroupName": "x"}); len(keys) != 0 {
		t.Errorf("AWS/EC2 by AutoScalingGroupName: %q", keys)
	}
}

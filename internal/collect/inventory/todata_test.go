package inventory

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/google/go-cmp/cmp"
)

// roundTrip is what toData must equal: a JSON round trip, pruned.
func roundTrip(v any) map[string]any {
	out := map[string]any{}
	b, _ := json.Marshal(v)
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{}
	}
	prune(out)
	return out
}

func TestToDataMatchesJSONRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123000000, time.UTC)
	values := map[string]any{
		"instance": ec2types.Instance{
			InstanceId: aws.String("i-1"), InstanceType: ec2types.InstanceTypeM5Large, LaunchTime: &at,
			State: &ec2types.InstanceState{Code: aws.Int32(16), Name: "running"},
			Tags:  []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("Zürich <b>")}, {Key: aws.String("empty"), Value: aws.String("")}},
			NetworkInterfaces: []ec2types.InstanceNetworkInterface{{
				PrivateIpAddresses: []ec2types.InstancePrivateIpAddress{{PrivateIpAddress: aws.String("10.0.0.1"), Primary: aws.Bool(true)}},
				Ipv6Addresses:      []ec2types.InstanceIpv6Address{},
			}},
			BlockDeviceMappings: []ec2types.InstanceBlockDeviceMapping{{}},
			EbsOptimized:        aws.Bool(false),
			CpuOptions:          &ec2types.CpuOptions{},
			Placement:           &ec2types.Placement{AvailabilityZone: aws.String("eu-west-1a")},
		},
		"load balancer": elbv2types.LoadBalancer{LoadBalancerArn: aws.String("arn:x"), Type: "application", CreatedTime: &at,
			AvailabilityZones: []elbv2types.AvailabilityZone{{ZoneName: aws.String("a"), LoadBalancerAddresses: nil}}},
		"map": map[string]any{"Name": "b", "Created": &at, "Nil": nil, "Empty": "", "Nested": map[string]any{"x": nil},
			"List": []any{nil, "", map[string]any{}}, "Bytes": []byte("hi"), "Num": 3, "Tags": map[string]string{"a": "", "b": "c"}},
		"nil": nil,
	}
	for name, v := range values {
		if d := cmp.Diff(roundTrip(v), toData(v)); d != "" {
			t.Errorf("%s: toData differs from a JSON round trip (-round trip +toData):\n%s", name, d)
		}
	}
}

func BenchmarkToData(b *testing.B) {
	at := time.Now()
	in := ec2types.Instance{InstanceId: aws.String("i-1"), InstanceType: ec2types.InstanceTypeM5Large, LaunchTime: &at,
		State:             &ec2types.InstanceState{Code: aws.Int32(16), Name: "running"},
		Tags:              []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}},
		NetworkInterfaces: []ec2types.InstanceNetworkInterface{{PrivateIpAddress: aws.String("10.0.0.1")}}}
	b.Run("walk", func(b *testing.B) {
		for range b.N {
			toData(in)
		}
	})
	b.Run("json-round-trip", func(b *testing.B) {
		for range b.N {
			roundTrip(in)
		}
	})
}

package inventory

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/skymap/skymap/internal/partition"
)

// describer re-describes the resources of one type that refs name (by
// component id or identifier, as events give them): what it returns holds
// those that exist, with the relations their listing gives them; a name it
// does not return is gone. An event about one resource so costs a call or
// two, not the re-listing of every resource of its type.
type describer func(ctx context.Context, t Target, refs []string) (Result, error)

// describers are the types whose resources can be re-described by name.
// Events about any other type re-run the type's whole listing. A type has
// one when its listing makes it alone and every relation its resources
// have comes from describing them (see model.Snapshot.Only).
var describers = map[string]describer{
	typeInstance:         describeInstances,
	typeVPC:              describeVPCs,
	typeSubnet:           describeSubnets,
	typeSecurityGroup:    describeSecurityGroups,
	typeQueue:            describeQueues,
	typeNetworkInterface: describeInterfaces,
	typeBucket:           describeBuckets,
	typeVolume:           describeVolumes,
	typeRouteTable:       describeRouteTables,
	typeAutoScalingGroup: describeAutoScalingGroups,
	typeTopic:            describeTopics,
}

// ec2FilterValues is the most values EC2 takes in one filter.
const ec2FilterValues = 200

// ec2Filters returns the filter sets that select the resources refs name
// by their id filter (instance-id, group-id...), at most ec2FilterValues
// a call: one empty set, selecting everything, when refs is nil. A ref may
// be the id or the resource's ARN.
func ec2Filters(name string, refs []string) [][]ec2types.Filter {
	if refs == nil {
		return [][]ec2types.Filter{nil}
	}
	var ids []string
	for _, ref := range refs {
		if a, ok := partition.ParseARN(ref); ok {
			_, ref, _ = strings.Cut(a.Resource, "/")
		}
		if ref != "" && !slices.Contains(ids, ref) {
			ids = append(ids, ref)
		}
	}
	var out [][]ec2types.Filter
	for chunk := range slices.Chunk(ids, ec2FilterValues) {
		out = append(out, []ec2types.Filter{{Name: aws.String(name), Values: chunk}})
	}
	return out
}

package inventory

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// RDS creates a DB instance's network interfaces itself, describes them
// "RDSNetworkInterface" and marks them managed by the requester
// "amazon-rds"; nothing on them names the instance.
const (
	rdsInterfaceDescription = "RDSNetworkInterface"
	rdsRequester            = "amazon-rds"
)

// isRDSInterface tells whether n is an interface RDS made for a DB instance.
// Emulators (moto) cannot mark an interface requester-managed, so the
// description alone is accepted on an interface that is not; one another
// service manages is not RDS's, whatever its description.
func isRDSInterface(n ec2types.NetworkInterface) bool {
	if aws.ToString(n.Description) != rdsInterfaceDescription {
		return false
	}
	return !aws.ToBool(n.RequesterManaged) || aws.ToString(n.RequesterId) == rdsRequester
}

// rdsOwners tells which DB instance an RDS interface belongs to. AWS does
// not say, so an interface belongs to the DB instance whose subnet group
// holds the interface's subnet and whose VPC security groups are exactly
// the interface's, when that instance is the only one of the account and
// region that fits; an interface several instances fit (two databases
// sharing a subnet group and security groups) belongs to none of them and
// keeps its addresses. The zero value matches nothing.
type rdsOwners struct {
	// byPlace maps rdsPlace(subnet, groups) to the ARNs of the DB
	// instances that fit there.
	byPlace map[string][]string
}

// newRDSOwners indexes the region's DB instances (Aurora cluster members
// included) by the places their interfaces can be.
func newRDSOwners(t Target, dbs []rdstypes.DBInstance) rdsOwners {
	o := rdsOwners{byPlace: map[string][]string{}}
	for _, db := range dbs {
		if db.DBSubnetGroup == nil {
			continue
		}
		// An instance described without a name has no component: it
		// still makes the interfaces it fits ambiguous, but owns none.
		var id string
		if aws.ToString(db.DBInstanceIdentifier) != "" {
			id = dbInstanceID(t, db)
		}
		var groups []string
		for _, g := range db.VpcSecurityGroups {
			groups = append(groups, aws.ToString(g.VpcSecurityGroupId))
		}
		for _, s := range db.DBSubnetGroup.Subnets {
			subnet := aws.ToString(s.SubnetIdentifier)
			if subnet == "" {
				continue
			}
			k := rdsPlace(subnet, groups)
			if !slices.Contains(o.byPlace[k], id) {
				o.byPlace[k] = append(o.byPlace[k], id)
			}
		}
	}
	return o
}

// owner returns the ARN of the one DB instance the RDS interface n fits,
// or "" when none or several do.
func (o rdsOwners) owner(n ec2types.NetworkInterface) string {
	subnet := aws.ToString(n.SubnetId)
	if subnet == "" {
		return ""
	}
	groups := make([]string, 0, len(n.Groups))
	for _, g := range n.Groups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	if ids := o.byPlace[rdsPlace(subnet, groups)]; len(ids) == 1 {
		return ids[0]
	}
	return ""
}

// rdsPlace is the key of a subnet and a set of security groups, whatever
// their order and repeats.
func rdsPlace(subnet string, groups []string) string {
	set := slices.Compact(slices.Sorted(slices.Values(groups)))
	set = slices.DeleteFunc(set, func(g string) bool { return g == "" })
	return subnet + " " + strings.Join(set, ",")
}

// rdsInterfaceIPs maps the ARN of each DB instance to the urn:vpcip
// identifiers of the region's RDS interfaces that belong to it. When the
// interfaces cannot be read (the failure is recorded with the call), the
// instances are described without their addresses.
func (t Target) rdsInterfaceIPs(ctx context.Context, owners rdsOwners) map[string][]string {
	enis, err := t.networkInterfaces(ctx)
	if err != nil {
		return nil
	}
	out := map[string][]string{}
	for _, n := range enis {
		if !isRDSInterface(n) {
			continue
		}
		if id := owners.owner(n); id != "" {
			out[id] = append(out[id], vpcIPs(n)...)
		}
	}
	return out
}

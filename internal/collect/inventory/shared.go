package inventory

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// shared holds what several listings of one account and region need and
// read once per scan: the network interfaces, which tell the private IPs of
// load balancers, Lambda functions, VPC endpoints and other owners that
// their own Describe calls do not; and the DB instances, which the RDS
// listing describes and the interfaces' owners are matched to.
type shared struct {
	enisOnce sync.Once
	enis     []ec2types.NetworkInterface
	enisErr  error

	dbsOnce sync.Once
	dbs     []rdstypes.DBInstance
	owners  rdsOwners
	dbsErr  error
}

// networkInterfaces returns every network interface of the target's region,
// described once per scan and shared by the listings that need them.
func (t Target) networkInterfaces(ctx context.Context) ([]ec2types.NetworkInterface, error) {
	if t.shared == nil {
		return describeNetworkInterfaces(ctx, t)
	}
	t.shared.enisOnce.Do(func() {
		t.shared.enis, t.shared.enisErr = describeNetworkInterfaces(ctx, t)
	})
	return t.shared.enis, t.shared.enisErr
}

func describeNetworkInterfaces(ctx context.Context, t Target) ([]ec2types.NetworkInterface, error) {
	var out []ec2types.NetworkInterface
	p := ec2.NewDescribeNetworkInterfacesPaginator(ec2.NewFromConfig(t.Config),
		&ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.NetworkInterfaces...)
	}
	return out, nil
}

// dbInstances returns every DB instance of the target's region, Aurora
// cluster members included, and the matcher of RDS interfaces to them,
// described and built once per scan. When the instances cannot be read,
// the matcher matches nothing.
func (t Target) dbInstances(ctx context.Context) ([]rdstypes.DBInstance, rdsOwners, error) {
	if t.shared == nil {
		dbs, err := describeDBInstances(ctx, t)
		return dbs, newRDSOwners(t, dbs), err
	}
	t.shared.dbsOnce.Do(func() {
		t.shared.dbs, t.shared.dbsErr = describeDBInstances(ctx, t)
		t.shared.owners = newRDSOwners(t, t.shared.dbs)
	})
	return t.shared.dbs, t.shared.owners, t.shared.dbsErr
}

func describeDBInstances(ctx context.Context, t Target) ([]rdstypes.DBInstance, error) {
	var out []rdstypes.DBInstance
	p := rds.NewDescribeDBInstancesPaginator(rds.NewFromConfig(t.Config), &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.DBInstances...)
	}
	return out, nil
}

// interfaceIPs returns the urn:vpcip identifiers of every private address of
// the region's network interfaces that match. The interfaces are a detail:
// when they cannot be read (the failure is recorded with the call), the
// owner is still described, without its addresses.
func (t Target) interfaceIPs(ctx context.Context, match func(ec2types.NetworkInterface) bool) []string {
	enis, err := t.networkInterfaces(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, eni := range enis {
		if match(eni) {
			out = append(out, vpcIPs(eni)...)
		}
	}
	return out
}

// vpcIPs returns the urn:vpcip identifiers of an interface's private IPv4
// and IPv6 addresses.
func vpcIPs(eni ec2types.NetworkInterface) []string {
	vpc := aws.ToString(eni.VpcId)
	if vpc == "" {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(ip string) {
		if ip != "" && !seen[ip] {
			seen[ip] = true
			out = append(out, vpcIP(vpc, ip))
		}
	}
	add(aws.ToString(eni.PrivateIpAddress))
	for _, a := range eni.PrivateIpAddresses {
		add(aws.ToString(a.PrivateIpAddress))
	}
	for _, a := range eni.Ipv6Addresses {
		add(aws.ToString(a.Ipv6Address))
	}
	return out
}

// vpcIP is the identifier of a private address in a VPC.
func vpcIP(vpc, ip string) string { return "urn:vpcip:" + vpc + "/" + ip }

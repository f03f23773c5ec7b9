package inventory

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// shared holds what several listings of one account and region need and
// read once per scan: the network interfaces, which tell the private IPs of
// load balancers, Lambda functions, VPC endpoints and other owners that
// their own Describe calls do not.
type shared struct {
	enisOnce sync.Once
	enis     []ec2types.NetworkInterface
	enisErr  error
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

package inventory

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/skymap/skymap/internal/model"
)

// EC2 and VPC component types.
const (
	typeInstance        = "aws.ec2.instance"
	typeVPC             = "aws.ec2.vpc"
	typeSubnet          = "aws.ec2.subnet"
	typeSecurityGroup   = "aws.ec2.security-group"
	typeVPNGateway      = "aws.ec2.vpn-gateway"
	typeInternetGateway = "aws.ec2.internet-gateway"
)

var ec2Types = map[string]typeInfo{
	typeInstance: {model.LayerMachines, "/ec2/home?region={region}#InstanceDetails:instanceId={id}", "EC2",
		"arn:{partition}:ec2:{region}:{account}:instance/{id}"},
	typeVPC: {model.LayerNetworking, "/vpcconsole/home?region={region}#VpcDetails:VpcId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:vpc/{id}"},
	typeSubnet: {model.LayerNetworking, "/vpcconsole/home?region={region}#SubnetDetails:subnetId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:subnet/{id}"},
	typeSecurityGroup: {model.LayerNetworking, "/ec2/home?region={region}#SecurityGroup:groupId={id}", "EC2",
		"arn:{partition}:ec2:{region}:{account}:security-group/{id}"},
	typeVPNGateway: {model.LayerNetworking, "/vpcconsole/home?region={region}#VpnGatewayDetails:VpnGatewayId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:vpn-gateway/{id}"},
	typeInternetGateway: {model.LayerNetworking, "/vpcconsole/home?region={region}#InternetGatewayDetails:internetGatewayId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:internet-gateway/{id}"},
}

var ec2Listings = []listing{
	{"ec2", "instances", []string{typeInstance}, regional, collectInstances, []string{"ec2:DescribeInstances"}},
	{"ec2", "vpcs", []string{typeVPC}, regional, collectVPCs, []string{"ec2:DescribeVpcs"}},
	{"ec2", "subnets", []string{typeSubnet}, regional, collectSubnets, []string{"ec2:DescribeSubnets"}},
	{"ec2", "security_groups", []string{typeSecurityGroup}, regional, collectSecurityGroups, []string{"ec2:DescribeSecurityGroups"}},
	{"ec2", "vpn_gateways", []string{typeVPNGateway}, regional, collectVPNGateways, []string{"ec2:DescribeVpnGateways"}},
	{"ec2", "internet_gateways", []string{typeInternetGateway}, regional, collectInternetGateways, []string{"ec2:DescribeInternetGateways"}},
}

// ec2Tags turns EC2 tags into a map.
func ec2Tags(tags []ec2types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// liveStates are the instance states listed; terminated instances are gone.
var liveStates = []string{"pending", "running", "shutting-down", "stopping", "stopped"}

func collectInstances(ctx context.Context, t Target) (Result, error) {
	return describeInstances(ctx, t, nil)
}

// describeInstances describes the live instances, all of them or those
// ids names.
func describeInstances(ctx context.Context, t Target, ids []string) (Result, error) {
	var res Result
	client := ec2.NewFromConfig(t.Config)
	for _, only := range ec2Filters("instance-id", ids) {
		// moto answers 500 to instance-state-code filters; state names work on both.
		filters := append([]ec2types.Filter{{Name: aws.String("instance-state-name"), Values: liveStates}}, only...)
		p := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{Filters: filters, MaxResults: aws.Int32(1000)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return res, err
			}
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					if aws.ToString(in.InstanceId) == "" {
						res.malformed("ec2:DescribeInstances", "", "no InstanceId in reservation %q", aws.ToString(r.ReservationId))
						continue
					}
					instance(t, in, &res)
				}
			}
		}
	}
	return res, nil
}

// instance adds an instance and its relations to res: its subnet (or VPC),
// its security groups and its volumes.
func instance(t Target, in ec2types.Instance, res *Result) {
	id := aws.ToString(in.InstanceId)
	// An instance type newer than the SDK is normal (AWS adds some every
	// month); a state other than those asked for is not. The instance is
	// described all the same.
	if in.State != nil && !slices.Contains(liveStates, string(in.State.Name)) {
		res.malformed("ec2:DescribeInstances", id, "unexpected instance state %q", in.State.Name)
	}
	idents := []string{"urn:host:/" + id}
	if dns := aws.ToString(in.PublicDnsName); dns != "" {
		idents = append(idents, "urn:host:/"+dns)
	}
	if ip := aws.ToString(in.PublicIpAddress); ip != "" {
		idents = append(idents, "urn:host:/"+ip)
	}
	for _, eni := range in.NetworkInterfaces {
		vpc := aws.ToString(eni.VpcId)
		for _, pip := range eni.PrivateIpAddresses {
			if ip := aws.ToString(pip.PrivateIpAddress); ip != "" && vpc != "" {
				idents = append(idents, "urn:vpcip:"+vpc+"/"+ip)
			}
		}
		for _, v6 := range eni.Ipv6Addresses {
			if ip := aws.ToString(v6.Ipv6Address); ip != "" && vpc != "" {
				idents = append(idents, "urn:vpcip:"+vpc+"/"+ip)
			}
		}
	}
	if vpc, ip := aws.ToString(in.VpcId), aws.ToString(in.PrivateIpAddress); vpc != "" && ip != "" {
		idents = append(idents, "urn:vpcip:"+vpc+"/"+ip)
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeInstance, id: id, short: id, tags: ec2Tags(in.Tags), idents: idents, data: in,
	}))
	if dst := cmp.Or(aws.ToString(in.SubnetId), aws.ToString(in.VpcId)); dst != "" {
		res.Relations = append(res.Relations, rel(id, dst, model.UsesService))
	}
	// The instance's groups, and its interfaces' groups: some EC2
	// implementations (moto) list them only on the interfaces.
	groups := map[string]bool{}
	for _, sg := range in.SecurityGroups {
		groups[aws.ToString(sg.GroupId)] = true
	}
	for _, eni := range in.NetworkInterfaces {
		for _, sg := range eni.Groups {
			groups[aws.ToString(sg.GroupId)] = true
		}
	}
	for _, sg := range slices.Sorted(maps.Keys(groups)) {
		if sg != "" {
			res.Relations = append(res.Relations, rel(id, sg, model.UsesService))
		}
	}
	for _, bd := range in.BlockDeviceMappings {
		if bd.Ebs != nil && aws.ToString(bd.Ebs.VolumeId) != "" {
			res.Relations = append(res.Relations, rel(id, aws.ToString(bd.Ebs.VolumeId), model.UsesService))
		}
	}
}

func collectVPCs(ctx context.Context, t Target) (Result, error) { return describeVPCs(ctx, t, nil) }

func describeVPCs(ctx context.Context, t Target, ids []string) (Result, error) {
	var res Result
	client := ec2.NewFromConfig(t.Config)
	for _, only := range ec2Filters("vpc-id", ids) {
		p := ec2.NewDescribeVpcsPaginator(client, &ec2.DescribeVpcsInput{Filters: only, MaxResults: aws.Int32(1000)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return res, err
			}
			for _, v := range page.Vpcs {
				id := aws.ToString(v.VpcId)
				if id == "" {
					res.malformed("ec2:DescribeVpcs", "", "no VpcId (CIDR %q)", aws.ToString(v.CidrBlock))
					continue
				}
				res.Components = append(res.Components, t.component(resource{
					typ: typeVPC, id: id, short: id, tags: ec2Tags(v.Tags), data: v,
				}))
			}
		}
	}
	return res, nil
}

func collectSubnets(ctx context.Context, t Target) (Result, error) {
	return describeSubnets(ctx, t, nil)
}

func describeSubnets(ctx context.Context, t Target, ids []string) (Result, error) {
	var res Result
	client := ec2.NewFromConfig(t.Config)
	for _, only := range ec2Filters("subnet-id", ids) {
		if err := subnetPages(ctx, t, client, only, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func subnetPages(ctx context.Context, t Target, client *ec2.Client, filters []ec2types.Filter, res *Result) error {
	p := ec2.NewDescribeSubnetsPaginator(client, &ec2.DescribeSubnetsInput{Filters: filters, MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, s := range page.Subnets {
			id := aws.ToString(s.SubnetId)
			if id == "" {
				res.malformed("ec2:DescribeSubnets", "", "no SubnetId (CIDR %q)", aws.ToString(s.CidrBlock))
				continue
			}
			idents := []string{}
			if arn := aws.ToString(s.SubnetArn); arn != "" {
				idents = append(idents, arn)
			}
			res.Components = append(res.Components, t.component(resource{
				typ: typeSubnet, id: id, short: id, tags: ec2Tags(s.Tags), idents: idents, data: s,
			}))
			if vpc := aws.ToString(s.VpcId); vpc != "" {
				res.Relations = append(res.Relations, rel(id, vpc, model.UsesService))
			} else {
				res.malformed("ec2:DescribeSubnets", id, "no VpcId")
			}
		}
	}
	return nil
}

func collectSecurityGroups(ctx context.Context, t Target) (Result, error) {
	return describeSecurityGroups(ctx, t, nil)
}

func describeSecurityGroups(ctx context.Context, t Target, ids []string) (Result, error) {
	var res Result
	client := ec2.NewFromConfig(t.Config)
	for _, only := range ec2Filters("group-id", ids) {
		if err := securityGroupPages(ctx, t, client, only, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func securityGroupPages(ctx context.Context, t Target, client *ec2.Client, filters []ec2types.Filter, res *Result) error {
	p := ec2.NewDescribeSecurityGroupsPaginator(client, &ec2.DescribeSecurityGroupsInput{Filters: filters, MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, g := range page.SecurityGroups {
			id := aws.ToString(g.GroupId)
			if id == "" {
				res.malformed("ec2:DescribeSecurityGroups", "", "no GroupId (name %q)", aws.ToString(g.GroupName))
				continue
			}
			idents := []string{}
			if arn := aws.ToString(g.SecurityGroupArn); arn != "" {
				idents = append(idents, arn)
			}
			r := resource{typ: typeSecurityGroup, id: id, short: id, name: aws.ToString(g.GroupName),
				tags: ec2Tags(g.Tags), idents: idents, data: g}
			res.Components = append(res.Components, t.component(r))
			if vpc := aws.ToString(g.VpcId); vpc != "" {
				res.Relations = append(res.Relations, rel(vpc, id, model.HasResource))
			}
		}
	}
	return nil
}

func collectVPNGateways(ctx context.Context, t Target) (Result, error) {
	var res Result
	// DescribeVpnGateways does not paginate: it returns every gateway at once.
	out, err := ec2.NewFromConfig(t.Config).DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{})
	if err != nil {
		return res, err
	}
	for _, g := range out.VpnGateways {
		if g.State == ec2types.VpnStateDeleted {
			continue
		}
		id := aws.ToString(g.VpnGatewayId)
		if id == "" {
			res.malformed("ec2:DescribeVpnGateways", "", "no VpnGatewayId")
			continue
		}
		res.Components = append(res.Components, t.component(resource{
			typ: typeVPNGateway, id: id, short: id, tags: ec2Tags(g.Tags), data: g,
		}))
		for _, a := range g.VpcAttachments {
			if a.State != ec2types.AttachmentStatusAttached && a.State != ec2types.AttachmentStatusAttaching {
				continue
			}
			if vpc := aws.ToString(a.VpcId); vpc != "" {
				res.Relations = append(res.Relations, rel(id, vpc, model.UsesService))
			} else {
				res.malformed("ec2:DescribeVpnGateways", id, "attachment without VpcId")
			}
		}
	}
	return res, nil
}

func collectInternetGateways(ctx context.Context, t Target) (Result, error) {
	var res Result
	p := ec2.NewDescribeInternetGatewaysPaginator(ec2.NewFromConfig(t.Config), &ec2.DescribeInternetGatewaysInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, g := range page.InternetGateways {
			id := aws.ToString(g.InternetGatewayId)
			if id == "" {
				res.malformed("ec2:DescribeInternetGateways", "", "no InternetGatewayId")
				continue
			}
			res.Components = append(res.Components, t.component(resource{
				typ: typeInternetGateway, id: id, short: id, tags: ec2Tags(g.Tags), data: g,
			}))
			for _, a := range g.Attachments {
				if a.State != ec2types.AttachmentStatusAttached && a.State != "available" && a.State != ec2types.AttachmentStatusAttaching {
					continue
				}
				if vpc := aws.ToString(a.VpcId); vpc != "" {
					res.Relations = append(res.Relations, rel(id, vpc, model.UsesService))
				} else {
					res.malformed("ec2:DescribeInternetGateways", id, "attachment without VpcId")
				}
			}
		}
	}
	return res, nil
}

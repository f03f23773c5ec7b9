package awstest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ErrNotFresh reports that moto already holds resources in a region the
// estate is built in. Reset moto and build again.
var ErrNotFresh = errors.New("moto is not fresh: build in a fresh or reset moto")

// Build creates e in moto, one resource at a time in declaration order, and
// returns the placeholders of everything moto generated, including the
// default VPC, subnets, security groups, route tables and network ACLs moto
// adds in every region of e. Build moto in a fresh or reset state: names are
// not checked against what already exists.
func (e Estate) Build(ctx context.Context, m *Moto) (*Built, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("awstest: invalid estate: %w", err)
	}
	if err := e.checkEmpty(ctx, m); err != nil {
		return nil, err
	}
	b := newBuilt()
	for _, a := range e.Accounts {
		account := cmp.Or(a.ID, DefaultAccount)
		for _, r := range a.Regions {
			cfg, err := m.Config(ctx, r.Name, account)
			if err != nil {
				return nil, err
			}
			rb := regionBuilder{Built: b, ec2: ec2.NewFromConfig(cfg), account: account, region: r.Name,
				vpcs: map[string]string{}, subnets: map[string]string{}, groups: map[string]string{}}
			for _, v := range r.VPCs {
				if err := rb.vpc(ctx, v); err != nil {
					return nil, fmt.Errorf("awstest: account %s region %s: %w", account, r.Name, err)
				}
			}
			if err := rb.discover(ctx); err != nil {
				return nil, fmt.Errorf("awstest: account %s region %s: %w", account, r.Name, err)
			}
			seed := &Seed{Config: cfg, Account: account, Region: r.Name, Built: b}
			for _, s := range r.Services {
				if err := s(ctx, seed); err != nil {
					return nil, fmt.Errorf("awstest: account %s region %s: %w", account, r.Name, err)
				}
			}
		}
		for _, bucket := range a.Buckets {
			if err := buildBucket(ctx, m, account, bucket); err != nil {
				return nil, fmt.Errorf("awstest: account %s: %w", account, err)
			}
		}
		if len(a.Global) > 0 {
			cfg, err := m.Config(ctx, "us-east-1", account)
			if err != nil {
				return nil, err
			}
			seed := &Seed{Config: cfg, Account: account, Region: "us-east-1", Built: b}
			for _, s := range a.Global {
				if err := s(ctx, seed); err != nil {
					return nil, fmt.Errorf("awstest: account %s global: %w", account, err)
				}
			}
		}
	}
	b.compile()
	return b, nil
}

// checkEmpty refuses to build where moto already holds VPCs other than the
// default ones, before anything is created, so a second Build does not
// leave half an estate behind.
func (e Estate) checkEmpty(ctx context.Context, m *Moto) error {
	for _, a := range e.Accounts {
		account := cmp.Or(a.ID, DefaultAccount)
		for _, r := range a.Regions {
			cfg, err := m.Config(ctx, r.Name, account)
			if err != nil {
				return err
			}
			out, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
			if err != nil {
				return fmt.Errorf("awstest: account %s region %s: describe vpcs: %w", account, r.Name, err)
			}
			for _, v := range out.Vpcs {
				if !aws.ToBool(v.IsDefault) {
					return fmt.Errorf("awstest: account %s region %s holds %s: %w",
						account, r.Name, aws.ToString(v.VpcId), ErrNotFresh)
				}
			}
		}
	}
	return nil
}

// regionBuilder creates the EC2 part of one account and region.
type regionBuilder struct {
	*Built
	ec2             *ec2.Client
	account, region string
	// labels of the ids created or found in this region
	vpcs, subnets, groups map[string]string
}

func (rb *regionBuilder) vpc(ctx context.Context, v VPC) error {
	out, err := rb.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:         aws.String(v.CIDR),
		TagSpecifications: tagSpec(types.ResourceTypeVpc, v.Name, v.Tags),
	})
	if err != nil {
		return fmt.Errorf("create vpc %s: %w", v.Name, err)
	}
	vpcID := aws.ToString(out.Vpc.VpcId)
	rb.vpcs[vpcID] = v.Name
	if err := rb.add(vpcID, "vpc", v.Name); err != nil {
		return err
	}
	if v.InternetGateway != "" {
		if err := rb.internetGateway(ctx, vpcID, v.InternetGateway); err != nil {
			return err
		}
	}
	if v.VPNGateway != "" {
		if err := rb.vpnGateway(ctx, vpcID, v.VPNGateway); err != nil {
			return err
		}
	}
	groups := map[string]string{} // name -> id, for rules and instances
	for _, g := range v.SecurityGroups {
		out, err := rb.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName:         aws.String(g.Name),
			Description:       aws.String(cmp.Or(g.Description, "skymap test group "+g.Name)),
			VpcId:             aws.String(vpcID),
			TagSpecifications: tagSpec(types.ResourceTypeSecurityGroup, g.Name, g.Tags),
		})
		if err != nil && RetriedCreate(err) == nil {
			// The SDK retried a create that had succeeded: the group is there.
			out, err = rb.existingGroup(ctx, vpcID, g.Name)
		}
		if err != nil {
			return fmt.Errorf("create security group %s: %w", g.Name, err)
		}
		groups[g.Name] = aws.ToString(out.GroupId)
		rb.groups[groups[g.Name]] = g.Name
		if err := rb.add(groups[g.Name], "sg", g.Name); err != nil {
			return err
		}
	}
	for _, g := range v.SecurityGroups { // after all groups exist, so rules may name any of them
		for _, r := range g.Ingress {
			perm := types.IpPermission{IpProtocol: aws.String(r.Protocol), FromPort: aws.Int32(r.FromPort), ToPort: aws.Int32(r.ToPort)}
			if r.CIDR != "" {
				perm.IpRanges = []types.IpRange{{CidrIp: aws.String(r.CIDR)}}
			} else {
				perm.UserIdGroupPairs = []types.UserIdGroupPair{{GroupId: aws.String(groups[r.SourceGroup])}}
			}
			if _, err := rb.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
				GroupId: aws.String(groups[g.Name]), IpPermissions: []types.IpPermission{perm},
			}); err != nil {
				return fmt.Errorf("authorize ingress to security group %s: %w", g.Name, err)
			}
		}
	}
	for _, s := range v.Subnets {
		if err := rb.subnet(ctx, vpcID, s, groups); err != nil {
			return err
		}
	}
	return nil
}

func (rb *regionBuilder) internetGateway(ctx context.Context, vpcID, name string) error {
	out, err := rb.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: tagSpec(types.ResourceTypeInternetGateway, name, nil),
	})
	if err != nil {
		return fmt.Errorf("create internet gateway %s: %w", name, err)
	}
	id := aws.ToString(out.InternetGateway.InternetGatewayId)
	if _, err := rb.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{
		InternetGatewayId: aws.String(id), VpcId: aws.String(vpcID),
	}); err != nil {
		return fmt.Errorf("attach internet gateway %s: %w", name, err)
	}
	return rb.add(id, "igw", name)
}

func (rb *regionBuilder) vpnGateway(ctx context.Context, vpcID, name string) error {
	out, err := rb.ec2.CreateVpnGateway(ctx, &ec2.CreateVpnGatewayInput{
		Type:              types.GatewayTypeIpsec1,
		TagSpecifications: tagSpec(types.ResourceTypeVpnGateway, name, nil),
	})
	if err != nil {
		return fmt.Errorf("create vpn gateway %s: %w", name, err)
	}
	id := aws.ToString(out.VpnGateway.VpnGatewayId)
	if _, err := rb.ec2.AttachVpnGateway(ctx, &ec2.AttachVpnGatewayInput{
		VpnGatewayId: aws.String(id), VpcId: aws.String(vpcID),
	}); err != nil {
		return fmt.Errorf("attach vpn gateway %s: %w", name, err)
	}
	return rb.add(id, "vgw", name)
}

func (rb *regionBuilder) subnet(ctx context.Context, vpcID string, s Subnet, groups map[string]string) error {
	out, err := rb.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{
		VpcId:             aws.String(vpcID),
		CidrBlock:         aws.String(s.CIDR),
		AvailabilityZone:  aws.String(s.AvailabilityZone),
		TagSpecifications: tagSpec(types.ResourceTypeSubnet, s.Name, s.Tags),
	})
	if err != nil {
		return fmt.Errorf("create subnet %s: %w", s.Name, err)
	}
	id := aws.ToString(out.Subnet.SubnetId)
	rb.subnets[id] = s.Name
	if err := rb.add(id, "subnet", s.Name); err != nil {
		return err
	}
	if s.MapPublicIP {
		if _, err := rb.ec2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{
			SubnetId: aws.String(id), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)},
		}); err != nil {
			return fmt.Errorf("map public ips in subnet %s: %w", s.Name, err)
		}
	}
	for _, in := range s.Instances {
		if err := rb.instance(ctx, id, in, groups); err != nil {
			return err
		}
	}
	return nil
}

// tagSpec tags a new resource with Name and tags, in key order.
func tagSpec(rt types.ResourceType, name string, tags map[string]string) []types.TagSpecification {
	all := map[string]string{"Name": name}
	maps.Copy(all, tags)
	var ts []types.Tag
	for _, k := range slices.Sorted(maps.Keys(all)) {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(all[k])})
	}
	return []types.TagSpecification{{ResourceType: rt, Tags: ts}}
}

// existingGroup finds security group name in vpc, as a create's answer.
func (rb *regionBuilder) existingGroup(ctx context.Context, vpc, name string) (*ec2.CreateSecurityGroupOutput, error) {
	out, err := rb.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{name}}}})
	if err != nil {
		return nil, err
	}
	if len(out.SecurityGroups) != 1 {
		return nil, fmt.Errorf("%d groups named %s after a retried create", len(out.SecurityGroups), name)
	}
	return &ec2.CreateSecurityGroupOutput{GroupId: out.SecurityGroups[0].GroupId}, nil
}

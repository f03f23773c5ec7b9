package awstest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// discover describes what moto created by itself in the region (the default
// VPC with its subnets, a default security group, main route table and
// network ACL per VPC, association and rule ids) and maps it. A resource it
// cannot name is an error: moto was not fresh, or does more than expected.
func (rb *regionBuilder) discover(ctx context.Context) error {
	for _, step := range []func(context.Context) error{
		rb.discoverVPCs, rb.discoverSubnets, rb.discoverGroups, rb.discoverRules,
		rb.discoverRouteTables, rb.discoverNetworkACLs,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// scoped qualifies a region or zone with the account, unless it is the default.
func (rb *regionBuilder) scoped(regionOrZone string) string {
	if rb.account == DefaultAccount {
		return regionOrZone
	}
	return rb.account + "/" + regionOrZone
}

func (rb *regionBuilder) discoverVPCs(ctx context.Context) error {
	p := ec2.NewDescribeVpcsPaginator(rb.ec2, &ec2.DescribeVpcsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe vpcs: %w", err)
		}
		for _, v := range page.Vpcs {
			id := aws.ToString(v.VpcId)
			if _, ok := rb.vpcs[id]; !ok {
				if !aws.ToBool(v.IsDefault) {
					return fmt.Errorf("unexpected vpc %s: %w", id, ErrNotFresh)
				}
				rb.vpcs[id] = "default:" + rb.scoped(rb.region)
				if err := rb.add(id, "vpc", rb.vpcs[id]); err != nil {
					return err
				}
			}
			for k, a := range v.CidrBlockAssociationSet {
				label := rb.vpcs[id]
				if k > 0 {
					label += ":" + strconv.Itoa(k)
				}
				if err := rb.add(aws.ToString(a.AssociationId), "vpc-cidr-assoc", label); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (rb *regionBuilder) discoverSubnets(ctx context.Context) error {
	p := ec2.NewDescribeSubnetsPaginator(rb.ec2, &ec2.DescribeSubnetsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe subnets: %w", err)
		}
		for _, s := range page.Subnets {
			id := aws.ToString(s.SubnetId)
			if _, ok := rb.subnets[id]; ok {
				continue
			}
			if !aws.ToBool(s.DefaultForAz) {
				return fmt.Errorf("unexpected subnet %s: %w", id, ErrNotFresh)
			}
			rb.subnets[id] = "default:" + rb.scoped(aws.ToString(s.AvailabilityZone))
			if err := rb.add(id, "subnet", rb.subnets[id]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (rb *regionBuilder) discoverGroups(ctx context.Context) error {
	p := ec2.NewDescribeSecurityGroupsPaginator(rb.ec2, &ec2.DescribeSecurityGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe security groups: %w", err)
		}
		for _, g := range page.SecurityGroups {
			id := aws.ToString(g.GroupId)
			if _, ok := rb.groups[id]; ok {
				continue
			}
			vpc, ok := rb.vpcs[aws.ToString(g.VpcId)]
			if !ok || aws.ToString(g.GroupName) != "default" {
				return fmt.Errorf("unexpected security group %s: %w", id, ErrNotFresh)
			}
			rb.groups[id] = "default:" + vpc
			if err := rb.add(id, "sg", rb.groups[id]); err != nil {
				return err
			}
		}
	}
	return nil
}

// discoverRules numbers the rules of each group in an order that depends on
// what they allow, not on their random ids.
func (rb *regionBuilder) discoverRules(ctx context.Context) error {
	byGroup := map[string][]types.SecurityGroupRule{}
	p := ec2.NewDescribeSecurityGroupRulesPaginator(rb.ec2, &ec2.DescribeSecurityGroupRulesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe security group rules: %w", err)
		}
		for _, r := range page.SecurityGroupRules {
			byGroup[aws.ToString(r.GroupId)] = append(byGroup[aws.ToString(r.GroupId)], r)
		}
	}
	key := func(r types.SecurityGroupRule) string {
		var ref string
		if r.ReferencedGroupInfo != nil {
			ref, _ = rb.Placeholder(aws.ToString(r.ReferencedGroupInfo.GroupId))
		}
		return fmt.Sprintf("%t|%s|%06d|%06d|%s|%s|%s|%s", aws.ToBool(r.IsEgress), aws.ToString(r.IpProtocol),
			aws.ToInt32(r.FromPort)+1, aws.ToInt32(r.ToPort)+1, aws.ToString(r.CidrIpv4), aws.ToString(r.CidrIpv6),
			aws.ToString(r.PrefixListId), ref)
	}
	for groupID, rules := range byGroup {
		group, ok := rb.groups[groupID]
		if !ok {
			return fmt.Errorf("rule %s of unknown security group %s", aws.ToString(rules[0].SecurityGroupRuleId), groupID)
		}
		slices.SortFunc(rules, func(a, b types.SecurityGroupRule) int { return cmp.Compare(key(a), key(b)) })
		for k, r := range rules {
			if err := rb.add(aws.ToString(r.SecurityGroupRuleId), "sgr", group+":"+strconv.Itoa(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (rb *regionBuilder) discoverRouteTables(ctx context.Context) error {
	p := ec2.NewDescribeRouteTablesPaginator(rb.ec2, &ec2.DescribeRouteTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe route tables: %w", err)
		}
		for _, t := range page.RouteTables {
			id, vpc := aws.ToString(t.RouteTableId), rb.vpcs[aws.ToString(t.VpcId)]
			main := slices.ContainsFunc(t.Associations, func(a types.RouteTableAssociation) bool { return aws.ToBool(a.Main) })
			if vpc == "" || !main {
				return fmt.Errorf("unexpected route table %s: %w", id, ErrNotFresh)
			}
			if err := rb.add(id, "rtb", "main:"+vpc); err != nil {
				return err
			}
			for _, a := range t.Associations {
				label := "main:" + vpc
				if !aws.ToBool(a.Main) {
					label = rb.subnets[aws.ToString(a.SubnetId)]
				}
				if err := rb.add(aws.ToString(a.RouteTableAssociationId), "rtbassoc", label); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (rb *regionBuilder) discoverNetworkACLs(ctx context.Context) error {
	p := ec2.NewDescribeNetworkAclsPaginator(rb.ec2, &ec2.DescribeNetworkAclsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe network acls: %w", err)
		}
		for _, acl := range page.NetworkAcls {
			id, vpc := aws.ToString(acl.NetworkAclId), rb.vpcs[aws.ToString(acl.VpcId)]
			if vpc == "" || !aws.ToBool(acl.IsDefault) {
				return fmt.Errorf("unexpected network acl %s: %w", id, ErrNotFresh)
			}
			if err := rb.add(id, "acl", "default:"+vpc); err != nil {
				return err
			}
			for _, a := range acl.Associations {
				subnet := rb.subnets[aws.ToString(a.SubnetId)]
				if subnet == "" {
					return fmt.Errorf("network acl %s: association with unknown subnet %s", id, aws.ToString(a.SubnetId))
				}
				if err := rb.add(aws.ToString(a.NetworkAclAssociationId), "aclassoc", subnet); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

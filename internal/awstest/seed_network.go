package awstest

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// SeedVPCExtras creates, in the prod VPC of the sample estate, a NAT gateway
// in prod-public, a transit gateway attached to prod, route tables for both
// subnets (to the internet gateway, the NAT gateway, the transit gateway), a
// gateway endpoint for S3 and an interface endpoint for SQS, a spare network
// interface and a detached volume.
func SeedVPCExtras(ctx context.Context, s *Seed) error {
	c := ec2.NewFromConfig(s.Config)
	ids, err := s.needAll("<vpc:prod>", "<subnet:prod-public>", "<subnet:prod-private>", "<igw:prod-igw>", "<sg:app>")
	if err != nil {
		return err
	}
	vpc, public, private, igw, appSG := ids[0], ids[1], ids[2], ids[3], ids[4]

	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		return fmt.Errorf("allocate address: %w", err)
	}
	nat, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{
		SubnetId: aws.String(public), AllocationId: eip.AllocationId,
		TagSpecifications: tagSpec(types.ResourceTypeNatgateway, "prod-nat", nil),
	})
	if err != nil {
		return fmt.Errorf("create nat gateway: %w", err)
	}
	natID := aws.ToString(nat.NatGateway.NatGatewayId)
	errs := []error{s.Add(aws.ToString(eip.AllocationId), "eipalloc", "prod-nat"), s.Add(natID, "nat", "prod-nat"),
		s.Add(aws.ToString(eip.PublicIp), "public-ip", "prod-nat")}

	tgw, err := c.CreateTransitGateway(ctx, &ec2.CreateTransitGatewayInput{
		Description: aws.String("core"), TagSpecifications: tagSpec(types.ResourceTypeTransitGateway, "core-tgw", nil),
	})
	if err != nil {
		return fmt.Errorf("create transit gateway: %w", err)
	}
	tgwID := aws.ToString(tgw.TransitGateway.TransitGatewayId)
	errs = append(errs, s.Add(tgwID, "tgw", "core-tgw"))
	if o := tgw.TransitGateway.Options; o != nil {
		errs = append(errs, s.Add(aws.ToString(o.AssociationDefaultRouteTableId), "tgw-rtb", "core-tgw"),
			s.Add(aws.ToString(o.PropagationDefaultRouteTableId), "tgw-rtb", "core-tgw"))
	}
	att, err := c.CreateTransitGatewayVpcAttachment(ctx, &ec2.CreateTransitGatewayVpcAttachmentInput{
		TransitGatewayId: aws.String(tgwID), VpcId: aws.String(vpc), SubnetIds: []string{private},
		TagSpecifications: tagSpec(types.ResourceTypeTransitGatewayAttachment, "core-prod", nil),
	})
	if err != nil {
		return fmt.Errorf("attach transit gateway: %w", err)
	}
	errs = append(errs, s.Add(aws.ToString(att.TransitGatewayVpcAttachment.TransitGatewayAttachmentId), "tgw-attach", "core-prod"))

	rts := map[string]string{}
	for _, rt := range []struct{ name, subnet string }{{"prod-public-rt", public}, {"prod-private-rt", private}} {
		out, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc),
			TagSpecifications: tagSpec(types.ResourceTypeRouteTable, rt.name, nil)})
		if err != nil {
			return fmt.Errorf("create route table %s: %w", rt.name, err)
		}
		id := aws.ToString(out.RouteTable.RouteTableId)
		rts[rt.name] = id
		a, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(id), SubnetId: aws.String(rt.subnet)})
		if err != nil {
			return fmt.Errorf("associate route table %s: %w", rt.name, err)
		}
		errs = append(errs, s.Add(id, "rtb", rt.name), s.Add(aws.ToString(a.AssociationId), "rtbassoc", rt.name))
	}
	for _, r := range []ec2.CreateRouteInput{
		{RouteTableId: aws.String(rts["prod-public-rt"]), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igw)},
		{RouteTableId: aws.String(rts["prod-private-rt"]), DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(natID)},
		{RouteTableId: aws.String(rts["prod-private-rt"]), DestinationCidrBlock: aws.String("10.1.0.0/16"), TransitGatewayId: aws.String(tgwID)},
	} {
		if _, err := c.CreateRoute(ctx, &r); err != nil {
			return fmt.Errorf("create route to %s: %w", aws.ToString(r.DestinationCidrBlock), err)
		}
	}

	s3ep, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId: aws.String(vpc), ServiceName: aws.String("com.amazonaws." + s.Region + ".s3"),
		VpcEndpointType: types.VpcEndpointTypeGateway, RouteTableIds: []string{rts["prod-private-rt"]},
		TagSpecifications: tagSpec(types.ResourceTypeVpcEndpoint, "prod-s3", nil),
	})
	if err != nil {
		return fmt.Errorf("create s3 endpoint: %w", err)
	}
	errs = append(errs, s.Add(aws.ToString(s3ep.VpcEndpoint.VpcEndpointId), "vpce", "prod-s3"))
	// The gateway endpoint routes to the service's prefix list, whose id moto generates.
	pls, err := c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{})
	if err != nil {
		return fmt.Errorf("describe prefix lists: %w", err)
	}
	for _, pl := range pls.PrefixLists {
		errs = append(errs, s.Add(aws.ToString(pl.PrefixListId), "pl", aws.ToString(pl.PrefixListName)))
	}
	sqsep, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId: aws.String(vpc), ServiceName: aws.String("com.amazonaws." + s.Region + ".sqs"),
		VpcEndpointType: types.VpcEndpointTypeInterface, SubnetIds: []string{private}, SecurityGroupIds: []string{appSG},
		TagSpecifications: tagSpec(types.ResourceTypeVpcEndpoint, "prod-sqs", nil),
	})
	if err != nil {
		return fmt.Errorf("create sqs endpoint: %w", err)
	}
	errs = append(errs, s.Add(aws.ToString(sqsep.VpcEndpoint.VpcEndpointId), "vpce", "prod-sqs"))
	for i, d := range sqsep.VpcEndpoint.DnsEntries {
		errs = append(errs, s.Add(aws.ToString(d.DnsName), "vpce-dns", fmt.Sprintf("prod-sqs:%d", i)),
			s.Add(aws.ToString(d.HostedZoneId), "vpce-zone", fmt.Sprintf("prod-sqs:%d", i)))
	}

	spare, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: aws.String(private), PrivateIpAddress: aws.String("10.0.2.50"), Description: aws.String("spare interface"),
		TagSpecifications: tagSpec(types.ResourceTypeNetworkInterface, "spare-eni", nil),
	})
	if err != nil {
		return fmt.Errorf("create network interface: %w", err)
	}
	errs = append(errs, s.Add(aws.ToString(spare.NetworkInterface.NetworkInterfaceId), "eni", "spare-eni"))

	vol, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{
		AvailabilityZone: aws.String(s.Region + "a"), Size: aws.Int32(8), VolumeType: types.VolumeTypeGp3,
		TagSpecifications: tagSpec(types.ResourceTypeVolume, "backup-vol", nil),
	})
	if err != nil {
		return fmt.Errorf("create volume: %w", err)
	}
	errs = append(errs, s.Add(aws.ToString(vol.VolumeId), "vol", "backup-vol"))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.addInterfaces(ctx, c, map[string]string{natID: "prod-nat", aws.ToString(sqsep.VpcEndpoint.VpcEndpointId): "prod-sqs"})
}

// addInterfaces adds placeholders for the generated values of the network
// interfaces the estate does not know yet, labelled by owners (NAT gateway
// or VPC endpoint id -> label) or by their Name tag.
func (s *Seed) addInterfaces(ctx context.Context, c *ec2.Client, owners map[string]string) error {
	byENI := map[string]string{}
	nats, err := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{})
	if err != nil {
		return fmt.Errorf("describe nat gateways: %w", err)
	}
	for _, g := range nats.NatGateways {
		for _, a := range g.NatGatewayAddresses {
			if l, ok := owners[aws.ToString(g.NatGatewayId)]; ok {
				byENI[aws.ToString(a.NetworkInterfaceId)] = l
				if err := errors.Join(s.Add(aws.ToString(a.PrivateIp), "ip", l), s.Add(aws.ToString(a.AssociationId), "eipassoc", l)); err != nil {
					return err
				}
			}
		}
	}
	eps, err := c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{})
	if err != nil {
		return fmt.Errorf("describe vpc endpoints: %w", err)
	}
	for _, e := range eps.VpcEndpoints {
		for _, n := range e.NetworkInterfaceIds {
			if l, ok := owners[aws.ToString(e.VpcEndpointId)]; ok {
				byENI[n] = l
			}
		}
	}
	enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		return fmt.Errorf("describe network interfaces: %w", err)
	}
	var errs []error
	for _, n := range enis.NetworkInterfaces {
		id := aws.ToString(n.NetworkInterfaceId)
		label := byENI[id]
		if label == "" {
			for _, tag := range n.TagSet {
				if aws.ToString(tag.Key) == "Name" {
					label = aws.ToString(tag.Value)
				}
			}
		}
		if label == "" {
			continue // an instance's interface, known from the estate
		}
		errs = append(errs, s.Add(id, "eni", label), s.Add(aws.ToString(n.MacAddress), "mac", label),
			s.Add(aws.ToString(n.PrivateIpAddress), "ip", label), s.Add(aws.ToString(n.PrivateDnsName), "dns", label))
		if n.Attachment != nil {
			errs = append(errs, s.Add(aws.ToString(n.Attachment.AttachmentId), "eni-attach", label))
		}
		if a := n.Association; a != nil {
			errs = append(errs, s.Add(aws.ToString(a.PublicDnsName), "eni-public-dns", label))
		}
	}
	return errors.Join(errs...)
}

// SeedLoadBalancers creates in the prod VPC a classic load balancer in front
// of web-1, an application load balancer forwarding to an instance target
// group (web-1, app-1), a network load balancer forwarding to an IP target
// group (app-1's address), and an Auto Scaling group of app-1 that registers
// with the instance target group and the classic load balancer.
func SeedLoadBalancers(ctx context.Context, s *Seed) error {
	ids, err := s.needAll("<vpc:prod>", "<subnet:prod-public>", "<subnet:prod-private>", "<sg:web>", "<i:web-1>", "<i:app-1>", "<ip:app-1>")
	if err != nil {
		return err
	}
	vpc, public, private, webSG, web1, app1, app1IP := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6]

	classic := elb.NewFromConfig(s.Config)
	clb, err := classic.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		LoadBalancerName: aws.String("web-classic"), Subnets: []string{public}, SecurityGroups: []string{webSG},
		Listeners: []elbtypes.Listener{{Protocol: aws.String("HTTP"), LoadBalancerPort: 80, InstancePort: aws.Int32(80)}},
		Tags:      []elbtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		return fmt.Errorf("create classic load balancer: %w", err)
	}
	if _, err := classic.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
		LoadBalancerName: aws.String("web-classic"), Instances: []elbtypes.Instance{{InstanceId: aws.String(web1)}},
	}); err != nil {
		return fmt.Errorf("register with classic load balancer: %w", err)
	}
	errs := []error{s.Add(aws.ToString(clb.DNSName), "lb-dns", "web-classic")}

	v2 := elbv2.NewFromConfig(s.Config)
	tags := func(name string) []elbv2types.Tag {
		return []elbv2types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}, {Key: aws.String("team"), Value: aws.String("web")}}
	}
	lb := func(name string, typ elbv2types.LoadBalancerTypeEnum, subnets, groups []string) (string, error) {
		out, err := v2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
			Name: aws.String(name), Type: typ, Subnets: subnets, SecurityGroups: groups, Tags: tags(name),
		})
		if err != nil {
			return "", fmt.Errorf("create load balancer %s: %w", name, err)
		}
		l := out.LoadBalancers[0]
		errs = append(errs, s.Add(aws.ToString(l.LoadBalancerArn), "lb", name), s.Add(aws.ToString(l.DNSName), "lb-dns", name))
		return aws.ToString(l.LoadBalancerArn), nil
	}
	tg := func(name string, typ elbv2types.TargetTypeEnum, proto elbv2types.ProtocolEnum, port int32, targets ...string) (string, error) {
		out, err := v2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: aws.String(name), TargetType: typ, Protocol: proto, Port: aws.Int32(port), VpcId: aws.String(vpc), Tags: tags(name),
		})
		if err != nil {
			return "", fmt.Errorf("create target group %s: %w", name, err)
		}
		arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
		errs = append(errs, s.Add(arn, "tg", name))
		var ds []elbv2types.TargetDescription
		for _, t := range targets {
			ds = append(ds, elbv2types.TargetDescription{Id: aws.String(t), Port: aws.Int32(port)})
		}
		if _, err := v2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: ds}); err != nil {
			return "", fmt.Errorf("register targets of %s: %w", name, err)
		}
		return arn, nil
	}
	listen := func(name, lbARN, tgARN string, proto elbv2types.ProtocolEnum, port int32) error {
		out, err := v2.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: aws.String(lbARN), Protocol: proto, Port: aws.Int32(port),
			DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}},
		})
		if err != nil {
			return fmt.Errorf("create listener of %s: %w", name, err)
		}
		errs = append(errs, s.Add(aws.ToString(out.Listeners[0].ListenerArn), "listener", name))
		return nil
	}
	alb, err := lb("web-alb", elbv2types.LoadBalancerTypeEnumApplication, []string{public, private}, []string{webSG})
	if err != nil {
		return err
	}
	webTG, err := tg("web-tg", elbv2types.TargetTypeEnumInstance, elbv2types.ProtocolEnumHttp, 80, web1, app1)
	if err != nil {
		return err
	}
	if err := listen("web-alb", alb, webTG, elbv2types.ProtocolEnumHttp, 80); err != nil {
		return err
	}
	nlb, err := lb("app-nlb", elbv2types.LoadBalancerTypeEnumNetwork, []string{private}, nil)
	if err != nil {
		return err
	}
	appTG, err := tg("app-ip-tg", elbv2types.TargetTypeEnumIp, elbv2types.ProtocolEnumTcp, 8080, app1IP)
	if err != nil {
		return err
	}
	if err := listen("app-nlb", nlb, appTG, elbv2types.ProtocolEnumTcp, 8080); err != nil {
		return err
	}

	as := autoscaling.NewFromConfig(s.Config)
	lt, err := ec2.NewFromConfig(s.Config).CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("app-lt"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(DefaultImage), InstanceType: types.InstanceType(DefaultInstanceType)},
	})
	if err != nil {
		return fmt.Errorf("create launch template: %w", err)
	}
	errs = append(errs, s.Add(aws.ToString(lt.LaunchTemplate.LaunchTemplateId), "lt", "app-lt"))
	if _, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("app-asg"), MinSize: aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(0),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId},
		VPCZoneIdentifier: aws.String(private), TargetGroupARNs: []string{webTG}, LoadBalancerNames: []string{"web-classic"},
		Tags: []astypes.Tag{{Key: aws.String("team"), Value: aws.String("app"), PropagateAtLaunch: aws.Bool(true)}},
	}); err != nil {
		return fmt.Errorf("create auto scaling group: %w", err)
	}
	if _, err := as.AttachInstances(ctx, &autoscaling.AttachInstancesInput{
		AutoScalingGroupName: aws.String("app-asg"), InstanceIds: []string{app1},
	}); err != nil {
		return fmt.Errorf("attach app-1 to its auto scaling group: %w", err)
	}
	groups, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"app-asg"}})
	if err != nil || len(groups.AutoScalingGroups) != 1 {
		return fmt.Errorf("describe auto scaling group app-asg: %w", err)
	}
	errs = append(errs, s.Add(aws.ToString(groups.AutoScalingGroups[0].AutoScalingGroupARN), "asg", "app-asg"))
	return errors.Join(errs...)
}

// needAll returns the generated values of placeholders, in order.
func (s *Seed) needAll(placeholders ...string) ([]string, error) {
	out := make([]string, len(placeholders))
	for i, p := range placeholders {
		id, err := s.Need(p)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

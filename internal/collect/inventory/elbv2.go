package inventory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/skymap/skymap/internal/model"
)

// Elastic Load Balancing v2 component types.
const (
	typeApplicationLB = "aws.elb-v2.application-load-balancer"
	typeNetworkLB     = "aws.elb-v2.network-load-balancer"
	typeGatewayLB     = "aws.elb-v2.gateway-load-balancer"
	typeTargetGroup   = "aws.elb-v2.target-group"
)

// The console links search by name (unique per account and region): an
// ARN deep link would have its slashes escaped.
var elbv2Types = map[string]typeInfo{
	typeApplicationLB: {model.LayerNetworking, "/ec2/home?region={region}#LoadBalancers:search={id}", "EC2", ""},
	typeNetworkLB:     {model.LayerNetworking, "/ec2/home?region={region}#LoadBalancers:search={id}", "EC2", ""},
	typeGatewayLB:     {model.LayerNetworking, "/ec2/home?region={region}#LoadBalancers:search={id}", "EC2", ""},
	typeTargetGroup:   {model.LayerNetworking, "/ec2/home?region={region}#TargetGroups:search={id}", "EC2", ""},
}

var elbv2Listings = []listing{
	{"elbv2", "load_balancers", []string{typeApplicationLB, typeNetworkLB, typeGatewayLB}, regional, collectLoadBalancersV2, []string{
		"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners",
		"elasticloadbalancing:DescribeTags", "ec2:DescribeNetworkInterfaces"}},
	{"elbv2", "target_groups", []string{typeTargetGroup}, regional, collectTargetGroups, []string{
		"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
		"elasticloadbalancing:DescribeTags"}},
}

// lbTypes maps a load balancer's Type to its component type.
var lbTypes = map[elbv2types.LoadBalancerTypeEnum]string{
	elbv2types.LoadBalancerTypeEnumApplication: typeApplicationLB,
	elbv2types.LoadBalancerTypeEnumNetwork:     typeNetworkLB,
	elbv2types.LoadBalancerTypeEnumGateway:     typeGatewayLB,
}

// elbv2Tags reads the tags of load balancers or target groups by ARN.
func elbv2Tags(ctx context.Context, client *elbv2.Client, arns []string) (map[string]map[string]string, map[string]bool, error) {
	return elbTags(ctx, arns, func(ctx context.Context, batch []string) (map[string]map[string]string, error) {
		out, err := client.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: batch})
		if err != nil {
			return nil, err
		}
		m := map[string]map[string]string{}
		for _, d := range out.TagDescriptions {
			tm := map[string]string{}
			for _, tag := range d.Tags {
				tm[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			m[aws.ToString(d.ResourceArn)] = tm
		}
		return m, nil
	})
}

func collectLoadBalancersV2(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := elbv2.NewFromConfig(t.Config)
	var lbs []elbv2types.LoadBalancer
	p := elbv2.NewDescribeLoadBalancersPaginator(client, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(elbPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, lb := range page.LoadBalancers {
			switch {
			case aws.ToString(lb.LoadBalancerArn) == "":
				res.malformed("elasticloadbalancing:DescribeLoadBalancers", aws.ToString(lb.LoadBalancerName), "no LoadBalancerArn")
			case lbTypes[lb.Type] == "":
				res.malformed("elasticloadbalancing:DescribeLoadBalancers", aws.ToString(lb.LoadBalancerArn), "unknown load balancer type %q", lb.Type)
			default:
				lbs = append(lbs, lb)
			}
		}
	}
	arns := make([]string, len(lbs))
	for i, lb := range lbs {
		arns[i] = aws.ToString(lb.LoadBalancerArn)
	}
	tags, missing, tagErr := elbv2Tags(ctx, client, arns)
	ips := lbInterfaceIPs(ctx, t)
	err := describeEach(ctx, &res, lbs,
		func(lb elbv2types.LoadBalancer) string { return "load balancer " + aws.ToString(lb.LoadBalancerArn) },
		func(ctx context.Context, lb elbv2types.LoadBalancer, out *Result) error {
			arn := aws.ToString(lb.LoadBalancerArn)
			if missing[arn] {
				return nil
			}
			listeners, err := lbListeners(ctx, client, arn)
			keep, failure := detailOutcome(err)
			if !keep {
				return failure
			}
			_, suffix, _ := strings.Cut(arn, ":loadbalancer/")
			loadBalancerV2(t, lb, tags[arn], listeners, ips[suffix], out)
			return failure
		})
	return res, errors.Join(tagErr, err)
}

// lbListeners reads the listeners of a load balancer; none when that fails.
func lbListeners(ctx context.Context, client *elbv2.Client, arn string) ([]elbv2types.Listener, error) {
	var ls []elbv2types.Listener
	p := elbv2.NewDescribeListenersPaginator(client, &elbv2.DescribeListenersInput{
		LoadBalancerArn: aws.String(arn), PageSize: aws.Int32(elbPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listeners: %w", err)
		}
		ls = append(ls, page.Listeners...)
	}
	return ls, nil
}

// loadBalancerV2 adds a load balancer and its relations to res: its VPC, its
// security groups and the target groups its listeners forward to.
func loadBalancerV2(t Target, lb elbv2types.LoadBalancer, tags map[string]string, listeners []elbv2types.Listener, ips []string, res *Result) {
	arn := aws.ToString(lb.LoadBalancerArn)
	var idents []string
	if dns := aws.ToString(lb.DNSName); dns != "" {
		idents = append(idents, endpointURN(dns))
	}
	idents = append(idents, ips...)
	data := toData(lb)
	if listeners != nil {
		ls := make([]any, len(listeners))
		for i, l := range listeners {
			ls[i] = toData(withoutSecrets(l))
		}
		data["Listeners"] = ls
	}
	res.Components = append(res.Components, t.component(resource{
		typ: lbTypes[lb.Type], id: arn, short: aws.ToString(lb.LoadBalancerName),
		tags: tags, idents: idents, data: data,
	}))
	if vpc := aws.ToString(lb.VpcId); vpc != "" {
		res.Relations = append(res.Relations, rel(arn, vpc, model.UsesService))
	}
	for _, sg := range lb.SecurityGroups {
		if sg != "" {
			res.Relations = append(res.Relations, rel(arn, sg, model.UsesService))
		}
	}
	seen := map[string]bool{}
	for _, l := range listeners {
		for _, tg := range forwardTargets(l.DefaultActions) {
			if !seen[tg] {
				seen[tg] = true
				res.Relations = append(res.Relations, rel(arn, tg, model.UsesService))
			}
		}
	}
}

// forwardTargets returns the target groups that actions forward to.
func forwardTargets(actions []elbv2types.Action) []string {
	var out []string
	for _, a := range actions {
		if a.Type != elbv2types.ActionTypeEnumForward {
			continue
		}
		if tg := aws.ToString(a.TargetGroupArn); tg != "" {
			out = append(out, tg)
		}
		if a.ForwardConfig != nil {
			for _, tg := range a.ForwardConfig.TargetGroups {
				if arn := aws.ToString(tg.TargetGroupArn); arn != "" {
					out = append(out, arn)
				}
			}
		}
	}
	return out
}

// withoutSecrets returns a listener without the client secrets of its OIDC
// authentication actions.
func withoutSecrets(l elbv2types.Listener) elbv2types.Listener {
	actions := make([]elbv2types.Action, len(l.DefaultActions))
	for i, a := range l.DefaultActions {
		if a.AuthenticateOidcConfig != nil {
			c := *a.AuthenticateOidcConfig
			c.ClientSecret = nil
			a.AuthenticateOidcConfig = &c
		}
		actions[i] = a
	}
	l.DefaultActions = actions
	return l
}

func collectTargetGroups(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := elbv2.NewFromConfig(t.Config)
	var tgs []elbv2types.TargetGroup
	p := elbv2.NewDescribeTargetGroupsPaginator(client, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(elbPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, tg := range page.TargetGroups {
			if aws.ToString(tg.TargetGroupArn) == "" {
				res.malformed("elasticloadbalancing:DescribeTargetGroups", aws.ToString(tg.TargetGroupName), "no TargetGroupArn")
				continue
			}
			tgs = append(tgs, tg)
		}
	}
	arns := make([]string, len(tgs))
	for i, tg := range tgs {
		arns[i] = aws.ToString(tg.TargetGroupArn)
	}
	tags, missing, tagErr := elbv2Tags(ctx, client, arns)
	err := describeEach(ctx, &res, tgs,
		func(tg elbv2types.TargetGroup) string { return "target group " + aws.ToString(tg.TargetGroupArn) },
		func(ctx context.Context, tg elbv2types.TargetGroup, out *Result) error {
			arn := aws.ToString(tg.TargetGroupArn)
			if missing[arn] {
				return nil
			}
			targets, err := registeredTargets(ctx, client, arn)
			keep, failure := detailOutcome(err)
			if !keep {
				return failure
			}
			targetGroup(t, tg, tags[arn], targets, out)
			return failure
		})
	return res, errors.Join(tagErr, err)
}

// registeredTargets reads the targets of a target group; none when that
// fails. DescribeTargetHealth does not paginate: it answers every target.
func registeredTargets(ctx context.Context, client *elbv2.Client, arn string) ([]elbv2types.TargetHealthDescription, error) {
	out, err := client.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	return out.TargetHealthDescriptions, nil
}

// targetGroup adds a target group and its relations to res: its VPC, the
// load balancers that forward to it, and each registered target.
func targetGroup(t Target, tg elbv2types.TargetGroup, tags map[string]string, targets []elbv2types.TargetHealthDescription, res *Result) {
	arn := aws.ToString(tg.TargetGroupArn)
	vpc := aws.ToString(tg.VpcId)
	data := toData(tg)
	if targets != nil {
		data["Targets"] = toData(struct {
			T []elbv2types.TargetHealthDescription
		}{targets})["T"]
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeTargetGroup, id: arn, short: aws.ToString(tg.TargetGroupName), tags: tags, data: data,
	}))
	if vpc != "" {
		res.Relations = append(res.Relations, rel(arn, vpc, model.UsesService))
	}
	for _, lb := range tg.LoadBalancerArns {
		if lb != "" {
			res.Relations = append(res.Relations, rel(lb, arn, model.UsesService))
		}
	}
	seen := map[string]bool{}
	for _, h := range targets {
		if h.Target == nil || aws.ToString(h.Target.Id) == "" {
			res.malformed("elasticloadbalancing:DescribeTargetHealth", arn, "registered target without an Id")
			continue
		}
		dst := targetRef(tg, h.Target)
		if dst == "" || seen[dst] {
			continue
		}
		seen[dst] = true
		r := rel(arn, dst, model.UsesService)
		if h.Target.Port != nil {
			r.Data["port"] = aws.ToInt32(h.Target.Port)
		}
		if h.TargetHealth != nil && h.TargetHealth.State != "" {
			r.Data["health"] = string(h.TargetHealth.State)
		}
		res.Relations = append(res.Relations, r)
	}
}

// targetRef is the identifier of a registered target: an instance id, a
// Lambda function or load balancer ARN, or the urn:vpcip of an IP target in
// the group's VPC. IP targets outside the VPC (availability zone "all":
// peered VPCs, on premises) name nothing skymap can place.
func targetRef(tg elbv2types.TargetGroup, d *elbv2types.TargetDescription) string {
	if d == nil {
		return ""
	}
	id := aws.ToString(d.Id)
	switch tg.TargetType {
	case elbv2types.TargetTypeEnumIp:
		if vpc := aws.ToString(tg.VpcId); vpc != "" && id != "" && aws.ToString(d.AvailabilityZone) != "all" {
			return vpcIP(vpc, id)
		}
		return ""
	}
	return id
}

package inventory

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

const typeAutoScalingGroup = "aws.autoscaling.group"

var autoscalingTypes = map[string]typeInfo{
	typeAutoScalingGroup: {model.LayerMachines, "/ec2/home?region={region}#AutoScalingGroupDetails:id={id};view=details", "EC2", ""},
}

var autoscalingListings = []listing{
	{"autoscaling", "groups", []string{typeAutoScalingGroup}, regional, collectAutoScalingGroups,
		[]string{"autoscaling:DescribeAutoScalingGroups"}},
}

func collectAutoScalingGroups(ctx context.Context, t Target) (Result, error) {
	return describeAutoScalingGroups(ctx, t, nil)
}

// describeAutoScalingGroups describes every group, or those refs name by
// name or ARN, 50 names a call.
func describeAutoScalingGroups(ctx context.Context, t Target, refs []string) (Result, error) {
	var res Result
	client := autoscaling.NewFromConfig(t.Config)
	batches := [][]string{nil}
	if refs != nil {
		var names []string
		for _, ref := range refs {
			if a, ok := partition.ParseARN(ref); ok {
				_, ref, _ = strings.Cut(a.Resource, "autoScalingGroupName/")
			}
			if ref != "" && !slices.Contains(names, ref) {
				names = append(names, ref)
			}
		}
		batches = slices.Collect(slices.Chunk(names, 50))
	}
	for _, names := range batches {
		p := autoscaling.NewDescribeAutoScalingGroupsPaginator(client,
			&autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: names, MaxRecords: aws.Int32(100)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return res, err
			}
			for _, g := range page.AutoScalingGroups {
				autoScalingGroup(t, g, &res)
			}
		}
	}
	return res, nil
}

// autoScalingGroup adds a group and its relations to res: its instances,
// and the target groups and classic load balancers it registers them with.
func autoScalingGroup(t Target, g astypes.AutoScalingGroup, res *Result) {
	arn, name := aws.ToString(g.AutoScalingGroupARN), aws.ToString(g.AutoScalingGroupName)
	if arn == "" || name == "" {
		res.malformed("autoscaling:DescribeAutoScalingGroups", cmp.Or(name, arn), "no AutoScalingGroupARN or name")
		return
	}
	tags := map[string]string{}
	for _, tag := range g.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeAutoScalingGroup, id: arn, short: name, name: name, tags: tags, idents: []string{name}, data: g,
	}))
	seen := map[string]bool{}
	add := func(dst string) {
		if dst != "" && !seen[dst] {
			seen[dst] = true
			res.Relations = append(res.Relations, rel(arn, dst, model.UsesService))
		}
	}
	for _, in := range g.Instances {
		add(aws.ToString(in.InstanceId))
	}
	for _, tg := range g.TargetGroupARNs {
		add(tg)
	}
	for _, lb := range g.LoadBalancerNames {
		if lb != "" {
			add(t.loadBalancerARN(lb))
		}
	}
	// Traffic sources are the newer form of the two lists above.
	for _, s := range g.TrafficSources {
		id := aws.ToString(s.Identifier)
		switch aws.ToString(s.Type) {
		case "elbv2":
			add(id)
		case "elb":
			if id != "" {
				add(t.loadBalancerARN(id))
			}
		}
	}
}

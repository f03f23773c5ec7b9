package inventory

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/model"
)

// TestDescribersMatchListings re-describes named resources of every type
// with a describer, against moto, and checks that each gives the same
// components and relations as the type's full listing does for them, and
// nothing for names that do not exist.
func TestDescribersMatchListings(t *testing.T) {
	m := awstest.StartT(t)
	tg := motoTarget(t, m, m.URL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	e := ec2.NewFromConfig(tg.Config)
	var vpcs, subnets, groups, instances []string
	for i := range 3 {
		vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10." + string(rune('1'+i)) + ".0.0/16")})
		if err != nil {
			t.Fatal(err)
		}
		vid := aws.ToString(vpc.Vpc.VpcId)
		sub, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10." + string(rune('1'+i)) + ".1.0/24")})
		if err != nil {
			t.Fatal(err)
		}
		sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId, GroupName: aws.String("g" + vid),
			Description: aws.String("test")})
		if err != nil {
			t.Fatal(err)
		}
		run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: sub.Subnet.SubnetId, SecurityGroupIds: []string{aws.ToString(sg.GroupId)}})
		if err != nil {
			t.Fatal(err)
		}
		vpcs, subnets = append(vpcs, vid), append(subnets, aws.ToString(sub.Subnet.SubnetId))
		groups, instances = append(groups, aws.ToString(sg.GroupId)), append(instances, aws.ToString(run.Instances[0].InstanceId))
	}
	var enis []string
	for _, id := range instances {
		out, err := e.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
			{Name: aws.String("attachment.instance-id"), Values: []string{id}}}})
		if err != nil || len(out.NetworkInterfaces) == 0 {
			t.Fatalf("interfaces of %s: %v", id, err)
		}
		enis = append(enis, aws.ToString(out.NetworkInterfaces[0].NetworkInterfaceId))
	}
	q := sqs.NewFromConfig(tg.Config)
	dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dead")})
	if err != nil {
		t.Fatal(err)
	}
	dlqARN := "arn:aws:sqs:eu-west-1:" + awstest.DefaultAccount + ":dead"
	_, err = q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("work"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"3"}`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	var volumes, tables []string
	for i := range 2 {
		v, err := e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("eu-west-1a"), Size: aws.Int32(int32(8 + i))})
		if err != nil {
			t.Fatal(err)
		}
		volumes = append(volumes, aws.ToString(v.VolumeId))
		rt, err := e.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpcs[i])})
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, aws.ToString(rt.RouteTable.RouteTableId))
		if _, err := e.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId,
			SubnetId: aws.String(subnets[i])}); err != nil {
			t.Fatal(err)
		}
	}
	as := autoscaling.NewFromConfig(tg.Config)
	for _, name := range []string{"web", "batch"} {
		if _, err := as.CreateLaunchConfiguration(ctx, &autoscaling.CreateLaunchConfigurationInput{LaunchConfigurationName: aws.String(name),
			ImageId: aws.String("ami-12c6146b"), InstanceType: aws.String("t3.micro")}); err != nil {
			t.Fatal(err)
		}
		if _, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name),
			LaunchConfigurationName: aws.String(name), MinSize: aws.Int32(1), MaxSize: aws.Int32(2),
			VPCZoneIdentifier: aws.String(subnets[0])}); err != nil {
			t.Fatal(err)
		}
	}
	groupsOut, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if err != nil || len(groupsOut.AutoScalingGroups) != 1 {
		t.Fatalf("describe web: %v", err)
	}
	webARN := aws.ToString(groupsOut.AutoScalingGroups[0].AutoScalingGroupARN)
	sn := sns.NewFromConfig(tg.Config)
	var topics []string
	for _, name := range []string{"alerts", "audit"} {
		tp, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		topics = append(topics, aws.ToString(tp.TopicArn))
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topics[0]), Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:eu-west-1:" + awstest.DefaultAccount + ":work")}); err != nil {
		t.Fatal(err)
	}
	s3c := awsconn.NewS3(tg.Config)
	for _, b := range []string{"logs", "logs-archive", "logs-old"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
			t.Fatal(err)
		}
	}
	tg.Regions = []string{"eu-west-1"}
	tg.ConfigFor = func(string) aws.Config { return tg.Config }
	queueARN := func(name string) string { return "arn:aws:sqs:eu-west-1:" + awstest.DefaultAccount + ":" + name }

	cases := []struct {
		typ  string
		refs []string // what events name
		want []string // component ids that must come back
	}{
		{typeVPC, []string{vpcs[0], "vpc-00000000"}, []string{vpcs[0]}},
		{typeSubnet, []string{subnets[1], "arn:aws:ec2:eu-west-1:" + awstest.DefaultAccount + ":subnet/" + subnets[2]}, subnets[1:]},
		{typeSecurityGroup, []string{groups[0], groups[2], "sg-00000000"}, []string{groups[0], groups[2]}},
		{typeInstance, []string{instances[1], "i-00000000000000000"}, []string{instances[1]}},
		{typeNetworkInterface, []string{enis[0], "eni-00000000000000000"}, enis[:1]},
		{typeBucket, []string{"arn:aws:s3:::logs", "logs-archive", "nope"}, []string{"arn:aws:s3:::logs", "arn:aws:s3:::logs-archive"}},
		{typeVolume, []string{volumes[1], "vol-00000000000000000"}, volumes[1:]},
		{typeRouteTable, []string{tables[0], "rtb-00000000000000000"}, tables[:1]},
		{typeAutoScalingGroup, []string{webARN, "batch", "nope"}, nil}, // ids filled below
		{typeTopic, []string{topics[0], "arn:aws:sns:eu-west-1:" + awstest.DefaultAccount + ":nope"}, topics[:1]},
		// By ARN, by URL, by name, and a queue that does not exist.
		{typeQueue, []string{queueARN("work"), aws.ToString(dlq.QueueUrl), "missing", queueARN("nope")},
			[]string{queueARN("dead"), queueARN("work")}},
	}
	all, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range cases {
		if cases[i].typ == typeAutoScalingGroup {
			for _, g := range all.AutoScalingGroups {
				cases[i].want = append(cases[i].want, aws.ToString(g.AutoScalingGroupARN))
			}
		}
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			l := listings[slices.IndexFunc(listings, func(l listing) bool { return l.types[0] == c.typ })]
			full, err := l.run(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := describers[c.typ](ctx, tg, c.refs)
			if err != nil {
				t.Fatal(err)
			}
			keep := func(res Result) (ids []string, comps []model.Component, rels []model.Relation) {
				for _, co := range res.Components {
					if slices.Contains(c.want, co.ID) {
						ids = append(ids, co.ID)
						comps = append(comps, co)
					}
				}
				for _, r := range res.Relations {
					if slices.Contains(c.want, r.Source) || slices.Contains(c.want, r.Target) {
						rels = append(rels, r)
					}
				}
				slices.Sort(ids)
				slices.SortFunc(comps, func(a, b model.Component) int { return strings.Compare(a.ID, b.ID) })
				slices.SortFunc(rels, func(a, b model.Relation) int {
					return strings.Compare(a.Source+a.Target, b.Source+b.Target)
				})
				return ids, comps, rels
			}
			wantIDs, wantComps, wantRels := keep(full)
			if d := cmp.Diff(slices.Sorted(slices.Values(c.want)), wantIDs); d != "" {
				t.Fatalf("the full listing does not hold what the case wants (-want +got):\n%s", d)
			}
			if len(got.Components) != len(c.want) {
				t.Errorf("describer gave %d components, want %d: %v", len(got.Components), len(c.want), got.Components)
			}
			_, gotComps, gotRels := keep(got)
			if d := cmp.Diff(wantComps, gotComps); d != "" {
				t.Errorf("components (-listing +describer):\n%s", d)
			}
			if d := cmp.Diff(wantRels, gotRels); d != "" {
				t.Errorf("relations (-listing +describer):\n%s", d)
			}
			if len(got.Malformed) != 0 {
				t.Errorf("malformed: %v", got.Malformed)
			}
		})
	}

	// Many names at once are asked in chunks EC2 accepts.
	many := make([]string, 450)
	for i := range many {
		many[i] = "i-" + strings.Repeat("0", 16) + string(rune('a'+i%26))
	}
	many = append(many, instances[0])
	got, err := describeInstances(ctx, tg, many)
	if err != nil || len(got.Components) != 1 || got.Components[0].ID != instances[0] {
		t.Errorf("451 names: err %v, components %v", err, got.Components)
	}
}

// TestDescribersAreOfSingleTypeListings checks what Refresh relies on: a
// type with a describer is the only type of its listing.
func TestDescribersAreOfSingleTypeListings(t *testing.T) {
	for typ := range describers {
		i := slices.IndexFunc(listings, func(l listing) bool { return slices.Contains(l.types, typ) })
		if i < 0 || len(listings[i].types) != 1 {
			t.Errorf("%s has a describer but its listing makes %v", typ, listings[max(i, 0)].types)
		}
	}
}

package inventory

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// recorded decodes a response recorded from real AWS (boto3's JSON, whose
// member names are the SDK's field names) into out.
func recordedInto(t *testing.T, name string, out any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(recordedDir, name))
	if err != nil {
		t.Fatal(err)
	}
	// boto3 writes some timestamps with a space where RFC 3339 has a T.
	b = botoTime.ReplaceAll(b, []byte(`"${1}T${2}"`))
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

var botoTime = regexp.MustCompile(`"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d[^"]*)"`)

func netTarget() Target {
	p, _ := partition.ByID("aws")
	return Target{Account: "731070500579", Partition: p, Region: "eu-west-1"}
}

type edge struct{ Src, Dst string }

func edges(rels []model.Relation) []edge {
	out := make([]edge, len(rels))
	for i, r := range rels {
		out[i] = edge{r.Source, r.Target}
	}
	return out
}

func TestInterfaceOwner(t *testing.T) {
	tg := netTarget()
	att := func(id, owner string) *ec2types.NetworkInterfaceAttachment {
		return &ec2types.NetworkInterfaceAttachment{InstanceId: aws.String(id), InstanceOwnerId: aws.String(owner)}
	}
	tests := []struct {
		name string
		eni  ec2types.NetworkInterface
		want eniOwner
	}{
		{"NAT gateway", ec2types.NetworkInterface{InterfaceType: "nat_gateway", Description: aws.String("Interface for NAT Gateway nat-1")},
			eniOwner{ownerNATGateway, "nat-1"}},
		{"interface endpoint", ec2types.NetworkInterface{InterfaceType: "vpc_endpoint", Description: aws.String("VPC Endpoint Interface vpce-1")},
			eniOwner{ownerVPCEndpoint, "vpce-1"}},
		{"Lambda by type", ec2types.NetworkInterface{InterfaceType: "lambda"}, eniOwner{Kind: ownerLambda}},
		{"Lambda by description", ec2types.NetworkInterface{Description: aws.String("AWS Lambda VPC ENI-orders-1234")}, eniOwner{Kind: ownerLambda}},
		{"classic load balancer", ec2types.NetworkInterface{Description: aws.String("ELB web"), Attachment: att("", "amazon-elb")},
			eniOwner{ownerLoadBalancer, "arn:aws:elasticloadbalancing:eu-west-1:731070500579:loadbalancer/web"}},
		{"application load balancer", ec2types.NetworkInterface{Description: aws.String("ELB app/web/0123456789abcdef")},
			eniOwner{ownerLoadBalancer, "arn:aws:elasticloadbalancing:eu-west-1:731070500579:loadbalancer/app/web/0123456789abcdef"}},
		{"network load balancer", ec2types.NetworkInterface{InterfaceType: "network_load_balancer", Description: aws.String("ELB net/api/0123")},
			eniOwner{ownerLoadBalancer, "arn:aws:elasticloadbalancing:eu-west-1:731070500579:loadbalancer/net/api/0123"}},
		{"ECS task", ec2types.NetworkInterface{Description: aws.String("arn:aws:ecs:eu-west-1:731070500579:attachment/abc")},
			eniOwner{ownerECSTask, "arn:aws:ecs:eu-west-1:731070500579:attachment/abc"}},
		{"instance", ec2types.NetworkInterface{OwnerId: aws.String("731070500579"), Attachment: att("i-1", "731070500579")},
			eniOwner{ownerInstance, "i-1"}},
		{"service host", ec2types.NetworkInterface{OwnerId: aws.String("731070500579"), Attachment: att("i-2", "amazon-aws")},
			eniOwner{ownerService, "amazon-aws"}},
		{"RDS (the DB instance is matched later)", ec2types.NetworkInterface{Description: aws.String("RDSNetworkInterface"),
			RequesterManaged: aws.Bool(true), RequesterId: aws.String("amazon-rds"), Attachment: att("", "amazon-rds")},
			eniOwner{Kind: ownerRDS}},
		{"RDS in an emulator, by description", ec2types.NetworkInterface{Description: aws.String("RDSNetworkInterface"),
			Status: ec2types.NetworkInterfaceStatusAvailable}, eniOwner{Kind: ownerRDS}},
		{"unattached", ec2types.NetworkInterface{Status: ec2types.NetworkInterfaceStatusAvailable}, eniOwner{Kind: ownerUnattached}},
		{"attached to nothing known", ec2types.NetworkInterface{Status: ec2types.NetworkInterfaceStatusInUse,
			Attachment: &ec2types.NetworkInterfaceAttachment{}}, eniOwner{Kind: ownerUnknown}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, tg.interfaceOwner(tt.eni)); d != "" {
			t.Errorf("%s: owner (-want +got):\n%s", tt.name, d)
		}
	}
}

// TestNetworkInterfacesRecorded runs the interface owners over a recorded
// DescribeNetworkInterfaces response: an RDS interface (which carries its
// addresses itself until it is matched to its DB instance) and an
// instance's (whose instance carries them).
func TestNetworkInterfacesRecorded(t *testing.T) {
	var out ec2.DescribeNetworkInterfacesOutput
	recordedInto(t, "flowlogs/describe_network_interfaces_5bfe96b.json", &out)
	tg := netTarget()
	got := map[string]eniOwner{}
	carries := map[string]bool{}
	for _, n := range out.NetworkInterfaces {
		o := tg.interfaceOwner(n)
		got[aws.ToString(n.NetworkInterfaceId)] = o
		carries[aws.ToString(n.NetworkInterfaceId)] = !o.carriesIPs()
	}
	want := map[string]eniOwner{
		"eni-04be3f7132dd24e01": {Kind: ownerRDS},
		"eni-0827481162f048cfd": {ownerInstance, "i-0e5ef5c511849a4be"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("owners (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]bool{"eni-04be3f7132dd24e01": true, "eni-0827481162f048cfd": false}, carries); d != "" {
		t.Errorf("interfaces carrying their addresses (-want +got):\n%s", d)
	}
	// A DB instance in the interface's subnet behind its security group
	// owns it.
	db := rdsDB("notifications", []string{"subnet-0a5e8e1c7e8a1d0b2", "subnet-01e95a603b578c8f4"}, "sg-0dd84dd38dee32836")
	owners := newRDSOwners(tg, []rdstypes.DBInstance{db})
	for _, n := range out.NetworkInterfaces {
		if id := aws.ToString(n.NetworkInterfaceId); isRDSInterface(n) != (id == "eni-04be3f7132dd24e01") {
			t.Errorf("%s: isRDSInterface %v", id, isRDSInterface(n))
		} else if o := owners.owner(n); isRDSInterface(n) && o != dbARN("notifications") {
			t.Errorf("%s: DB instance %q, want %s", id, o, dbARN("notifications"))
		}
	}
}

func TestRouteTableRelations(t *testing.T) {
	rt := ec2types.RouteTable{
		RouteTableId: aws.String("rtb-1"),
		Associations: []ec2types.RouteTableAssociation{
			{Main: aws.Bool(true)},
			{SubnetId: aws.String("subnet-1"), AssociationState: &ec2types.RouteTableAssociationState{State: "associated"}},
			{SubnetId: aws.String("subnet-gone"), AssociationState: &ec2types.RouteTableAssociationState{State: "disassociated"}},
		},
		Routes: []ec2types.Route{
			{GatewayId: aws.String("local")},
			{GatewayId: aws.String("igw-1")},
			{GatewayId: aws.String("vpce-1"), DestinationPrefixListId: aws.String("pl-1")},
			{NatGatewayId: aws.String("nat-1")},
			{NatGatewayId: aws.String("nat-1")},
			{TransitGatewayId: aws.String("tgw-1")},
			{GatewayId: aws.String("vgw-1")},
			{NetworkInterfaceId: aws.String("eni-1"), InstanceId: aws.String("i-1")},
			{NatGatewayId: aws.String("nat-deleted"), State: ec2types.RouteStateBlackhole},
			{VpcPeeringConnectionId: aws.String("pcx-1")},
		},
	}
	want := []edge{{"rtb-1", "subnet-1"}, {"rtb-1", "igw-1"}, {"rtb-1", "vpce-1"}, {"rtb-1", "nat-1"}, {"rtb-1", "tgw-1"},
		{"rtb-1", "vgw-1"}, {"rtb-1", "eni-1"}, {"rtb-1", "i-1"}}
	if d := cmp.Diff(want, edges(routeTableRelations(rt))); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
}

func TestClassicLBRecorded(t *testing.T) {
	var out elb.DescribeLoadBalancersOutput
	recordedInto(t, "elb/describe_load_balancers_ad58c8d.json", &out)
	tg := netTarget()
	var res Result
	classicLB(tg, out.LoadBalancerDescriptions[0], map[string]string{"team": "web"}, []string{"urn:vpcip:vpc-6b25d10e/172.31.1.5"}, &res)
	arn := "arn:aws:elasticloadbalancing:eu-west-1:731070500579:loadbalancer/classic-loadbalancer-1"
	c := res.Components[0]
	if c.ID != arn || c.Type != typeClassicLB || c.Name != "classic-loadbalancer-1" {
		t.Errorf("component %s %s %s", c.ID, c.Type, c.Name)
	}
	wantIdents := []string{"urn:endpoint:/classic-loadbalancer-1-1599857345.eu-west-1.elb.amazonaws.com", "urn:vpcip:vpc-6b25d10e/172.31.1.5"}
	if d := cmp.Diff(wantIdents, c.Identifiers); d != "" {
		t.Errorf("identifiers (-want +got):\n%s", d)
	}
	want := []edge{{arn, "vpc-6b25d10e"}, {arn, "i-09388d5bfc0ab9e78"}, {arn, "i-05b20853cc72c23c4"}, {arn, "sg-193aec7c"}}
	if d := cmp.Diff(want, edges(res.Relations)); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
}

func TestLoadBalancerV2Recorded(t *testing.T) {
	var lbs elbv2.DescribeLoadBalancersOutput
	var ls elbv2.DescribeListenersOutput
	recordedInto(t, "elbv2/describe_load_balancers_ad58c8d.json", &lbs)
	recordedInto(t, "elbv2/describe_listeners_5a99150.json", &ls)
	tg := netTarget()
	lb := lbs.LoadBalancers[0]
	arn := aws.ToString(lb.LoadBalancerArn)
	// One listener forwards by its target group, another by a weighted
	// forward config, a third authenticates with a client secret.
	listeners := append(ls.Listeners,
		elbv2types.Listener{DefaultActions: []elbv2types.Action{{Type: "forward", ForwardConfig: &elbv2types.ForwardActionConfig{
			TargetGroups: []elbv2types.TargetGroupTuple{{TargetGroupArn: aws.String("arn:tg/a")}, {TargetGroupArn: aws.String("arn:tg/b")}}}}}},
		elbv2types.Listener{DefaultActions: []elbv2types.Action{
			{Type: "authenticate-oidc", AuthenticateOidcConfig: &elbv2types.AuthenticateOidcActionConfig{ClientId: aws.String("id"), ClientSecret: aws.String("s3cret")}},
			{Type: "forward", TargetGroupArn: aws.String("arn:tg/a")}}},
	)
	var res Result
	loadBalancerV2(tg, lb, nil, listeners, nil, &res)
	c := res.Components[0]
	if c.ID != arn || c.Type != typeApplicationLB {
		t.Errorf("component %s %s", c.ID, c.Type)
	}
	if b, _ := json.Marshal(c.Data); strings.Contains(string(b), "s3cret") {
		t.Errorf("listener data keeps the OIDC client secret: %s", b)
	}
	if got := len(c.Data["Listeners"].([]any)); got != 3 {
		t.Errorf("listeners in data: %d, want 3", got)
	}
	want := []edge{{arn, "vpc-6b25d10e"}, {arn, "sg-193aec7c"},
		{arn, "arn:aws:elasticloadbalancing:eu-west-1:731070500579:targetgroup/mysecondloadbalancer/1234567890abcde0"},
		{arn, "arn:tg/a"}, {arn, "arn:tg/b"}}
	if d := cmp.Diff(want, edges(res.Relations)); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
	if aws.ToString(listeners[2].DefaultActions[0].AuthenticateOidcConfig.ClientSecret) != "s3cret" {
		t.Error("withoutSecrets changed the listener it was given")
	}
}

func TestTargetGroupRecorded(t *testing.T) {
	var tgs elbv2.DescribeTargetGroupsOutput
	var health elbv2.DescribeTargetHealthOutput
	recordedInto(t, "elbv2/describe_target_groups_c9728d1.json", &tgs)
	recordedInto(t, "elbv2/describe_target_health_b45307c.json", &health)
	tg := netTarget()
	group := tgs.TargetGroups[0]
	arn := aws.ToString(group.TargetGroupArn)
	var res Result
	targetGroup(tg, group, nil, health.TargetHealthDescriptions, &res)
	want := []edge{{arn, "vpc-6b25d10e"},
		{"arn:aws:elasticloadbalancing:eu-west-1:731070500579:loadbalancer/app/myfirstloadbalancer/90dd512583d2d7e9", arn},
		{arn, "i-12345678901234567"}, {arn, "i-23456789012345678"}}
	if d := cmp.Diff(want, edges(res.Relations)); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
	if got := res.Relations[2].Data; got["health"] != "unhealthy" || got["port"] != int32(80) {
		t.Errorf("target relation data %v", got)
	}
}

func TestTargetRef(t *testing.T) {
	vpc := aws.String("vpc-1")
	tests := []struct {
		typ  elbv2types.TargetTypeEnum
		d    elbv2types.TargetDescription
		want string
	}{
		{"instance", elbv2types.TargetDescription{Id: aws.String("i-1")}, "i-1"},
		{"ip", elbv2types.TargetDescription{Id: aws.String("10.0.0.5"), AvailabilityZone: aws.String("eu-west-1a")}, "urn:vpcip:vpc-1/10.0.0.5"},
		{"ip", elbv2types.TargetDescription{Id: aws.String("192.168.0.5"), AvailabilityZone: aws.String("all")}, ""},
		{"lambda", elbv2types.TargetDescription{Id: aws.String("arn:aws:lambda:eu-west-1:1:function:f")}, "arn:aws:lambda:eu-west-1:1:function:f"},
		{"alb", elbv2types.TargetDescription{Id: aws.String("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/a/1")},
			"arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/a/1"},
	}
	for _, tt := range tests {
		if got := targetRef(elbv2types.TargetGroup{TargetType: tt.typ, VpcId: vpc}, &tt.d); got != tt.want {
			t.Errorf("targetRef(%s %s) = %q, want %q", tt.typ, aws.ToString(tt.d.Id), got, tt.want)
		}
	}
}

func TestAutoScalingGroupRecorded(t *testing.T) {
	var out autoscaling.DescribeAutoScalingGroupsOutput
	recordedInto(t, "autoscaling/describe_auto_scaling_groups_c476c11.json", &out)
	g := out.AutoScalingGroups[0]
	g.TargetGroupARNs = []string{"arn:tg/1"}
	var res Result
	autoScalingGroup(netTarget(), g, &res)
	arn := aws.ToString(g.AutoScalingGroupARN)
	c := res.Components[0]
	if c.ID != arn || !slices.Contains(c.Identifiers, aws.ToString(g.AutoScalingGroupName)) || len(c.Data["Tags"].(map[string]string)) != 6 {
		t.Errorf("component %s %v tags %v", c.ID, c.Identifiers, c.Data["Tags"])
	}
	want := []edge{{arn, "i-063c119ff97e71b82"}, {arn, "i-0928b13f776ba8e76"}, {arn, "i-0ed02eb3eab5399fb"}, {arn, "arn:tg/1"},
		{arn, "arn:aws:elasticloadbalancing:eu-west-1:731070500579:loadbalancer/awseb-e-g-AWSEBLoa-1WTFTHM4EDGUX"}}
	if d := cmp.Diff(want, edges(res.Relations)); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
}

// TestELBTags checks the batching of DescribeTags: batches of 20, a batch
// naming a deleted load balancer read again one by one, a denied batch
// left without tags, another failure returned.
func TestELBTags(t *testing.T) {
	notFound := &smithy.GenericAPIError{Code: "LoadBalancerNotFound"}
	tests := []struct {
		name     string
		keys     int
		gone     string
		fail     error
		wantGone map[string]bool
		wantTags int
		wantErr  bool
		calls    int
	}{
		{name: "three batches", keys: 45, wantGone: map[string]bool{}, wantTags: 45, calls: 3},
		{name: "one deleted", keys: 45, gone: "k21", wantGone: map[string]bool{"k21": true}, wantTags: 44, calls: 3 + 20},
		{name: "denied", keys: 5, fail: &smithy.GenericAPIError{Code: "AccessDenied"}, wantGone: map[string]bool{}, calls: 1},
		{name: "throttled", keys: 5, fail: &smithy.GenericAPIError{Code: "Throttling"}, wantGone: map[string]bool{}, wantErr: true, calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys []string
			for i := range tt.keys {
				keys = append(keys, "k"+strconv.Itoa(i))
			}
			var mu sync.Mutex
			calls := 0
			fetch := func(_ context.Context, batch []string) (map[string]map[string]string, error) {
				mu.Lock()
				calls++
				mu.Unlock()
				if len(batch) > elbTagBatch {
					t.Errorf("batch of %d", len(batch))
				}
				if tt.fail != nil {
					return nil, tt.fail
				}
				out := map[string]map[string]string{}
				for _, k := range batch {
					if k == tt.gone {
						return nil, notFound
					}
					out[k] = map[string]string{"k": k}
				}
				return out, nil
			}
			tags, gone, err := elbTags(context.Background(), keys, fetch)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v", err)
			}
			if d := cmp.Diff(tt.wantGone, gone); d != "" {
				t.Errorf("gone (-want +got):\n%s", d)
			}
			if len(tags) != tt.wantTags || calls != tt.calls {
				t.Errorf("%d tagged in %d calls, want %d in %d", len(tags), calls, tt.wantTags, tt.calls)
			}
		})
	}
}

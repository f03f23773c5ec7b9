package inventory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// TestListingsPaginateMoto creates more load balancers, target groups,
// volumes and network interfaces than one page holds (ELBv2 pages hold at
// most 400, so 410) and checks that every one is listed, with the tags read
// in batches of 20.
func TestPaginationMoto(t *testing.T) {
	m := awstest.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const region = "eu-west-1"
	cfg, err := m.Config(ctx, region, awstest.DefaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := partition.ByID("aws")
	tg := Target{Account: awstest.DefaultAccount, Partition: p, Region: region, Config: cfg}

	c := ec2.NewFromConfig(cfg)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.0.0/20"),
		AvailabilityZone: aws.String(region + "a")})
	if err != nil {
		t.Fatal(err)
	}
	sub2, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.16.0/20"),
		AvailabilityZone: aws.String(region + "b")})
	if err != nil {
		t.Fatal(err)
	}
	const n = elbPageSize + 10
	v2 := elbv2.NewFromConfig(cfg)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range n {
		g.Go(func() error {
			tag := []elbv2types.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i))}}
			if _, err := v2.CreateLoadBalancer(gctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(fmt.Sprintf("lb-%03d", i)),
				Subnets: []string{aws.ToString(sub.Subnet.SubnetId), aws.ToString(sub2.Subnet.SubnetId)}, Tags: tag}); awstest.RetriedCreate(err) != nil {
				return err
			}
			if _, err := v2.CreateTargetGroup(gctx, &elbv2.CreateTargetGroupInput{Name: aws.String(fmt.Sprintf("tg-%03d", i)),
				Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: vpc.Vpc.VpcId, Tags: tag}); awstest.RetriedCreate(err) != nil {
				return err
			}
			if i%4 == 0 { // EC2 pages hold 500 or 1,000: a few more than a small page
				if _, err := c.CreateVolume(gctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(1)}); err != nil {
					return err
				}
				if _, err := c.CreateNetworkInterface(gctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		run  func(context.Context, Target) (Result, error)
		want int
	}{
		{"load balancers", collectLoadBalancersV2, n},
		{"target groups", collectTargetGroups, n},
		// What moto holds, counted in small pages: a create the SDK retried
		// after a lost answer can make one more than asked for.
		{"volumes", collectVolumes, countPages(t, ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(7)}),
			func(o *ec2.DescribeVolumesOutput) int { return len(o.Volumes) })},
		{"network interfaces", collectNetworkInterfaces, countPages(t,
			ec2.NewDescribeNetworkInterfacesPaginator(c, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(7)}),
			func(o *ec2.DescribeNetworkInterfacesOutput) int { return len(o.NetworkInterfaces) })},
	}
	if tests[2].want < (n+3)/4 || tests[3].want < (n+3)/4 {
		t.Fatalf("moto holds %d volumes and %d interfaces, want at least %d", tests[2].want, tests[3].want, (n+3)/4)
	}
	for _, tt := range tests {
		res, err := tt.run(ctx, tg)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(res.Components) != tt.want {
			t.Errorf("%s: listed %d, want %d", tt.name, len(res.Components), tt.want)
		}
		ids := map[string]bool{}
		for _, comp := range res.Components {
			if ids[comp.ID] {
				t.Errorf("%s: %s listed twice", tt.name, comp.ID)
			}
			ids[comp.ID] = true
			if tt.want == n && comp.Data["Tags"] == nil {
				t.Errorf("%s: %s has no tags", tt.name, comp.ID)
			}
		}
	}
	lbs, _ := collectLoadBalancersV2(ctx, tg)
	for _, r := range lbs.Relations {
		if r.Type != model.UsesService || r.Target != aws.ToString(vpc.Vpc.VpcId) {
			t.Errorf("unexpected relation %v", r)
		}
	}
}

// countPages counts what a paginator lists, page by page.
func countPages[O any](t *testing.T, p interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*ec2.Options)) (O, error)
}, count func(O) int) int {
	t.Helper()
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += count(page)
	}
	return n
}

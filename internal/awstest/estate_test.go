package awstest

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
)

// sampleScopes are the (account, region) pairs SampleEstate builds EC2 in,
// with how many instances each holds.
var sampleScopes = []struct {
	account, region string
	instances       int
}{
	{DefaultAccount, "eu-west-1", 3},
	{DefaultAccount, "us-east-1", 1},
	{"111111111111", "eu-west-1", 1},
}

func TestBuildSampleEstate(t *testing.T) {
	m := Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := SampleEstate().Build(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range sampleScopes {
		cfg, err := m.Config(ctx, sc.region, sc.account)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Fatalf("%s %s: describe instances: %v", sc.account, sc.region, err)
		}
		var names []string
		for _, r := range out.Reservations {
			if got := aws.ToString(r.OwnerId); got != sc.account {
				t.Errorf("%s %s: reservation owner %s", sc.account, sc.region, got)
			}
			for _, i := range r.Instances {
				ph, ok := b.Placeholder(aws.ToString(i.InstanceId))
				if !ok {
					t.Errorf("%s %s: instance %s has no placeholder", sc.account, sc.region, aws.ToString(i.InstanceId))
				}
				names = append(names, ph)
			}
		}
		if len(names) != sc.instances {
			t.Errorf("%s %s: instances %v, want %d", sc.account, sc.region, names, sc.instances)
		}
		dump := describeAll(t, ctx, m, sc.account, sc.region)
		if left := leftoverIDs(b.Normalize(dump)); len(left) > 0 {
			t.Errorf("%s %s: Normalize left generated values: %v", sc.account, sc.region, left)
		}
	}
	for _, ph := range []string{"<vpc:prod>", "<i:web-1>", "<ip:web-1>", "<public-ip:web-1>", "<public-dns:web-1>",
		"<eni:db-1>", "<vol:partner-1>", "<igw:prod-igw>", "<vgw:prod-vgw>", "<sg:default:prod>",
		"<vpc:default:eu-west-1>", "<vpc:default:111111111111/eu-west-1>", "<subnet:default:us-east-1a>", "<sgr:app:0>"} {
		if _, ok := b.ID(ph); !ok {
			t.Errorf("no id for %s", ph)
		}
	}
	if ip, _ := b.ID("<ip:web-1>"); ip != "10.0.1.10" {
		t.Errorf("<ip:web-1> = %q, want the declared 10.0.1.10", ip)
	}
	checkBuckets(t, ctx, m)
	if _, err := SampleEstate().Build(ctx, m); !errors.Is(err, ErrNotFresh) {
		t.Errorf("second Build into the same moto: err = %v, want ErrNotFresh", err)
	}
}

func checkBuckets(t *testing.T, ctx context.Context, m *Moto) {
	t.Helper()
	cfg, err := m.Config(ctx, "eu-west-1", DefaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	out, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{
		Bucket: aws.String("skymap-demo-logs"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.QueueConfigurations) != 1 || aws.ToString(out.QueueConfigurations[0].QueueArn) !=
		"arn:aws:sqs:eu-west-1:123456789012:skymap-demo-log-events" {
		t.Errorf("notification configuration of skymap-demo-logs: %+v", out.QueueConfigurations)
	}
	tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("skymap-demo-assets")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.TagSet) != 2 || aws.ToString(tags.TagSet[0].Value) != "Zürich" {
		t.Errorf("tags of skymap-demo-assets: %+v", tags.TagSet)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("skymap-demo-partner-data")})
	if err != nil {
		t.Fatal(err)
	}
	if loc.LocationConstraint != "eu-west-1" {
		t.Errorf("location of skymap-demo-partner-data: %q", loc.LocationConstraint)
	}
}

// TestBuildIsDeterministic builds twice on a reset moto and compares what
// every describe call answers, normalized, with timestamps blanked.
func TestBuildIsDeterministic(t *testing.T) {
	m := Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	timestamp := regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+Z"`)
	snapshot := func() string {
		b, err := SampleEstate().Build(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		for _, sc := range sampleScopes {
			all.WriteString(b.Normalize(describeAll(t, ctx, m, sc.account, sc.region)))
		}
		return timestamp.ReplaceAllString(all.String(), `"<time>"`)
	}
	first := snapshot()
	if err := m.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, snapshot()); diff != "" {
		t.Errorf("normalized estate differs between builds (-first +second):\n%s", diff)
	}
}

// describeAll returns, as indented JSON, what the EC2 describe calls of the
// topology answer in one account and region.
func describeAll(t *testing.T, ctx context.Context, m *Moto, account, region string) string {
	t.Helper()
	cfg, err := m.Config(ctx, region, account)
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(cfg)
	calls := []struct {
		name string
		call func() (any, error)
	}{
		{"vpcs", func() (any, error) {
			o, err := c.DescribeVpcs(ctx, nil)
			return pick(o, err, func() any { return o.Vpcs })
		}},
		{"subnets", func() (any, error) {
			o, err := c.DescribeSubnets(ctx, nil)
			return pick(o, err, func() any { return o.Subnets })
		}},
		{"groups", func() (any, error) {
			o, err := c.DescribeSecurityGroups(ctx, nil)
			return pick(o, err, func() any { return o.SecurityGroups })
		}},
		{"rules", func() (any, error) {
			o, err := c.DescribeSecurityGroupRules(ctx, nil)
			return pick(o, err, func() any { return o.SecurityGroupRules })
		}},
		{"igws", func() (any, error) {
			o, err := c.DescribeInternetGateways(ctx, nil)
			return pick(o, err, func() any { return o.InternetGateways })
		}},
		{"vgws", func() (any, error) {
			o, err := c.DescribeVpnGateways(ctx, nil)
			return pick(o, err, func() any { return o.VpnGateways })
		}},
		{"rtbs", func() (any, error) {
			o, err := c.DescribeRouteTables(ctx, nil)
			return pick(o, err, func() any { return o.RouteTables })
		}},
		{"acls", func() (any, error) {
			o, err := c.DescribeNetworkAcls(ctx, nil)
			return pick(o, err, func() any { return o.NetworkAcls })
		}},
		{"instances", func() (any, error) {
			o, err := c.DescribeInstances(ctx, nil)
			return pick(o, err, func() any { return o.Reservations })
		}},
		{"enis", func() (any, error) {
			o, err := c.DescribeNetworkInterfaces(ctx, nil)
			return pick(o, err, func() any { return o.NetworkInterfaces })
		}},
		{"volumes", func() (any, error) {
			o, err := c.DescribeVolumes(ctx, nil)
			return pick(o, err, func() any { return o.Volumes })
		}},
	}
	var sb strings.Builder
	for _, call := range calls {
		v, err := call.call()
		if err != nil {
			t.Fatalf("%s %s: describe %s: %v", account, region, call.name, err)
		}
		js, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		sb.WriteString("== " + account + " " + region + " " + call.name + "\n" + string(js) + "\n")
	}
	return sb.String()
}

func pick(o any, err error, field func() any) (any, error) {
	if err != nil {
		return nil, err
	}
	return field(), nil
}

// generated matches what moto generates: ids with a hex suffix, MAC
// addresses, and the public IPs and host names it derives from them.
var generated = regexp.MustCompile(`\b(?:[a-z]+-)+[0-9a-f]{8,17}\b|` +
	`\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b|` +
	`\b(?:ec2|ip)-\d+-\d+-\d+-\d+\b|` +
	`\b(?:10|54)\.\d+\.\d+\.\d+\b`)

// declared matches what the estate declares and may look generated: CIDRs
// and the AMI.
var declared = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+/\d+|` + DefaultImage)

func leftoverIDs(s string) []string {
	left := generated.FindAllString(declared.ReplaceAllString(s, "<declared>"), -1)
	slices.Sort(left)
	return slices.Compact(left)
}

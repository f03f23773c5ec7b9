package inventory

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/partition"
)

// The table maps a CloudFormation type and physical id to the inventory's
// identifier, for stacks and, through ResourceRef, DevOps Guru.
func TestStackResourceID(t *testing.T) {
	cn, _ := partition.ByID("aws-cn")
	tg := Target{Account: "123456789012", Partition: cn, Region: "cn-north-1"}
	tests := []struct{ typ, physical, want string }{
		{"AWS::EC2::Instance", "i-0abc", "i-0abc"},
		{"AWS::SQS::Queue", "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/orders", "arn:aws-cn:sqs:cn-north-1:123456789012:orders"},
		{"AWS::S3::Bucket", "assets", "arn:aws-cn:s3:::assets"},
		{"AWS::Lambda::Function", "fn", "arn:aws-cn:lambda:cn-north-1:123456789012:function:fn"},
		{"AWS::DynamoDB::Table", "t", "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/t"},
		{"AWS::SNS::Topic", "arn:aws-cn:sns:cn-north-1:123456789012:alerts", "arn:aws-cn:sns:cn-north-1:123456789012:alerts"},
		{"AWS::CloudFormation::Stack", "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/child/1", "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/child/1"},
		// Some emulators answer an ARN where AWS answers a name.
		{"AWS::ECS::Cluster", "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/c", "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/c"},
		{"AWS::ECS::Cluster", "c", "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/c"},
		{"AWS::IAM::Policy", "p", ""},
		{"AWS::EC2::Instance", "", ""},
	}
	for _, tt := range tests {
		if got := tg.stackResourceID(tt.typ, tt.physical); got != tt.want {
			t.Errorf("stackResourceID(%s, %q) = %q, want %q", tt.typ, tt.physical, got, tt.want)
		}
		if got := ResourceRef(cn, tg.Account, tg.Region, tt.typ, tt.physical); got != tt.want {
			t.Errorf("ResourceRef(%s, %q) = %q, want %q", tt.typ, tt.physical, got, tt.want)
		}
	}
}

func TestRecordTargets(t *testing.T) {
	aws_, _ := partition.ByID("aws")
	tg := Target{Account: "123456789012", Partition: aws_, Region: partition.Global}
	alias := func(dns, zone string) r53types.ResourceRecordSet {
		return r53types.ResourceRecordSet{Type: r53types.RRTypeA, AliasTarget: &r53types.AliasTarget{DNSName: aws.String(dns), HostedZoneId: aws.String(zone)}}
	}
	cname := func(v string) r53types.ResourceRecordSet {
		return r53types.ResourceRecordSet{Type: r53types.RRTypeCname, ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(v)}}}
	}
	records := []r53types.ResourceRecordSet{
		alias("dualstack.My-LB-1.eu-west-1.elb.amazonaws.com.", "Z32O12XQLNTSW2"),
		alias("d111.cloudfront.net.", "Z2FDTNDATAQYW2"),
		alias("d111.cloudfront.net.", "Z2FDTNDATAQYW2"),  // twice, related once
		alias("other.example.com.", "/hostedzone/ZSELF"), // a record of the zone itself
		cname("db.abc.eu-west-1.rds.amazonaws.com."),
		{Type: r53types.RRTypeMx, ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("10 mx.example.com")}}},
		{Type: r53types.RRTypeA, ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("10.0.0.1")}}},
	}
	want := []string{
		"ZSELF -uses-service-> urn:endpoint:/d111.cloudfront.net",
		"ZSELF -uses-service-> urn:endpoint:/db.abc.eu-west-1.rds.amazonaws.com",
		"ZSELF -uses-service-> urn:endpoint:/my-lb-1.eu-west-1.elb.amazonaws.com",
	}
	if d := cmp.Diff(want, relationSet(tg.recordTargets("ZSELF", records))); d != "" {
		t.Errorf("record targets (-want +got):\n%s", d)
	}
}

// TestDistribution derives a distribution's identifiers and origins from a
// hand-written ListDistributions summary (moto's summaries carry no origins
// or aliases).
func TestDistribution(t *testing.T) {
	aws_, _ := partition.ByID("aws")
	tg := Target{Account: "123456789012", Partition: aws_, Region: partition.Global}
	origin := func(id, domain string, s3 bool) cftypes.Origin {
		o := cftypes.Origin{Id: aws.String(id), DomainName: aws.String(domain)}
		if s3 {
			o.S3OriginConfig = &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")}
		}
		return o
	}
	d := cftypes.DistributionSummary{
		ARN: aws.String("arn:aws:cloudfront::123456789012:distribution/E1"), Id: aws.String("E1"),
		DomainName: aws.String("d111.cloudfront.net"),
		Aliases:    &cftypes.Aliases{Quantity: aws.Int32(1), Items: []string{"WWW.example.com"}},
		Origins: &cftypes.Origins{Quantity: aws.Int32(5), Items: []cftypes.Origin{
			origin("a", "my.assets.s3.eu-west-1.amazonaws.com", true),
			origin("b", "legacy.s3.amazonaws.com", true),
			origin("c", "old.s3-us-west-2.amazonaws.com", true),
			// A website endpoint is a custom origin: an endpoint, not a bucket.
			origin("d", "site.s3-website-eu-west-1.amazonaws.com", false),
			func() cftypes.Origin {
				o := origin("e", "my-alb-1.eu-west-1.elb.amazonaws.com", false)
				o.CustomHeaders = &cftypes.CustomHeaders{Quantity: aws.Int32(1), Items: []cftypes.OriginCustomHeader{
					{HeaderName: aws.String("X-Secret"), HeaderValue: aws.String("hunter2")}}}
				return o
			}(),
		}},
	}
	comp, rels := tg.distribution(d, map[string]string{"team": "edge"})
	if d := cmp.Diff([]string{"E1", "urn:endpoint:/d111.cloudfront.net", "urn:endpoint:/www.example.com"}, comp.Identifiers); d != "" {
		t.Errorf("identifiers (-want +got):\n%s", d)
	}
	src := "arn:aws:cloudfront::123456789012:distribution/E1 -uses-service-> "
	want := []string{src + "arn:aws:s3:::legacy", src + "arn:aws:s3:::my.assets", src + "arn:aws:s3:::old",
		src + "urn:endpoint:/my-alb-1.eu-west-1.elb.amazonaws.com", src + "urn:endpoint:/site.s3-website-eu-west-1.amazonaws.com"}
	if d := cmp.Diff(want, relationSet(rels)); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
	if s := fmt.Sprint(comp.Data); strings.Contains(s, "hunter2") {
		t.Errorf("a custom header value is in the data: %s", s)
	}
}

// TestDomainsRecordedResponse lists Route 53 domains on a response recorded
// from a real account, served by a fake Route 53 Domains endpoint.
func TestDomainsRecordedResponse(t *testing.T) {
	list := recordedMap(t, "route53domains/list_domains_6a1596f.json")
	srv := jsonAPI(t, func(op string, in map[string]any) (any, int) {
		if op != "ListDomains" {
			return map[string]any{"__type": "UnknownOperationException"}, http.StatusBadRequest
		}
		return list, http.StatusOK
	})
	res, err := collectDomains(context.Background(), urlTarget(srv.URL, "us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Components) != 1 {
		t.Fatalf("got %d domains, want 1", len(res.Components))
	}
	c := res.Components[0]
	got := []string{c.ID, c.Type, c.Name, c.ConsoleURL, fmt.Sprint(c.Data["AutoRenew"])}
	want := []string{"stackstate.com", typeDomain, "stackstate.com",
		"https://us-east-1.console.aws.amazon.com/route53/domains/home#/DomainDetail/stackstate.com", "true"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("domain (-want +got):\n%s", d)
	}
}

// TestHostedZonesPaginate lists, from a private moto, 105 hosted zones (two
// pages of ListHostedZones, eleven ListTagsForResources batches) of which
// one holds 650 records (three pages of ListResourceRecordSets).
func TestHostedZonesPaginate(t *testing.T) {
	m := awstest.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg, err := m.Config(ctx, "us-east-1", "")
	if err != nil {
		t.Fatal(err)
	}
	client := route53.NewFromConfig(cfg)
	const zones, records = 105, 650
	var big string
	for i := range zones {
		out, err := client.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
			Name: aws.String(fmt.Sprintf("z%03d.example.com", i)), CallerReference: aws.String(fmt.Sprint(i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			big = aws.ToString(out.HostedZone.Id)
		}
	}
	var changes []r53types.Change
	for i := range records {
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String(fmt.Sprintf("h%03d.z000.example.com", i)), Type: r53types.RRTypeCname, TTL: aws.Int64(60),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(fmt.Sprintf("t%03d.example.net", i))}},
		}})
	}
	if _, err := client.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(big), ChangeBatch: &r53types.ChangeBatch{Changes: changes},
	}); err != nil {
		t.Fatal(err)
	}
	p, _ := partition.ByID("aws")
	res, err := collectHostedZones(ctx, Target{Account: awstest.DefaultAccount, Partition: p, Region: partition.Global, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	// Every zone, past the first page of 100. (A create the SDK retried
	// after moto made the zone makes a second zone of the same name.)
	names := map[string]bool{}
	for _, c := range res.Components {
		names[strings.TrimSuffix(c.Name, ".")] = true
	}
	for i := range zones {
		if n := fmt.Sprintf("z%03d.example.com", i); !names[n] {
			t.Errorf("zone %s missing of %d", n, len(res.Components))
		}
	}
	targets := map[string]bool{}
	for _, r := range res.Relations {
		targets[r.Target] = true
	}
	for i := range records {
		if want := fmt.Sprintf("urn:endpoint:/t%03d.example.net", i); !targets[want] {
			t.Errorf("no relation to %s", want)
		}
	}
}

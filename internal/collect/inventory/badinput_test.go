package inventory

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// The tests of this file feed the listings answers that AWS may send but
// rarely does: resources without an id, enum values newer than the SDK, the
// largest and strangest tag sets, bodies cut short. None may crash a scan;
// each resource skymap cannot use is recorded against its API with its id.

// queryServer answers AWS Query-protocol calls (EC2, Elastic Load Balancing,
// Auto Scaling) with canned bodies keyed by action, or by "<action> <token>"
// for the pages after the first. Other calls get an answer with nothing in
// it.
type queryServer map[string]string

func (q queryServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := r.Form.Get("Action")
	key := action
	if tok := r.Form.Get("NextToken") + r.Form.Get("Marker"); tok != "" {
		key += " " + tok
	}
	body, ok := q[key]
	if !ok && r.Form.Get("Version") == ec2Version {
		body = ec2Answer(action, "")
	} else if !ok {
		body = queryAnswer(action, "")
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	io.WriteString(w, body)
}

const ec2Version = "2016-11-15"

// ec2Answer is an EC2 answer to action holding inner.
func ec2Answer(action, inner string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<` + action + `Response xmlns="http://ec2.amazonaws.com/doc/` +
		ec2Version + `/"><requestId>fake</requestId>` + inner + `</` + action + `Response>`
}

// queryAnswer is an Elastic Load Balancing or Auto Scaling answer to action
// holding inner.
func queryAnswer(action, inner string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<` + action + `Response><` + action + `Result>` + inner +
		`</` + action + `Result><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></` + action + `Response>`
}

// queryTarget is a target whose calls go to answers, checked as awsconn
// checks every answer.
func queryTarget(t *testing.T, answers queryServer) Target {
	t.Helper()
	srv := httptest.NewServer(answers)
	t.Cleanup(srv.Close)
	p, _ := partition.ByID("aws")
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAFAKE", "fake", ""),
		APIOptions:  []func(*middleware.Stack) error{awsconn.CheckAnswers},
		// A connection per call: one the SDK closed early is never reused,
		// which under load made every retry of a call fail alike.
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		// Retries, as in a scan, but at once: the SDK sometimes closes a
		// connection it still reads from and retries the call
		// (aws/aws-sdk-go-v2#2737).
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
				// Under the race detector the SDK now and then fails to
				// decode these tag-heavy answers (a read of a connection it
				// closed, or "invalid UTF-8" in a body that is valid), also
				// without skymap's answer check: retry those too. A scan
				// meets the same as a failed, retried call.
				o.MaxAttempts = 10
				o.Retryables = append(slices.Clone(o.Retryables), retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
					var de *smithy.DeserializationError
					if errors.As(err, &de) && !errors.Is(err, awsconn.ErrIncompleteAnswer) {
						return aws.TrueTernary
					}
					return aws.UnknownTernary
				}))
			})
		}}
	return Target{Account: "123456789012", Partition: p, Region: "eu-west-1", Config: cfg, shared: &shared{}}
}

// list runs a listing as a scan does: a panic shows as ErrUnexpectedAnswer,
// and fails the test. It checks what every listing must hold to, whatever
// it was answered: no component without an id, no relation without both
// ends, every malformed resource named with its API.
func list(t *testing.T, tg Target, run func(context.Context, Target) (Result, error)) (Result, error) {
	t.Helper()
	res, err := runListing(t.Context(), task{l: listing{run: run}, t: tg})
	if errors.Is(err, ErrUnexpectedAnswer) {
		t.Fatalf("listing panicked: %v", err)
	}
	for _, c := range res.Components {
		if c.ID == "" {
			t.Errorf("component without id: %+v", c)
		}
	}
	for _, r := range res.Relations {
		if r.Source == "" || r.Target == "" {
			t.Errorf("relation with an empty end: %+v", r)
		}
	}
	for _, m := range res.Malformed {
		var me *MalformedError
		if !errors.As(m, &me) || !strings.Contains(me.API, ":") || me.Reason == "" {
			t.Errorf("malformed resource not named as service:Action with a reason: %v", m)
		}
	}
	return res, err
}

// malformedIDs lists the malformed resources of res as "<api> <id>", sorted.
func malformedIDs(res Result) []string {
	var out []string
	for _, m := range res.Malformed {
		var me *MalformedError
		if errors.As(m, &me) {
			out = append(out, me.API+" "+me.ID)
		} else {
			out = append(out, m.Error())
		}
	}
	sort.Strings(out)
	return out
}

func componentIDs(res Result) []string {
	var out []string
	for _, c := range res.Components {
		out = append(out, c.ID)
	}
	sort.Strings(out)
	return out
}

func component(t *testing.T, res Result, id string) model.Component {
	t.Helper()
	for _, c := range res.Components {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no component %s among %v", id, componentIDs(res))
	return model.Component{}
}

// xmlText escapes s as XML character data: control characters become
// character references, so that they reach the SDK unchanged.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// fit cuts s to at most n characters (AWS counts tag lengths in Unicode
// characters).
func fit(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// strangeTags are 50 tags, the most a resource may carry, with keys and
// values as long as AWS allows (128 and 256 characters) and made of what
// breaks naive code: letters beyond ASCII, emoji sequences, right-to-left
// text and overrides, markup, quotes, line breaks, padding, empty values.
func strangeTags() map[string]string {
	pieces := []string{
		"Zürich – 東京", "👩‍💻🏳️‍🌈🇨🇭", "עברית العربية", "\u202eevil\u202c", "<script>alert('x')</script>",
		`"quoted" 'single' \back`, "line\nbreak\r\nand\ttab", "]]><![CDATA[", "&amp; &lt;", "e\u0301 ﬁ Å", "  padded  ",
	}
	tags := map[string]string{tagName: "Zürich – 東京 🚀 <b>\"prod\"</b>", "empty": ""}
	for i := 0; len(tags) < 50; i++ {
		p := pieces[i%len(pieces)]
		tags[fit(fmt.Sprintf("%02d %s", i, strings.Repeat(p, 20)), 128)] = fit(strings.Repeat(p, 40), 256)
	}
	return tags
}

// ec2TagSet is the tagSet element of tags.
func ec2TagSet(tags map[string]string) string {
	var b strings.Builder
	b.WriteString("<tagSet>")
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		fmt.Fprintf(&b, "<item><key>%s</key><value>%s</value></item>", xmlText(k), xmlText(tags[k]))
	}
	b.WriteString("</tagSet>")
	return b.String()
}

// checkTags checks that a component carries tags unchanged, as data and as
// labels.
func checkTags(t *testing.T, c model.Component, tags map[string]string) {
	t.Helper()
	if diff := cmp.Diff(tags, c.Data["Tags"]); diff != "" {
		t.Errorf("%s: tags changed (-sent +kept):\n%s", c.ID, diff)
	}
	for k, v := range tags {
		label := k
		if v != "" {
			label = k + ":" + v
		}
		if !slices.Contains(c.Labels, label) {
			t.Errorf("%s: no label %q", c.ID, label)
		}
	}
}

func TestBadInputEC2(t *testing.T) {
	tags := strangeTags()
	if len(tags) != 50 {
		t.Fatalf("%d tags, want 50", len(tags))
	}
	// 255 characters, none of them ASCII.
	groupName := fit(strings.Repeat("安全グループ–Ωß🔒", 40), 255)
	running := `<instanceState><code>16</code><name>running</name></instanceState>`
	tg := queryTarget(t, queryServer{
		"DescribeInstances": ec2Answer("DescribeInstances", `<reservationSet><item><reservationId>r-0bad</reservationId>`+
			`<ownerId>123456789012</ownerId><instancesSet>`+
			`<item><imageId>ami-1</imageId>`+running+`<instanceType>m5.large</instanceType><subnetId>subnet-0good</subnetId></item>`+
			`<item><instanceId>i-0good</instanceId>`+running+`<instanceType>m5.large</instanceType>`+
			`<subnetId>subnet-0good</subnetId><vpcId>vpc-0good</vpcId><privateIpAddress>10.0.0.5</privateIpAddress>`+
			ec2TagSet(tags)+`</item>`+
			`<item><instanceId>i-0odd</instanceId><instanceState><code>99</code><name>levitating</name></instanceState>`+
			`<instanceType>q9.galactic</instanceType><subnetId>subnet-0good</subnetId></item>`+
			`</instancesSet></item></reservationSet>`),
		"DescribeVpcs": ec2Answer("DescribeVpcs", `<vpcSet>`+
			`<item><vpcId>vpc-0good</vpcId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock>`+ec2TagSet(tags)+`</item>`+
			`<item><state>available</state><cidrBlock>10.1.0.0/16</cidrBlock></item>`+
			`</vpcSet>`),
		"DescribeSubnets": ec2Answer("DescribeSubnets", `<subnetSet>`+
			`<item><subnetId>subnet-0good</subnetId><vpcId>vpc-0good</vpcId><cidrBlock>10.0.0.0/24</cidrBlock></item>`+
			`<item><subnetId>subnet-0novpc</subnetId><cidrBlock>10.0.1.0/24</cidrBlock></item>`+
			`<item><vpcId>vpc-0good</vpcId><cidrBlock>10.0.2.0/24</cidrBlock></item>`+
			`</subnetSet>`),
		"DescribeSecurityGroups": ec2Answer("DescribeSecurityGroups", `<securityGroupInfo>`+
			`<item><groupId>sg-0long</groupId><groupName>`+xmlText(groupName)+`</groupName><vpcId>vpc-0good</vpcId></item>`+
			`<item><groupName>no-id</groupName><vpcId>vpc-0good</vpcId></item>`+
			`</securityGroupInfo>`),
		"DescribeInternetGateways": ec2Answer("DescribeInternetGateways", `<internetGatewaySet>`+
			`<item><internetGatewayId>igw-0good</internetGatewayId><attachmentSet>`+
			`<item><vpcId>vpc-0good</vpcId><state>available</state></item><item><state>available</state></item>`+
			`</attachmentSet></item>`+
			`<item><attachmentSet><item><vpcId>vpc-0good</vpcId><state>available</state></item></attachmentSet></item>`+
			`</internetGatewaySet>`),
		"DescribeVpnGateways": ec2Answer("DescribeVpnGateways", `<vpnGatewaySet>`+
			`<item><vpnGatewayId>vgw-0good</vpnGatewayId><state>available</state><attachments>`+
			`<item><vpcId>vpc-0good</vpcId><state>attached</state></item><item><state>attached</state></item>`+
			`</attachments></item>`+
			`<item><state>available</state></item>`+
			`</vpnGatewaySet>`),
	})

	tests := []struct {
		name       string
		run        func(context.Context, Target) (Result, error)
		components []string
		malformed  []string
		relations  []edge
	}{
		{"instances", collectInstances, []string{"i-0good", "i-0odd"},
			// An instance type newer than the SDK is no error: AWS adds
			// them every month. A state outside those asked for is.
			[]string{"ec2:DescribeInstances ", "ec2:DescribeInstances i-0odd"},
			[]edge{{"i-0good", "subnet-0good"}, {"i-0odd", "subnet-0good"}}},
		{"vpcs", collectVPCs, []string{"vpc-0good"}, []string{"ec2:DescribeVpcs "}, nil},
		{"subnets", collectSubnets, []string{"subnet-0good", "subnet-0novpc"},
			[]string{"ec2:DescribeSubnets ", "ec2:DescribeSubnets subnet-0novpc"},
			[]edge{{"subnet-0good", "vpc-0good"}}},
		{"security groups", collectSecurityGroups, []string{"sg-0long"}, []string{"ec2:DescribeSecurityGroups "},
			[]edge{{"vpc-0good", "sg-0long"}}},
		{"internet gateways", collectInternetGateways, []string{"igw-0good"},
			[]string{"ec2:DescribeInternetGateways ", "ec2:DescribeInternetGateways igw-0good"},
			[]edge{{"igw-0good", "vpc-0good"}}},
		{"vpn gateways", collectVPNGateways, []string{"vgw-0good"},
			[]string{"ec2:DescribeVpnGateways ", "ec2:DescribeVpnGateways vgw-0good"},
			[]edge{{"vgw-0good", "vpc-0good"}}},
	}
	results := map[string]Result{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := list(t, tg, tt.run)
			if err != nil {
				t.Fatalf("listing failed: %v", err)
			}
			results[tt.name] = res
			if diff := cmp.Diff(tt.components, componentIDs(res)); diff != "" {
				t.Errorf("components (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.malformed, malformedIDs(res)); diff != "" {
				t.Errorf("malformed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.relations, edges(res.Relations), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("relations (-want +got):\n%s", diff)
			}
		})
	}

	for _, id := range []string{"i-0good", "vpc-0good"} {
		res := results["instances"]
		if id == "vpc-0good" {
			res = results["vpcs"]
		}
		c := component(t, res, id)
		checkTags(t, c, tags)
		if c.Name != tags[tagName] {
			t.Errorf("%s: name %q, want the Name tag %q", id, c.Name, tags[tagName])
		}
	}
	odd := component(t, results["instances"], "i-0odd")
	if got := odd.Data["InstanceType"]; got != "q9.galactic" {
		t.Errorf("unknown instance type kept as %v", got)
	}
	sg := component(t, results["security groups"], "sg-0long")
	if sg.Name != groupName || sg.Data["GroupName"] != groupName {
		t.Errorf("group name kept as %q (data %q), want %q", sg.Name, sg.Data["GroupName"], groupName)
	}
}

// ELBv2 ARNs of the tests.
const (
	albARN       = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
	oddLBARN     = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/qtm/odd/60dc6c495c0c9188"
	webTGARN     = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
	describeTags = "DescribeTags"
)

// elbv2TagDescriptions is the answer to DescribeTags for one resource.
func elbv2TagDescriptions(arn string, tags map[string]string) string {
	var b strings.Builder
	b.WriteString("<TagDescriptions><member><ResourceArn>" + arn + "</ResourceArn><Tags>")
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		fmt.Fprintf(&b, "<member><Key>%s</Key><Value>%s</Value></member>", xmlText(k), xmlText(tags[k]))
	}
	b.WriteString("</Tags></member></TagDescriptions>")
	return b.String()
}

func TestBadInputELBv2(t *testing.T) {
	tags := strangeTags()
	lb := func(arn, name, typ string) string {
		return `<member><LoadBalancerArn>` + arn + `</LoadBalancerArn><LoadBalancerName>` + name + `</LoadBalancerName>` +
			`<DNSName>` + name + `-1.eu-west-1.elb.amazonaws.com</DNSName><Scheme>internet-facing</Scheme>` +
			`<VpcId>vpc-0good</VpcId><State><Code>active</Code></State><Type>` + typ + `</Type></member>`
	}
	tg := queryTarget(t, queryServer{
		"DescribeLoadBalancers": queryAnswer("DescribeLoadBalancers", `<LoadBalancers>`+
			lb(albARN, "web", "application")+lb(oddLBARN, "odd", "quantum")+
			`<member><LoadBalancerName>no-arn</LoadBalancerName><Type>network</Type></member>`+
			`</LoadBalancers>`),
		"DescribeTargetGroups": queryAnswer("DescribeTargetGroups", `<TargetGroups>`+
			`<member><TargetGroupArn>`+webTGARN+`</TargetGroupArn><TargetGroupName>web</TargetGroupName>`+
			`<VpcId>vpc-0good</VpcId><TargetType>instance</TargetType><Port>80</Port>`+
			`<LoadBalancerArns><member>`+albARN+`</member></LoadBalancerArns></member>`+
			`<member><TargetGroupName>no-arn</TargetGroupName></member>`+
			`</TargetGroups>`),
		"DescribeTargetHealth": queryAnswer("DescribeTargetHealth", `<TargetHealthDescriptions>`+
			`<member><Target><Id>i-0good</Id><Port>80</Port></Target><TargetHealth><State>levitating</State></TargetHealth></member>`+
			`<member><Target><Port>80</Port></Target><TargetHealth><State>healthy</State></TargetHealth></member>`+
			`</TargetHealthDescriptions>`),
		describeTags: queryAnswer(describeTags, elbv2TagDescriptions(albARN, tags)),
	})

	res, err := list(t, tg, collectLoadBalancersV2)
	if err != nil {
		t.Fatalf("list load balancers: %v", err)
	}
	if diff := cmp.Diff([]string{albARN}, componentIDs(res)); diff != "" {
		t.Errorf("load balancers (-want +got):\n%s", diff)
	}
	want := []string{
		"elasticloadbalancing:DescribeLoadBalancers " + oddLBARN,
		"elasticloadbalancing:DescribeLoadBalancers no-arn",
	}
	if diff := cmp.Diff(want, malformedIDs(res)); diff != "" {
		t.Errorf("malformed load balancers (-want +got):\n%s", diff)
	}
	alb := component(t, res, albARN)
	checkTags(t, alb, tags)
	if alb.Type != typeApplicationLB || alb.Name != tags[tagName] {
		t.Errorf("load balancer is a %s named %q", alb.Type, alb.Name)
	}

	res, err = list(t, tg, collectTargetGroups)
	if err != nil {
		t.Fatalf("list target groups: %v", err)
	}
	if diff := cmp.Diff([]string{webTGARN}, componentIDs(res)); diff != "" {
		t.Errorf("target groups (-want +got):\n%s", diff)
	}
	want = []string{
		"elasticloadbalancing:DescribeTargetGroups no-arn",
		"elasticloadbalancing:DescribeTargetHealth " + webTGARN,
	}
	if diff := cmp.Diff(want, malformedIDs(res)); diff != "" {
		t.Errorf("malformed target groups (-want +got):\n%s", diff)
	}
	// A health state newer than the SDK is kept as AWS wrote it.
	wantEdges := []edge{{webTGARN, "vpc-0good"}, {albARN, webTGARN}, {webTGARN, "i-0good"}}
	if diff := cmp.Diff(wantEdges, edges(res.Relations)); diff != "" {
		t.Errorf("target group relations (-want +got):\n%s", diff)
	}
	if h := res.Relations[len(res.Relations)-1].Data["health"]; h != "levitating" {
		t.Errorf("target health kept as %v", h)
	}
}

// TestListingsSkipResourcesWithoutID gives every EC2, VPC, Elastic Load
// Balancing and Auto Scaling listing a resource without its id: none may
// become a component, and each is recorded against the listing's API.
func TestListingsSkipResourcesWithoutID(t *testing.T) {
	running := `<instanceState><code>16</code><name>running</name></instanceState>`
	tests := map[string]struct {
		action, inner, id string
	}{
		"ec2|instances": {"DescribeInstances", `<reservationSet><item><reservationId>r-1</reservationId><instancesSet>` +
			`<item>` + running + `<subnetId>subnet-1</subnetId></item></instancesSet></item></reservationSet>`, ""},
		"ec2|vpcs":              {"DescribeVpcs", `<vpcSet><item><state>available</state></item></vpcSet>`, ""},
		"ec2|subnets":           {"DescribeSubnets", `<subnetSet><item><vpcId>vpc-1</vpcId></item></subnetSet>`, ""},
		"ec2|security_groups":   {"DescribeSecurityGroups", `<securityGroupInfo><item><groupName>web</groupName><vpcId>vpc-1</vpcId></item></securityGroupInfo>`, ""},
		"ec2|vpn_gateways":      {"DescribeVpnGateways", `<vpnGatewaySet><item><state>available</state></item></vpnGatewaySet>`, ""},
		"ec2|internet_gateways": {"DescribeInternetGateways", `<internetGatewaySet><item><attachmentSet><item><vpcId>vpc-1</vpcId><state>available</state></item></attachmentSet></item></internetGatewaySet>`, ""},
		"ec2|nat_gateways":      {"DescribeNatGateways", `<natGatewaySet><item><state>available</state><subnetId>subnet-1</subnetId></item></natGatewaySet>`, ""},
		"ec2|transit_gateways":  {"DescribeTransitGateways", `<transitGatewaySet><item><state>available</state><ownerId>123456789012</ownerId></item></transitGatewaySet>`, ""},
		"ec2|route_tables":      {"DescribeRouteTables", `<routeTableSet><item><vpcId>vpc-1</vpcId></item></routeTableSet>`, ""},
		"ec2|network_interfaces": {"DescribeNetworkInterfaces", `<networkInterfaceSet><item><subnetId>subnet-1</subnetId>` +
			`<vpcId>vpc-1</vpcId><status>in-use</status></item></networkInterfaceSet>`, ""},
		"ec2|vpc_endpoints":    {"DescribeVpcEndpoints", `<vpcEndpointSet><item><vpcId>vpc-1</vpcId><state>available</state></item></vpcEndpointSet>`, ""},
		"ec2|volumes":          {"DescribeVolumes", `<volumeSet><item><size>8</size></item></volumeSet>`, ""},
		"elb|load_balancers":   {"DescribeLoadBalancers", `<LoadBalancerDescriptions><member><DNSName>web-1.eu-west-1.elb.amazonaws.com</DNSName></member></LoadBalancerDescriptions>`, ""},
		"elbv2|load_balancers": {"DescribeLoadBalancers", `<LoadBalancers><member><LoadBalancerName>web</LoadBalancerName><Type>application</Type></member></LoadBalancers>`, "web"},
		"elbv2|target_groups":  {"DescribeTargetGroups", `<TargetGroups><member><TargetGroupName>web</TargetGroupName></member></TargetGroups>`, "web"},
		"autoscaling|groups":   {"DescribeAutoScalingGroups", `<AutoScalingGroups><member><AutoScalingGroupName>asg</AutoScalingGroupName></member></AutoScalingGroups>`, "asg"},
	}
	for _, l := range slices.Concat(ec2Listings, vpcListings, elbListings, elbv2Listings, autoscalingListings) {
		key := l.api + "|" + l.filter
		t.Run(key, func(t *testing.T) {
			tt, ok := tests[key]
			if !ok {
				t.Fatalf("no resource without an id for listing %s", key)
			}
			answer := queryAnswer(tt.action, tt.inner)
			if l.api == "ec2" {
				answer = ec2Answer(tt.action, tt.inner)
			}
			res, err := list(t, queryTarget(t, queryServer{tt.action: answer}), l.run)
			if err != nil {
				t.Fatalf("listing failed: %v", err)
			}
			if len(res.Components) > 0 {
				t.Errorf("components %v from a resource without an id", componentIDs(res))
			}
			var me *MalformedError
			if len(res.Malformed) != 1 || !errors.As(res.Malformed[0], &me) {
				t.Fatalf("malformed %v, want the resource without an id", res.Malformed)
			}
			if !slices.Contains(l.actions, me.API) || !strings.HasSuffix(me.API, ":"+tt.action) || me.ID != tt.id {
				t.Errorf("malformed %v, want it named by %s and id %q", me, tt.action, tt.id)
			}
		})
	}
}

// cuts are the places where an answer may be cut short, from an empty body
// to one that misses its last byte.
var cuts = []struct {
	name string
	at   func(body string) int
}{
	{"empty", func(string) int { return 0 }},
	{"declaration only", func(b string) int { return strings.Index(b, "?>") + 3 }},
	{"in the root's name", func(b string) int { return strings.Index(b, "?>") + 8 }},
	{"in the middle", func(b string) int { return len(b) / 2 }},
	{"before the root ends", func(b string) int { return strings.LastIndex(b, "</") }},
	{"last byte", func(b string) int { return len(b) - 1 }},
}

// TestCutAnswerFailsListing cuts an answer short, wherever: the listing
// fails (its scopes are incomplete, and keep what they had) rather than
// panic or report an empty estate.
func TestCutAnswerFailsListing(t *testing.T) {
	vpcs := ec2Answer("DescribeVpcs", `<vpcSet><item><vpcId>vpc-0good</vpcId>`+ec2TagSet(strangeTags())+`</item></vpcSet>`)
	lbs := queryAnswer("DescribeLoadBalancers", `<LoadBalancers><member><LoadBalancerArn>`+albARN+`</LoadBalancerArn>`+
		`<LoadBalancerName>web</LoadBalancerName><Type>application</Type></member></LoadBalancers>`)
	tags := queryAnswer(describeTags, elbv2TagDescriptions(albARN, strangeTags()))
	tests := []struct {
		name    string
		l       listing
		answers queryServer
		cut     string // the action whose answer is cut
	}{
		{"vpcs", ec2Listings[1], queryServer{"DescribeVpcs": vpcs}, "DescribeVpcs"},
		{"load balancers", elbv2Listings[0], queryServer{"DescribeLoadBalancers": lbs, describeTags: tags}, "DescribeLoadBalancers"},
		{"load balancer tags", elbv2Listings[0], queryServer{"DescribeLoadBalancers": lbs, describeTags: tags}, describeTags},
	}
	for _, tt := range tests {
		for _, c := range cuts {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				answers := maps.Clone(tt.answers)
				answers[tt.cut] = answers[tt.cut][:c.at(answers[tt.cut])]
				res, err := list(t, queryTarget(t, answers), tt.l.run)
				if err == nil {
					t.Fatalf("listing complete with %v after a cut answer", componentIDs(res))
				}
				for _, s := range split(task{l: tt.l, t: Target{Account: "123456789012", Region: "eu-west-1"}}, res, err == nil) {
					if s.Complete {
						t.Errorf("scope %v complete", s.Scope)
					}
				}
			})
		}
	}

	t.Run("not the document asked for", func(t *testing.T) {
		page := `<?xml version="1.0"?><html><body><h1>Service Unavailable</h1></body></html>`
		if _, err := list(t, queryTarget(t, queryServer{"DescribeVpcs": page}), collectVPCs); err == nil {
			t.Error("listing complete after an HTML page")
		}
	})

	t.Run("second page", func(t *testing.T) {
		page2 := ec2Answer("DescribeVpcs", `<vpcSet><item><vpcId>vpc-0two</vpcId></item></vpcSet>`)
		res, err := list(t, queryTarget(t, queryServer{
			"DescribeVpcs":   ec2Answer("DescribeVpcs", `<vpcSet><item><vpcId>vpc-0one</vpcId></item></vpcSet><nextToken>2</nextToken>`),
			"DescribeVpcs 2": page2[:len(page2)/2],
		}), collectVPCs)
		if err == nil {
			t.Fatal("listing complete after a cut second page")
		}
		if diff := cmp.Diff([]string{"vpc-0one"}, componentIDs(res)); diff != "" {
			t.Errorf("components (-want +got):\n%s", diff)
		}
	})
}

// TestPanickingListingFailsAlone runs a listing that panics beside one that
// does not, as a scan runs them: the panic is the first listing's error,
// ErrUnexpectedAnswer, and the second still returns what it saw.
func TestPanickingListingFailsAlone(t *testing.T) {
	tg := Target{Account: "123456789012", Region: "eu-west-1"}
	panics := task{l: listing{types: []string{typeVPC}, run: func(context.Context, Target) (Result, error) {
		var vpc *struct{ ID *string }
		return Result{Components: []model.Component{{ID: *vpc.ID}}}, nil
	}}, t: tg}
	works := task{l: listing{types: []string{typeSubnet}, run: func(context.Context, Target) (Result, error) {
		return Result{Components: []model.Component{{ID: "subnet-1", Type: typeSubnet, Region: "eu-west-1"}}}, nil
	}}, t: tg}

	var (
		results [2]Result
		errs    [2]error
		g       errgroup.Group
	)
	for i, tk := range []task{panics, works} {
		g.Go(func() error {
			results[i], errs[i] = runListing(t.Context(), tk)
			return nil
		})
	}
	g.Wait()

	if !errors.Is(errs[0], ErrUnexpectedAnswer) || !strings.Contains(errs[0].Error(), "nil pointer") {
		t.Errorf("panicking listing: %v, want ErrUnexpectedAnswer naming the panic", errs[0])
	}
	if len(results[0].Components) > 0 {
		t.Errorf("panicking listing returned %v", componentIDs(results[0]))
	}
	for _, s := range split(panics, results[0], errs[0] == nil) {
		if s.Complete {
			t.Errorf("scope %v of the panicking listing complete", s.Scope)
		}
	}
	if errs[1] != nil || len(results[1].Components) != 1 {
		t.Errorf("other listing: %v, %v; want its subnet", componentIDs(results[1]), errs[1])
	}
}

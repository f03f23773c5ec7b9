package bench

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// fakeEC2 answers the STS and EC2 calls of a scan restricted to EC2, for an
// estate generated from its parameters, in the EC2 Query protocol's XML.
// Each call is answered after base plus perItem for every resource
// returned: about what AWS takes (DescribeInstances returns 1,000
// instances in one to two seconds). It stands in for moto where moto is too
// slow to hold 50,000 resources; the answers follow the shapes moto and AWS
// send (see the EC2 API reference), field for field in what skymap reads.
type fakeEC2 struct {
	// per account-region counts
	vpcs, subnets, groups, instances int
	base, perItem                    time.Duration
	calls                            atomic.Int64
}

func (f *fakeEC2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	account, region := credentialScope(r.Header.Get("Authorization"))
	max, _ := strconv.Atoi(r.Form.Get("MaxResults"))
	if max <= 0 {
		max = 1000
	}
	from, _ := strconv.Atoi(r.Form.Get("NextToken"))
	var body strings.Builder
	n := 0
	page := func(total int, set string, item func(i int)) {
		fmt.Fprintf(&body, "<%s>", set)
		end := min(from+max, total)
		for i := from; i < end; i++ {
			item(i)
			n++
		}
		fmt.Fprintf(&body, "</%s>", set)
		if end < total {
			fmt.Fprintf(&body, "<nextToken>%d</nextToken>", end)
		}
	}
	action := r.Form.Get("Action")
	ns := "http://ec2.amazonaws.com/doc/2016-11-15/"
	switch action {
	case "AssumeRole":
		if r.Form.Get("ExternalId") == "" {
			w.WriteHeader(403)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error></ErrorResponse>`)
			return
		}
		acct := strings.Split(r.Form.Get("RoleArn"), ":")[4]
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>`+
			`<AccessKeyId>ASIA%s</AccessKeyId><SecretAccessKey>fake</SecretAccessKey><SessionToken>fake</SessionToken>`+
			`<Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::%s:assumed-role/r/s</Arn>`+
			`<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`,
			acct, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), acct)
		return
	case "DescribeVpcs":
		page(f.vpcs, "vpcSet", func(i int) {
			fmt.Fprintf(&body, `<item><vpcId>vpc-%s</vpcId><ownerId>%s</ownerId><state>available</state>`+
				`<cidrBlock>10.%d.0.0/16</cidrBlock><isDefault>false</isDefault>%s</item>`,
				hexID(account, region, i), account, i%256, tags("vpc", i))
		})
	case "DescribeSubnets":
		page(f.subnets, "subnetSet", func(i int) {
			id := "subnet-" + hexID(account, region, i)
			fmt.Fprintf(&body, `<item><subnetId>%s</subnetId><subnetArn>arn:aws:ec2:%s:%s:subnet/%s</subnetArn>`+
				`<state>available</state><vpcId>vpc-%s</vpcId><cidrBlock>10.%d.%d.0/24</cidrBlock>`+
				`<availabilityZone>%sa</availabilityZone><availableIpAddressCount>250</availableIpAddressCount>%s</item>`,
				id, region, account, id, hexID(account, region, i%f.vpcs), (i%f.vpcs)%256, i%256, region, tags("subnet", i))
		})
	case "DescribeSecurityGroups":
		page(f.groups, "securityGroupInfo", func(i int) {
			id := "sg-" + hexID(account, region, i)
			fmt.Fprintf(&body, `<item><ownerId>%s</ownerId><groupId>%s</groupId><groupName>group-%d</groupName>`+
				`<groupDescription>group %d</groupDescription><vpcId>vpc-%s</vpcId>`+
				`<securityGroupArn>arn:aws:ec2:%s:%s:security-group/%s</securityGroupArn>`+
				`<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort>`+
				`<ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissions>%s</item>`,
				account, id, i, i, hexID(account, region, i%f.vpcs), region, account, id, tags("sg", i))
		})
	case "DescribeInstances":
		page(f.instances, "reservationSet", func(i int) {
			id := "i-" + hexID(account, region, i)
			subnet := i % f.subnets
			vpc := subnet % f.vpcs
			ip := fmt.Sprintf("10.%d.%d.%d", vpc%256, subnet%256, 4+i/f.subnets%250)
			fmt.Fprintf(&body, `<item><reservationId>r-%s</reservationId><ownerId>%s</ownerId><instancesSet><item>`+
				`<instanceId>%s</instanceId><imageId>ami-04681a1dbd79675a5</imageId>`+
				`<instanceState><code>16</code><name>running</name></instanceState>`+
				`<privateDnsName>ip-%s.%s.compute.internal</privateDnsName><instanceType>m5.large</instanceType>`+
				`<launchTime>2026-11-01T10:00:00.000Z</launchTime><placement><availabilityZone>%sa</availabilityZone></placement>`+
				`<subnetId>subnet-%s</subnetId><vpcId>vpc-%s</vpcId><privateIpAddress>%s</privateIpAddress>`+
				`<groupSet><item><groupId>sg-%s</groupId><groupName>group</groupName></item></groupSet>`+
				`<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType>`+
				`<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-%s</volumeId>`+
				`<status>attached</status><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>`+
				`<networkInterfaceSet><item><networkInterfaceId>eni-%s</networkInterfaceId><subnetId>subnet-%s</subnetId>`+
				`<vpcId>vpc-%s</vpcId><privateIpAddress>%s</privateIpAddress><status>in-use</status>`+
				`<privateIpAddressesSet><item><privateIpAddress>%s</privateIpAddress><primary>true</primary></item></privateIpAddressesSet>`+
				`<groupSet><item><groupId>sg-%s</groupId><groupName>group</groupName></item></groupSet></item></networkInterfaceSet>`+
				`%s</item></instancesSet></item>`,
				hexID(account, region, i), account, id, strings.ReplaceAll(ip, ".", "-"), region, region,
				hexID(account, region, subnet), hexID(account, region, vpc), ip, hexID(account, region, i%f.groups),
				hexID(account, region, i), hexID(account, region, i), hexID(account, region, subnet), hexID(account, region, vpc), ip, ip,
				hexID(account, region, i%f.groups), tags("web", i))
		})
	case "DescribeInternetGateways":
		page(0, "internetGatewaySet", nil)
	case "DescribeVpnGateways":
		page(0, "vpnGatewaySet", nil)
	default:
		w.WriteHeader(400)
		fmt.Fprintf(w, `<Response><Errors><Error><Code>InvalidAction</Code><Message>%s is not emulated</Message></Error></Errors></Response>`, action)
		return
	}
	time.Sleep(f.base + time.Duration(n)*f.perItem)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><%sResponse xmlns="%s"><requestId>fake</requestId>%s</%sResponse>`,
		action, ns, body.String(), action)
}

// credentialScope reads the account (encoded in the fake access key) and
// region of a SigV4 Authorization header.
func credentialScope(auth string) (account, region string) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "000000000000", "us-east-1"
	}
	parts := strings.Split(strings.Split(cred, ",")[0], "/")
	if len(parts) < 3 {
		return "000000000000", "us-east-1"
	}
	return strings.TrimPrefix(parts[0], "ASIA"), parts[2]
}

// hexID is a 17-digit resource id unique per account, region and index.
func hexID(account, region string, i int) string {
	a, _ := strconv.ParseUint(account, 10, 64)
	r := 0
	for _, c := range region {
		r = r*31 + int(c)
	}
	return fmt.Sprintf("%05x%04x%08x", a%0xfffff, r&0xffff, i)
}

func tags(prefix string, i int) string {
	return fmt.Sprintf(`<tagSet><item><key>Name</key><value>%s-%d</value></item><item><key>team</key><value>platform</value></item>`+
		`<item><key>stackstate-environment</key><value>production</value></item></tagSet>`, prefix, i)
}

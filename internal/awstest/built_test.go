package awstest

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	b := newBuilt()
	for _, m := range []struct{ id, kind, label string }{
		{"i-0abc", "i", "short"},
		{"i-0abcdef", "i", "long"},
		{"10.0.1.1", "ip", "a"},
		{"10.0.1.12", "ip", "b"},
		{"ip-10-0-1-1.eu-west-1.compute.internal", "dns", "a"},
		{"02:00:00:ec:f1:33", "mac", "a"},
	} {
		if err := b.add(m.id, m.kind, m.label); err != nil {
			t.Fatal(err)
		}
	}
	b.compile()
	tests := []struct{ in, want string }{
		{"i-0abc i-0abcdef", "<i:short> <i:long>"},
		{`{"InstanceId":"i-0abcdef"}`, `{"InstanceId":"<i:long>"}`},
		{"arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc", "arn:aws:ec2:eu-west-1:123456789012:instance/<i:short>"},
		{"10.0.1.1 10.0.1.12 10.0.1.123 110.0.1.1", "<ip:a> <ip:b> 10.0.1.123 110.0.1.1"},
		{"urn:vpcip:x/10.0.1.1", "urn:vpcip:x/<ip:a>"},
		{"ip-10-0-1-1.eu-west-1.compute.internal.", "<dns:a>."},
		{"mac 02:00:00:ec:f1:33", "mac <mac:a>"},
		{"i-0abcd", "i-0abcd"},
	}
	for _, tt := range tests {
		if got := b.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, ok := b.ID("<ip:b>"); !ok || got != "10.0.1.12" {
		t.Errorf("ID(<ip:b>) = %q, %v", got, ok)
	}
	var zero *Built
	if got := zero.Normalize("i-0abc"); got != "i-0abc" {
		t.Errorf("nil Built changed its input: %q", got)
	}
}

func TestAddRejectsAmbiguity(t *testing.T) {
	b := newBuilt()
	if err := b.add("10.0.1.4", "ip", "a"); err != nil {
		t.Fatal(err)
	}
	if err := b.add("10.0.1.4", "ip", "b"); err == nil {
		t.Error("one value mapped to two placeholders")
	}
	if err := b.add("10.0.1.5", "ip", "a"); err == nil {
		t.Error("one placeholder mapped to two values")
	}
}

func TestValidate(t *testing.T) {
	if err := SampleEstate().Validate(); err != nil {
		t.Fatalf("SampleEstate: %v", err)
	}
	e := Estate{Accounts: []Account{{
		ID: "12345",
		Regions: []Region{{Name: "eu-west-1", VPCs: []VPC{
			{Name: "a", CIDR: "10.0.0.0/16",
				SecurityGroups: []SecurityGroup{{Name: "g", Ingress: []Rule{{Protocol: "tcp", SourceGroup: "nope"}}}},
				Subnets: []Subnet{{Name: "s", CIDR: "10.0.1.0/24", AvailabilityZone: "us-east-1a",
					Instances: []Instance{{Name: "x", SecurityGroups: []string{"wbe"}, PrivateIP: "10.0.1"}}}}},
			{Name: "a", CIDR: "10.1.0.0"},
		}}},
		Buckets: []Bucket{{Name: "b", Notifications: []Notification{{TargetARN: "arn:aws:s3:::x"}}}},
	}}}
	want := []string{
		`accounts[0].id: account id "12345" is not 12 digits`,
		`accounts[0].regions[0].vpcs[0].security_groups[0].ingress[0].source_group: unknown security group "nope"`,
		`accounts[0].regions[0].vpcs[0].subnets[0].availability_zone: "us-east-1a" is not in region "eu-west-1"`,
		`accounts[0].regions[0].vpcs[0].subnets[0].instances[0].security_groups[0]: unknown security group "wbe"`,
		`accounts[0].regions[0].vpcs[0].subnets[0].instances[0].private_ip: `,
		`accounts[0].regions[0].vpcs[1].name: vpc "a" already declared at accounts[0].regions[0].vpcs[0]`,
		`accounts[0].regions[0].vpcs[1].cidr: `,
		`accounts[0].buckets[0].region: missing`,
		`accounts[0].buckets[0].notifications[0].target_arn: "arn:aws:s3:::x" is not an SQS, SNS or Lambda ARN`,
	}
	err := e.Validate()
	if err == nil {
		t.Fatal("Validate accepted an invalid estate")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i := range min(len(lines), len(want)) {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, lines[i], want[i])
		}
	}
}

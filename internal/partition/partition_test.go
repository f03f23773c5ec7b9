package partition

import "testing"

func TestKnownRegion(t *testing.T) {
	tests := []struct {
		part, region string
		want         bool
	}{
		{"aws", "eu-west-1", true},
		{"aws", "eu-wst-1", false},
		{"aws", "cn-north-1", false},
		{"aws-cn", "cn-north-1", true},
		{"", "us-gov-west-1", true},
		{"aws", Global, true},
		{"aws-us-gov", All, true},
	}
	for _, tt := range tests {
		if got := KnownRegion(tt.part, tt.region); got != tt.want {
			t.Errorf("KnownRegion(%q, %q) = %v, want %v", tt.part, tt.region, got, tt.want)
		}
	}
}

func TestConsoleBase(t *testing.T) {
	tests := []struct{ part, region, want string }{
		{"aws", "eu-west-1", "https://eu-west-1.console.aws.amazon.com"},
		{"aws", Global, "https://us-east-1.console.aws.amazon.com"},
		{"aws-cn", "cn-northwest-1", "https://console.amazonaws.cn"},
		{"aws-us-gov", "us-gov-east-1", "https://console.amazonaws-us-gov.com"},
	}
	for _, tt := range tests {
		p, _ := ByID(tt.part)
		if got := p.ConsoleBase(tt.region); got != tt.want {
			t.Errorf("%s ConsoleBase(%q) = %q, want %q", tt.part, tt.region, got, tt.want)
		}
	}
}

func TestParseARN(t *testing.T) {
	a, ok := ParseARN("arn:aws-us-gov:iam::123456789012:role/path/name")
	if !ok || a.Partition != "aws-us-gov" || a.Service != "iam" || a.Account != "123456789012" || a.Resource != "role/path/name" {
		t.Errorf("ParseARN = %+v, %v", a, ok)
	}
	if a.String() != "arn:aws-us-gov:iam::123456789012:role/path/name" {
		t.Errorf("String() = %q", a.String())
	}
	for _, bad := range []string{"", "arn:aws", "foo:aws:iam::1:role/x", "arn::iam::1:role/x"} {
		if _, ok := ParseARN(bad); ok {
			t.Errorf("ParseARN(%q) accepted", bad)
		}
	}
}

func TestIsAccountID(t *testing.T) {
	for s, want := range map[string]bool{"123456789012": true, "12345678901": false, "1234567890123": false, "12345678901a": false, "": false} {
		if got := IsAccountID(s); got != want {
			t.Errorf("IsAccountID(%q) = %v", s, got)
		}
	}
}

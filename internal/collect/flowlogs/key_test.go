package flowlogs

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseKey(t *testing.T) {
	const file = "123456789012_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20261122T1005Z_0b1c2d3e.log.gz"
	for _, c := range []struct {
		key             string
		account, region string
		day             string // 2006-01-02, "" when !ok
	}{
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/" + file, "123456789012", "eu-west-1", "2026-11-22"},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/10/" + file, "123456789012", "eu-west-1", "2026-11-22"},
		{"vpc/logs/AWSLogs/123456789012/vpcflowlogs/us-gov-west-1/2026/01/02/x.log.gz", "123456789012", "us-gov-west-1", "2026-01-02"},
		{"AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=11/day=22/" + file,
			"123456789012", "eu-west-1", "2026-11-22"},
		{"p/AWSLogs/aws-account-id=111111111111/aws-service=vpcflowlogs/aws-region=cn-northwest-1/year=2026/month=12/day=31/hour=23/f.parquet",
			"111111111111", "cn-northwest-1", "2026-12-31"},
		// Transit Gateway flow logs share the layout.
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/123456789012_vpcflowlogs_eu-west-1_tgw-attach-0a1b_20261122T1005Z_ab.log.gz",
			"123456789012", "eu-west-1", "2026-11-22"},
		// A file name with spaces, as a notification decodes it.
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/flow log 1.log.gz", "123456789012", "eu-west-1", "2026-11-22"},
		// A user prefix that holds AWSLogs/ itself.
		{"AWSLogs/999999999999/vpcflowlogs/eu-west-1/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/f", "123456789012", "eu-west-1", "2026-11-22"},

		// Hostile or foreign keys.
		{"", "", "", ""},
		{"AWSLogs/", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/", "", "", ""}, // folder marker
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/10/", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/..", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/a/b/c", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/24/f", "", "", ""}, // hour 24
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/02/30/f", "", "", ""},    // no such day
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/13/01/f", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/26/11/22/f", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/+026/11/22/f", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/1/22/f", "", "", ""},
		{"AWSLogs/12345678901/vpcflowlogs/eu-west-1/2026/11/22/f", "", "", ""},  // 11 digits
		{"AWSLogs/１２３456789012/vpcflowlogs/eu-west-1/2026/11/22/f", "", "", ""}, // full-width digits
		{"AWSLogs/123456789012/EventBridge/eu-west-1/2026/11/22/f", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/EU-WEST-1/2026/11/22/f", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/../2026/11/22/f", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/../../../../etc/passwd", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west/2026/11/22/f", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu--1/2026/11/22/f", "", "", ""},
		{"AWSLogs/123456789012//vpcflowlogs/eu-west-1/2026/11/22/f", "", "", ""},
		{"xAWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/f", "", "", ""},                                      // AWSLogs not a whole segment
		{"AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/2026/11/22/f", "", "", ""}, // mixed
		{"AWSLogs/aws-account-id=123456789012/aws-service=cloudtrail/aws-region=eu-west-1/year=2026/month=11/day=22/f", "", "", ""},
		{"AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=11/day=22/hour=99/f", "", "", ""},
		{"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/f\x00", "123456789012", "eu-west-1", "2026-11-22"}, // only the date parts are checked
		{strings.Repeat("AWSLogs/", 1000), "", "", ""},
	} {
		account, region, ok := ParseKey(c.key)
		if ok != (c.day != "") || account != c.account || region != c.region {
			t.Errorf("ParseKey(%q) = %q, %q, %t; want %q, %q, %t", c.key, account, region, ok, c.account, c.region, c.day != "")
			continue
		}
		if k, _ := parseKey(c.key); ok && k.day.Format(time.DateOnly) != c.day {
			t.Errorf("parseKey(%q) day %s, want %s", c.key, k.day.Format(time.DateOnly), c.day)
		}
	}
}

// TestDayPrefixes checks that the prefixes BucketSource lists are those
// ParseKey accepts keys under.
func TestDayPrefixes(t *testing.T) {
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	got := dayPrefixes("vpc/", "123456789012", "eu-west-1", day)
	want := []string{
		"vpc/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/03/04/",
		"vpc/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=03/day=04/",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("dayPrefixes (-want +got):\n%s", d)
	}
	for _, p := range got {
		k, ok := parseKey(p + "f.log.gz")
		if !ok || k.account != "123456789012" || k.region != "eu-west-1" || !k.day.Equal(day) {
			t.Errorf("%s: parseKey = %+v, %t", p, k, ok)
		}
	}
}

func TestOptionsPrefix(t *testing.T) {
	for in, want := range map[string]string{"": "", "vpc": "vpc/", "vpc/": "vpc/", "a/b": "a/b/"} {
		if got := (Options{Prefix: in}).withDefaults().Prefix; got != want {
			t.Errorf("Prefix %q becomes %q, want %q", in, got, want)
		}
	}
}

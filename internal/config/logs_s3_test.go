package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// logs.s3 names buckets of load balancer and CloudFront logs; kinds are
// taken in any case; the lookback is a duration.
func TestLogsS3Section(t *testing.T) {
	doc := "instances: [{regions: [eu-west-1]}]\nlogs:\n  s3_lookback: 3h\n  s3:\n" +
		"    - {bucket: lb-logs, prefix: prod, kind: ALB, region: eu-west-1}\n" +
		"    - {bucket: lb-logs, prefix: prod, kind: elb, region: eu-west-1, account: '111111111111'}\n" +
		"    - {bucket: cf.logs, prefix: 'cf-', kind: cloudfront, region: us-east-1}\n"
	cfg, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []LogBucket{{Bucket: "lb-logs", Prefix: "prod", Kind: "alb", Region: "eu-west-1"},
		{Bucket: "lb-logs", Prefix: "prod", Kind: "elb", Account: "111111111111", Region: "eu-west-1"},
		{Bucket: "cf.logs", Prefix: "cf-", Kind: "cloudfront", Region: "us-east-1"}}
	if d := cmp.Diff(want, cfg.Logs.S3); d != "" || cfg.Logs.S3Lookback != 3*time.Hour {
		t.Errorf("logs.s3 (-want +got):\n%s\nlookback %v", d, cfg.Logs.S3Lookback)
	}
}

func TestLogsS3Errors(t *testing.T) {
	doc := "instances: [{regions: [eu-west-1]}]\nlogs:\n  s3_lookback: 1m\n  s3:\n" +
		"    - {bucket: My_Logs, kind: nlb, region: eu-west-1}\n" +
		"    - {bucket: lb-logs, prefix: /x, kind: alb, account: '12', region: global}\n" +
		"    - {bucket: lb-logs, prefix: x/AWSLogs, kind: elb}\n" +
		"    - {bucket: cf-logs, kind: cloudfront, region: us-east-1, colour: red}\n" +
		"    - {bucket: cf-logs, kind: CloudFront, region: us-east-1}\n"
	_, err := Parse([]byte(doc))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`logs.s3_lookback: "1m": want a duration from 5m to 48h, such as 1h (line 3)`,
		`logs.s3[0].bucket: "My_Logs" is not a valid S3 bucket name (line 5)`,
		`logs.s3[0].kind: "nlb": want alb, elb, cloudfront (line 5)`,
		`logs.s3[1].prefix: "/x": a load balancer's log prefix neither starts with / nor holds AWSLogs`,
		`logs.s3[1].account: "12": want a 12-digit account id (line 6)`,
		`logs.s3[1].region: "global": want the bucket's region, such as eu-west-1 (line 6)`,
		`logs.s3[2].prefix: "x/AWSLogs"`,
		`logs.s3[2].region: "": want the bucket's region`,
		`logs.s3[3].colour: unknown key`,
		`logs.s3[4]: the same bucket, prefix, kind, account and region as s3[3]`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in:\n%v", want, err)
		}
	}
}

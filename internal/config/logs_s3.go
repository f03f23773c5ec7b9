package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/partition"
)

// LogBucket is a bucket, and the prefix in it, where load balancers or
// CloudFront deliver their logs (an item of logs.s3).
type LogBucket struct {
	// Bucket is the bucket's name.
	Bucket string
	// Prefix is the prefix the logs were configured with: for load
	// balancers the one before AWSLogs/ ("" for none), for CloudFront the
	// one before the distribution id (it need not end in "/").
	Prefix string
	// Kind is alb (Application Load Balancer access logs), elb (Classic
	// Load Balancer access logs) or cloudfront (standard logs).
	Kind string
	// Account is the monitored account whose credentials read the bucket;
	// "" means the first instance's.
	Account string
	// Region is the bucket's region; load balancers deliver only to a
	// bucket of their own region.
	Region string
}

// rawLogBucket is an item of logs.s3.
type rawLogBucket struct {
	Bucket  string `yaml:"bucket"`
	Prefix  string `yaml:"prefix"`
	Kind    string `yaml:"kind"`
	Account string `yaml:"account"`
	Region  string `yaml:"region"`
}

// logBucketKinds are the kinds logs.s3 accepts.
var logBucketKinds = []string{"alb", "elb", "cloudfront"}

// validateS3 checks logs.s3 and logs.s3_lookback.
func (l *rawLogs) validateS3() []error {
	var errs []error
	if d, err := time.ParseDuration(l.S3Lookback); err != nil || d < 5*time.Minute || d > 48*time.Hour {
		errs = append(errs, errorf("s3_lookback", "%q: want a duration from 5m to 48h, such as 1h", l.S3Lookback))
	}
	seen := map[rawLogBucket]int{}
	for i, b := range l.S3 {
		path := fmt.Sprintf("s3[%d]", i)
		if !validBucket(b.Bucket) {
			errs = append(errs, errorf(path+".bucket", "%q is not a valid S3 bucket name", b.Bucket))
		}
		kind := strings.ToLower(b.Kind)
		switch {
		case kind == "alb" || kind == "elb":
			if strings.HasPrefix(b.Prefix, "/") || strings.Contains(b.Prefix, "AWSLogs") {
				errs = append(errs, errorf(path+".prefix", "%q: a load balancer's log prefix neither starts with / nor holds AWSLogs (skymap adds /AWSLogs/...)", b.Prefix))
			}
		case kind == "cloudfront":
			if strings.HasPrefix(b.Prefix, "/") {
				errs = append(errs, errorf(path+".prefix", "%q: S3 keys do not start with /", b.Prefix))
			}
		default:
			errs = append(errs, errorf(path+".kind", "%q: want %s", b.Kind, strings.Join(logBucketKinds, ", ")))
		}
		if len(b.Prefix) > 512 {
			errs = append(errs, errorf(path+".prefix", "%d bytes: want at most 512", len(b.Prefix)))
		}
		if b.Account != "" && !partition.IsAccountID(b.Account) {
			errs = append(errs, errorf(path+".account", "%q: want a 12-digit account id", b.Account))
		}
		if b.Region == "" || b.Region == partition.Global || b.Region == partition.All || !partition.KnownRegion("", b.Region) {
			errs = append(errs, errorf(path+".region", "%q: want the bucket's region, such as eu-west-1", b.Region))
		}
		key := b
		key.Kind = kind
		if j, dup := seen[key]; dup {
			errs = append(errs, errorf(path, "the same bucket, prefix, kind, account and region as s3[%d]", j))
		}
		seen[key] = i
	}
	return errs
}

// s3 converts a validated logs.s3 and logs.s3_lookback.
func (l *rawLogs) s3() ([]LogBucket, time.Duration) {
	var out []LogBucket
	for _, b := range l.S3 {
		b.Kind = strings.ToLower(b.Kind)
		out = append(out, LogBucket(b))
	}
	d, _ := time.ParseDuration(l.S3Lookback) // validated
	return out, d
}

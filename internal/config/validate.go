package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/partition"
)

// KnownAPIs are the API names apis_to_run accepts: the StackState agent's
// names for the AWS services skymap collects. A collector is skipped when
// Instance.RunsAPI(its name) is false, so each name here must be a
// collector's name in internal/collect/inventory.
var KnownAPIs = []string{
	"apigateway", "apigatewayv2", "autoscaling",
	"cloudformation", "cloudfront",
	"dynamodb",
	"ec2", "ecs", "eks", "elasticache", "elb", "elbv2", "events",
	"firehose",
	"iam",
	"kinesis",
	"lambda",
	"rds", "redshift", "route53", "route53domains",
	"s3", "servicediscovery", "sns", "sqs", "stepfunctions",
}

// maxSeconds bounds every duration in the file, far above any sensible value
// and far below an overflow of time.Duration.
const maxSeconds = 365 * 24 * 60 * 60

// Validate checks the whole file, including what relates sections and
// instances to each other. Paths in its errors are from the document root.
func (r *rawConfig) Validate() error {
	errs := []error{prefix("init_config", r.InitConfig.Validate())}
	if len(r.Instances) == 0 {
		errs = append(errs, errorf("instances", "at least one instance is required"))
	}
	for i := range r.Instances {
		errs = append(errs, prefix(fmt.Sprintf("instances[%d]", i), r.Instances[i].Validate()))
	}
	errs = append(errs, r.validateDistinct()...)
	if !r.AWS.AllowRoleWithoutExternalID && r.InitConfig.ExternalID == "" &&
		slices.ContainsFunc(r.Instances, func(in rawInstance) bool { return in.RoleARN != "" }) {
		errs = append(errs, errorf("init_config.external_id",
			"required to assume a role_arn; to assume roles without one (unsafe) set aws.allow_role_without_external_id: true"))
	}
	// STS accepts external ids of 2 to 1224 characters; the value is secret, only its length is said.
	if n := len(r.InitConfig.ExternalID); n > 0 && r.InitConfig.ExternalID != disableExternalID && (n < 2 || n > 1224) {
		errs = append(errs, errorf("init_config.external_id", "length %d: want 2 to 1224 characters", n))
	}
	errs = append(errs,
		prefix("server", r.Server.Validate()),
		prefix("storage", r.Storage.Validate()),
		prefix("aws", r.AWS.Validate()),
		prefix("log", r.Log.Validate()),
		prefix("flowlogs", r.FlowLogs.Validate()),
		prefix("traces", r.Traces.Validate()),
		prefix("metrics", r.Metrics.validate(func(t string) bool { return metrics.SetFor(t) != nil })),
		prefix("health", r.Health.Validate()),
		prefix("logs", r.Logs.Validate()),
		prefix("stackstate", r.StackState.Validate()),
		prefix("otlp", r.OTLP.Validate()),
		prefix("devopsguru", r.DevOpsGuru.Validate()),
	)
	return errors.Join(errs...)
}

// validateDistinct reports instances that scan the same account twice or
// that share a name.
func (r *rawConfig) validateDistinct() []error {
	var errs []error
	roles := map[string]int{}
	names := map[string]int{}
	for i := range r.Instances {
		in := &r.Instances[i]
		path := fmt.Sprintf("instances[%d]", i)
		if j, dup := roles[in.RoleARN]; dup {
			if in.RoleARN == "" {
				errs = append(errs, errorf(path, "only one instance may omit role_arn (also instances[%d])", j))
			} else {
				errs = append(errs, errorf(path+".role_arn", "duplicate role ARN (also instances[%d])", j))
			}
			continue
		}
		roles[in.RoleARN] = i
		if _, err := parseRoleARN(in.RoleARN); in.RoleARN != "" && err != nil {
			continue // no account, so no default name to compare
		}
		name, _, _ := in.identity()
		if j, dup := names[name]; dup {
			errs = append(errs, errorf(path+".instance_name",
				"duplicate instance name %q (also instances[%d]); set instance_name to tell them apart", name, j))
			continue
		}
		names[name] = i
	}
	return errs
}

// Validate checks init_config.
func (c *rawInit) Validate() error {
	var errs []error
	switch {
	case c.AccessKeyID != "" && c.SecretAccessKey == "":
		errs = append(errs, errorf("aws_secret_access_key", "required with aws_access_key_id"))
	case c.AccessKeyID == "" && c.SecretAccessKey != "":
		errs = append(errs, errorf("aws_access_key_id", "required with aws_secret_access_key"))
	}
	errs = append(errs, checkSeconds("full_run_interval", c.FullRunInterval, false))
	return errors.Join(errs...)
}

// Validate checks one instance.
func (in *rawInstance) Validate() error {
	var errs []error
	rolePartition := ""
	if in.RoleARN != "" {
		if arn, err := parseRoleARN(in.RoleARN); err != nil {
			errs = append(errs, errorf("role_arn", "%v", err))
		} else {
			rolePartition = arn.Partition
		}
	}
	errs = append(errs, validateRegions(in.Regions, rolePartition)...)
	if in.CollectionInterval != nil {
		errs = append(errs, checkSeconds("collection_interval", *in.CollectionInterval, false))
	}
	if in.MinCollectionInterval != nil {
		errs = append(errs, checkSeconds("min_collection_interval", *in.MinCollectionInterval, false))
	}
	errs = append(errs, validateAPIs(in.APIsToRun)...)
	for _, b := range []struct{ key, name string }{
		{"log_bucket_name", in.LogBucketName},
		{"flowlog_bucket_name", in.FlowlogBucketName},
	} {
		if b.name != "" && !validBucket(b.name) {
			errs = append(errs, errorf(b.key, "%q is not a valid S3 bucket name", b.name))
		}
	}
	for _, q := range []struct{ key, url string }{
		{"events_queue_url", in.EventsQueueURL},
		{"flowlogs_queue_url", in.FlowLogsQueueURL},
	} {
		if q.url != "" && !validQueueURL(q.url) {
			errs = append(errs, errorf(q.key, "%q is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)", q.url))
		}
	}
	for i, t := range in.Tags {
		if strings.TrimSpace(t) == "" {
			errs = append(errs, errorf(fmt.Sprintf("tags[%d]", i), "empty tag"))
		}
	}
	return errors.Join(errs...)
}

// validateRegions checks an instance's regions. With rolePartition set every
// region must be in it; without, the regions must agree among themselves.
func validateRegions(regions []string, rolePartition string) []error {
	if len(regions) == 0 {
		return []error{errorf("regions", "at least one region is required (a region name, %q or %q)", partition.Global, partition.All)}
	}
	var errs []error
	seen := map[string]int{}
	all, named := false, false
	first := "" // without a role, the first named region sets the partition
	for i, r := range regions {
		path := fmt.Sprintf("regions[%d]", i)
		if j, dup := seen[r]; dup {
			errs = append(errs, errorf(path, "duplicate region %q (also regions[%d])", r, j))
			continue
		}
		seen[r] = i
		p, known := partition.OfRegion(r)
		switch {
		case r == partition.All:
			all = true
		case r == partition.Global:
		case r == "":
			errs = append(errs, errorf(path, "empty region"))
		case !known:
			errs = append(errs, errorf(path, "unknown region %q", r))
		case rolePartition != "" && !partition.KnownRegion(rolePartition, r):
			errs = append(errs, errorf(path, "region %q is in partition %s, but role_arn is in partition %s", r, p.ID, rolePartition))
		case rolePartition == "" && first == "":
			first, named = r, true
		case rolePartition == "":
			if fp, _ := partition.OfRegion(first); fp.ID != p.ID {
				errs = append(errs, errorf(path, "region %q is in partition %s, but %q is in partition %s; an instance scans one partition", r, p.ID, first, fp.ID))
			}
		default:
			named = true
		}
	}
	if all && named {
		errs = append(errs, errorf("regions", "%q cannot be combined with region names: it already covers every enabled region", partition.All))
	}
	return errs
}

// validateAPIs checks apis_to_run entries: "name" or "name|filter".
func validateAPIs(entries []string) []error {
	var errs []error
	seen := map[string]int{}
	for i, e := range entries {
		path := fmt.Sprintf("apis_to_run[%d]", i)
		name, filter, hasFilter := strings.Cut(e, "|")
		switch {
		case !slices.Contains(KnownAPIs, name):
			errs = append(errs, errorf(path, "unknown api %q%s", name, suggest(name, KnownAPIs)))
		case hasFilter && filter == "":
			errs = append(errs, errorf(path, `empty filter after "|"`))
		}
		if j, dup := seen[name]; dup {
			errs = append(errs, errorf(path, "api %q is listed twice (also apis_to_run[%d])", name, j))
		}
		seen[name] = i
	}
	return errs
}

// parseRoleARN parses an IAM role ARN, arn:<partition>:iam::<account>:role/<name>,
// of a known partition.
func parseRoleARN(s string) (partition.ARN, error) {
	a, ok := partition.ParseARN(s)
	if !ok || a.Service != "iam" || a.Region != "" ||
		!strings.HasPrefix(a.Resource, "role/") || strings.HasSuffix(a.Resource, "/") {
		return a, fmt.Errorf("%q is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)", s)
	}
	if _, ok := partition.ByID(a.Partition); !ok {
		return a, fmt.Errorf("unknown partition %q in %q", a.Partition, s)
	}
	if len(a.Account) != 12 || strings.Trim(a.Account, "0123456789") != "" {
		return a, fmt.Errorf("account id %q in %q is not 12 digits", a.Account, s)
	}
	return a, nil
}

// checkSeconds checks a number of seconds: positive, or zero when zeroOK,
// and at most maxSeconds.
func checkSeconds(path string, n int, zeroOK bool) error {
	switch {
	case n < 0 && zeroOK:
		return errorf(path, "must be 0 (none) or a positive number of seconds, got %d", n)
	case n < 0 || n == 0 && !zeroOK:
		return errorf(path, "must be a positive number of seconds, got %d", n)
	case n > maxSeconds:
		return errorf(path, "must be at most %d seconds (a year), got %d", maxSeconds, n)
	}
	return nil
}

// validBucket tells whether name follows the S3 bucket naming rules.
func validBucket(name string) bool {
	if len(name) < 3 || len(name) > 63 || strings.Contains(name, "..") {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := range len(name) {
		if c := name[i]; !alnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return alnum(name[0]) && alnum(name[len(name)-1])
}

// validQueueURL tells whether u looks like an SQS queue URL: http(s), a
// host, and a path of account and name.
func validQueueURL(q string) bool {
	u, err := url.Parse(q)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		len(strings.Split(strings.Trim(u.Path, "/"), "/")) == 2
}

package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// role is a valid role ARN with the external id it needs, for cases about
// something else.
const role = "init_config: {external_id: xy}\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // the error's lines, in order
	}{
		{"empty file", "", []string{
			"instances: at least one instance is required",
		}},
		{"external id too short", "init_config: {external_id: x}\ninstances: [{role_arn: 'arn:aws:iam::123456789012:role/r', regions: [global]}]\n", []string{
			"init_config.external_id: length 1: want 2 to 1224 characters (line 1)",
		}},
		{"traces out of range", role + "instances: [{role_arn: 'arn:aws:iam::123456789012:role/r', regions: [global]}]\n" +
			"traces: {relation_window: 10s, max_relations: 0}\n", []string{
			`traces.relation_window: "10s": want a duration from 1m to 720h, such as 1h (line 3)`,
			"traces.max_relations: 0: want 1 to 10000000 (line 3)",
		}},
		{"metrics of unknown types", role + "instances: [{role_arn: 'arn:aws:iam::123456789012:role/r', regions: [global]}]\n" +
			"metrics: {types: [aws.ec2.instance, aws.ec2.vpc], interval: 10s, tag_labels: ['']}\n", []string{
			`metrics.interval: "10s": want a duration from 1m to 24h, such as 5m (line 3)`,
			`metrics.types[1]: "aws.ec2.vpc": no CloudWatch metric set for that component type (line 3)`,
			"metrics.tag_labels[0]: an empty tag key (line 3)",
		}},
		{"health interval not positive", role + "instances: [{role_arn: 'arn:aws:iam::123456789012:role/r', regions: [global]}]\n" +
			"health: {interval: 0}\n", []string{
			"health.interval: must be a positive number of seconds, got 0 (line 3)",
		}},
		{"logs groups", role + "instances: [{role_arn: 'arn:aws:iam::123456789012:role/r', regions: [global]}]\n" +
			"logs: {poll_interval: 0, groups: [{component: '', group: 'a b'}, {component: x, group: 'arn:aws:logs:eu-west-1:1:log-group:/ok:*'}, {component: y, group: '/ecs/*'}]}\n", []string{
			"logs.poll_interval: must be a positive number of seconds, got 0 (line 3)",
			"logs.groups[0].component: must name a component by id or identifier (line 3)",
			`logs.groups[0].group: "a b": want a log group name (letters, digits, _-./#, at most 512), a name prefix ending in *, or a log group ARN (line 3)`,
		}},
		{"devopsguru out of range", role + "instances: [{role_arn: 'arn:aws:iam::123456789012:role/r', regions: [global]}]\n" +
			"devopsguru: {enabled: true, interval: 30s, lookback: 91d}\n", []string{
			`devopsguru.interval: "30s": want a duration from 1m to 24h, such as 15m (line 3)`,
			`devopsguru.lookback: "91d": want days such as 7d or a duration such as 36h, from 1h to 90d (line 3)`,
		}},
		{"devopsguru lookback not a duration", role + "instances: [{role_arn: 'arn:aws:iam::123456789012:role/r', regions: [global]}]\n" +
			"devopsguru:\n  lookback: 1w\n", []string{
			`devopsguru.lookback: "1w": want days such as 7d or a duration such as 36h, from 1h to 90d (line 4)`,
		}},
		{"only comments", "# nothing yet\n", []string{
			"instances: at least one instance is required",
		}},
		{"invalid YAML: a tab", "instances:\n\t- regions: [eu-west-1]\n", []string{
			"yaml: line 2: found character that cannot start any token",
		}},
		{"invalid YAML: bad indentation", "instances:\n  - regions: [global]\n bad: 1\n", []string{
			"yaml: line 2: did not find expected key",
		}},
		{"not a mapping", "- eu-west-1\n", []string{
			"expected a mapping, got a list (line 1)",
		}},
		{"two documents", "instances: [{regions: [eu-wst-1]}]\n---\nfoo: 1\n", []string{
			`instances[0].regions[0]: unknown region "eu-wst-1" (line 1)`,
			"a config file holds one YAML document; found a second (line 2)",
		}},
		{"unknown top-level key", "instances: [{regions: [global]}]\nsever: {listen: ':80'}\nextra: 1\n", []string{
			`sever: unknown key; did you mean "server"? (line 2)`,
			"extra: unknown key (line 3)",
		}},
		{"unknown key in an instance", "instances:\n  - regoins: [eu-west-1]\n", []string{
			`instances[0].regoins: unknown key; did you mean "regions"? (line 2)`,
			`instances[0].regions: at least one region is required (a region name, "global" or "all") (line 2)`,
		}},
		{"unknown region", role + "instances:\n  - role_arn: arn:aws:iam::123456789012:role/R\n    regions:\n      - global\n      - eu-wst-1\n", []string{
			`instances[0].regions[1]: unknown region "eu-wst-1" (line 6)`,
		}},
		{"region of another partition than the role", role + "instances:\n  - role_arn: arn:aws:iam::123456789012:role/R\n    regions: [cn-north-1]\n", []string{
			`instances[0].regions[0]: region "cn-north-1" is in partition aws-cn, but role_arn is in partition aws (line 4)`,
		}},
		{"regions of two partitions without a role", "instances:\n  - regions: [global, eu-west-1, cn-north-1]\n", []string{
			`instances[0].regions[2]: region "cn-north-1" is in partition aws-cn, but "eu-west-1" is in partition aws; an instance scans one partition (line 2)`,
		}},
		{"duplicate region, all with names, empty region", "instances:\n  - regions: [all, eu-west-1, eu-west-1, '']\n", []string{
			`instances[0].regions[2]: duplicate region "eu-west-1" (also regions[1]) (line 2)`,
			`instances[0].regions[3]: empty region (line 2)`,
			`instances[0].regions: "all" cannot be combined with region names: it already covers every enabled region (line 2)`,
		}},
		{"bad role ARNs", role + `instances:
  - {role_arn: foo, regions: [global]}
  - {role_arn: 'arn:aws:iam::12345:role/R', regions: [global]}
  - {role_arn: 'arn:aws-mars:iam::123456789012:role/R', regions: [global]}
  - {role_arn: 'arn:aws:iam::123456789012:user/R', regions: [global]}
`, []string{
			`instances[0].role_arn: "foo" is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>) (line 3)`,
			`instances[1].role_arn: account id "12345" in "arn:aws:iam::12345:role/R" is not 12 digits (line 4)`,
			`instances[2].role_arn: unknown partition "aws-mars" in "arn:aws-mars:iam::123456789012:role/R" (line 5)`,
			`instances[3].role_arn: "arn:aws:iam::123456789012:user/R" is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>) (line 6)`,
		}},
		{"wrong types", `init_config:
  full_run_interval: soon
  external_id: [a]
instances:
  - regions: eu-west-1
    min_collection_interval: 1.5
    empty_default_hostname: yes
    tags: {a: b}
    arns: [a]
log: text
`, []string{
			`init_config.full_run_interval: expected an integer, got "soon" (line 2)`,
			`init_config.external_id: expected a string, got a list (line 3)`,
			`instances[0].regions: expected a list, got "eu-west-1" (line 5)`,
			`instances[0].min_collection_interval: expected an integer, got "1.5" (line 6)`,
			`instances[0].empty_default_hostname: expected true or false, got "yes" (line 7)`,
			`instances[0].tags: expected a list, got a mapping (line 8)`,
			`instances[0].arns: expected a mapping, got a list (line 9)`,
			`log: expected a mapping, got "text" (line 10)`,
		}},
		{"duplicate keys", "instances:\n  - regions: [global, eu-wst-1]\n    regions: [eu-west-1]\naws:\n  endpoints: {s3: 'http://a', s3: 'http://b'}\n", []string{
			`instances[0].regions[1]: unknown region "eu-wst-1" (line 2)`,
			"instances[0].regions: duplicate key (first at line 2) (line 3)",
			"aws.endpoints.s3: duplicate key (first at line 5) (line 5)",
		}},
		{"keys that are not plain strings", "instances:\n  - &i {[a]: 1, regions: [global]}\n  - <<: *i\n", []string{
			"instances[0]: expected a string key, got a list (line 2)",
			"instances[1]: merge keys (<<) are not supported (line 3)",
		}},
		{"intervals", `init_config: {full_run_interval: 0}
instances:
  - regions: [global]
    collection_interval: -5
    min_collection_interval: 99999999999
aws: {request_timeout: -1}
`, []string{
			"init_config.full_run_interval: must be a positive number of seconds, got 0 (line 1)",
			"instances[0].collection_interval: must be a positive number of seconds, got -5 (line 4)",
			"instances[0].min_collection_interval: must be at most 31536000 seconds (a year), got 99999999999 (line 5)",
			"aws.request_timeout: must be 0 (none) or a positive number of seconds, got -1 (line 6)",
		}},
		{"apis_to_run", "instances:\n  - regions: [global]\n    apis_to_run: [ec3, 's3|', ec2, ec2, nosuchthing]\n", []string{
			`instances[0].apis_to_run[0]: unknown api "ec3"; did you mean "ec2"? (line 3)`,
			`instances[0].apis_to_run[1]: empty filter after "|" (line 3)`,
			`instances[0].apis_to_run[3]: api "ec2" is listed twice (also apis_to_run[2]) (line 3)`,
			`instances[0].apis_to_run[4]: unknown api "nosuchthing" (line 3)`,
		}},
		{"buckets and tags", "instances:\n  - regions: [global]\n    log_bucket_name: My_Bucket\n    flowlog_bucket_name: ab\n    tags: [' ']\n", []string{
			`instances[0].log_bucket_name: "My_Bucket" is not a valid S3 bucket name (line 3)`,
			`instances[0].flowlog_bucket_name: "ab" is not a valid S3 bucket name (line 4)`,
			`instances[0].tags[0]: empty tag (line 5)`,
		}},
		{"instances that are not distinct", role + `instances:
  - {role_arn: 'arn:aws:iam::123456789012:role/A', regions: [global]}
  - {role_arn: 'arn:aws:iam::123456789012:role/A', regions: [global]}
  - {role_arn: 'arn:aws:iam::123456789012:role/B', regions: [global]}
  - {instance_name: x, regions: [global]}
  - {instance_name: y, regions: [global]}
`, []string{
			"instances[1].role_arn: duplicate role ARN (also instances[0]) (line 4)",
			`instances[2].instance_name: duplicate instance name "123456789012" (also instances[0]); set instance_name to tell them apart (line 5)`,
			"instances[4]: only one instance may omit role_arn (also instances[3]) (line 7)",
		}},
		{"role without external id", "instances: [{role_arn: 'arn:aws:iam::123456789012:role/R', regions: [global]}]\n", []string{
			"init_config.external_id: required to assume a role_arn; to assume roles without one (unsafe) set aws.allow_role_without_external_id: true",
		}},
		{"sections", `instances: [{regions: [global]}]
server: {listen: 'localhost'}
storage: {data_dir: ''}
aws:
  endpoint_url: ftp://x
  endpoints: {'CloudWatch Logs': 'http://ok', sts: 'localhost:4566'}
  max_attempts: 0
  concurrency: -1
log: {level: verbose, format: xml}
`, []string{
			`server.listen: "localhost" is not a host:port address (e.g. 127.0.0.1:8080) (line 2)`,
			"storage.data_dir: must not be empty (line 3)",
			`aws.endpoint_url: "ftp://x" is not an http(s) URL with a host (line 5)`,
			`aws.endpoints["CloudWatch Logs"]: service id must be the lower-case SDK service id with underscores for spaces, e.g. ec2 or cloudwatch_logs (line 6)`,
			`aws.endpoints.sts: "localhost:4566" is not an http(s) URL with a host (line 6)`,
			"aws.max_attempts: must be at least 1, got 0 (line 7)",
			"aws.concurrency: must be at least 1, got -1 (line 8)",
			`log.level: unknown level "verbose" (debug, info, warn or error) (line 9)`,
			`log.format: unknown format "xml" (text or json) (line 9)`,
		}},
		{"many problems at once, in file order", `init_config:
  aws_access_key_id: AKIAIOSFODNN7EXAMPLE
  external_id: xy
  colour: blue
instances:
  - role_arn: arn:aws:iam::123456789012:role/R
    regions: [eu-wst-1]
    min_collection_interval: 0
log: {level: loud}
`, []string{
			"init_config.aws_secret_access_key: required with aws_access_key_id (line 1)",
			"init_config.colour: unknown key (line 4)",
			`instances[0].regions[0]: unknown region "eu-wst-1" (line 7)`,
			"instances[0].min_collection_interval: must be a positive number of seconds, got 0 (line 8)",
			`log.level: unknown level "loud" (debug, info, warn or error) (line 9)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse() = %+v, want errors", c)
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("Parse() error lines mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrorsAreFieldErrors(t *testing.T) {
	_, err := Parse([]byte("instances:\n  - regions: [global, eu-wst-1]\nfoo: 1\n"))
	var got []FieldError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v is not a *FieldError", e)
		}
		got = append(got, *fe)
	}
	want := []FieldError{
		{Path: "instances[0].regions[1]", Line: 2, Msg: `unknown region "eu-wst-1"`},
		{Path: "foo", Line: 3, Msg: "unknown key"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FieldErrors mismatch (-want +got):\n%s", diff)
	}
}

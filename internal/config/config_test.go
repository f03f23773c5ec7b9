package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// defaults returns the Config every test file starts from: nothing but the
// defaults of skymap's sections.
func defaults() Config {
	return Config{
		FullRunInterval: time.Hour,
		Server:          Server{Listen: "127.0.0.1:8080"},
		Storage:         Storage{DataDir: "./skymap-data", HistoryRetention: 90 * 24 * time.Hour},
		AWS:             AWS{MaxAttempts: 10, Concurrency: 8},
		Log:             Log{Level: slog.LevelInfo, Format: "text"},
		FlowLogs: FlowLogs{Enabled: true, PublicTraffic: "keep", RawRetention: 7 * 24 * time.Hour,
			RollupRetention: 30 * 24 * time.Hour, RelationWindow: time.Hour, PollInterval: time.Minute},
		Traces:  Traces{Enabled: true, RelationWindow: time.Hour, MaxRelations: 10000},
		Metrics: Metrics{Enabled: true, Interval: 5 * time.Minute},
		Health:  Health{Enabled: true, Interval: time.Minute},
		Logs:    Logs{Enabled: true, PollInterval: time.Minute, S3Lookback: time.Hour},
		// The stackstate section is off without a url.
		StackState: StackState{Interval: 5 * time.Minute, Timeout: 30 * time.Second, Compress: true},
		OTLP:       OTLP{Gzip: true, Timeout: 10 * time.Second, QueueSize: 10000, BatchSize: 1000},
		DevOpsGuru: DevOpsGuru{Interval: 15 * time.Minute, Lookback: 7 * 24 * time.Hour},
	}
}

func TestLoadStackStateExample(t *testing.T) {
	got, err := Load(filepath.Join("testdata", "stackstate-example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := defaults()
	want.ExternalID = "uniquesecret!1"
	want.Instances = []Instance{{
		Name:               "123456789012",
		RoleARN:            "arn:aws:iam::123456789012:role/StackStateAwsIntegrationRole",
		Account:            "123456789012",
		Partition:          "aws",
		Regions:            []string{"global", "eu-west-1"},
		CollectionInterval: 60 * time.Second,
		LogBucket:          "stackstate-logs-123456789012",
		FlowLogBucket:      "stackstate-flowlogs-123456789012",
	}}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Load() mismatch (-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want func(*Config) // changes to defaults()
	}{
		{
			name: "every key",
			yaml: `
init_config:
  aws_access_key_id: AKIAEXAMPLE
  aws_secret_access_key: secretexample
  external_id: 12345
  full_run_interval: 0x708
  service: aws
instances:
  - role_arn: arn:aws-cn:iam::210987654321:role/path/Reader
    instance_name: china
    regions: [cn-north-1, global]
    collection_interval: 30
    min_collection_interval: 90
    apis_to_run: [ec2, s3|my-bucket]
    log_bucket_name: my.logs
    flowlog_bucket_name: my-flowlogs
    tags: ['env:prod']
    arns: {ec2: 'arn:aws-cn:ec2:cn-north-1:210987654321:vpc/*'}
    empty_default_hostname: true
    service: aws
server: {listen: ':9090'}
storage: {data_dir: /var/lib/skymap, history_retention: 30d}
aws:
  endpoint_url: http://127.0.0.1:5000
  endpoints: {s3: 'https://s3.example.com', cloudwatch_logs: 'http://localhost:4566'}
  max_attempts: 3
  concurrency: 32
  allow_role_without_external_id: true
  request_timeout: 20
log: {level: DEBUG, format: json}
`,
			want: func(c *Config) {
				c.Credentials = Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "secretexample"}
				c.ExternalID = "12345"
				c.AllowRoleWithoutExternalID = true
				c.FullRunInterval = 30 * time.Minute
				c.Instances = []Instance{{
					Name:               "china",
					RoleARN:            "arn:aws-cn:iam::210987654321:role/path/Reader",
					Account:            "210987654321",
					Partition:          "aws-cn",
					Regions:            []string{"cn-north-1", "global"},
					CollectionInterval: 30 * time.Second,
					APIs:               []API{{Name: "ec2"}, {Name: "s3", Filter: "my-bucket"}},
					LogBucket:          "my.logs",
					FlowLogBucket:      "my-flowlogs",
					Tags:               []string{"env:prod"},
					ARNs:               map[string]string{"ec2": "arn:aws-cn:ec2:cn-north-1:210987654321:vpc/*"},
				}}
				c.Server.Listen = ":9090"
				c.Storage = Storage{DataDir: "/var/lib/skymap", HistoryRetention: 30 * 24 * time.Hour}
				c.AWS = AWS{
					EndpointURL: "http://127.0.0.1:5000",
					Endpoints:   map[string]string{"s3": "https://s3.example.com", "cloudwatch_logs": "http://localhost:4566"},
					MaxAttempts: 3, Concurrency: 32, RequestTimeout: 20 * time.Second,
				}
				c.Log = Log{Level: slog.LevelDebug, Format: "json"}
			},
		},
		{
			name: "no role: base credentials, default name, partition from regions",
			yaml: `
init_config:
instances:
  - regions: [all, global]
  - role_arn: arn:aws-us-gov:iam::123456789012:role/R
    regions: [us-gov-west-1]
    min_collection_interval: 120
aws:
  allow_role_without_external_id: true
`,
			want: func(c *Config) {
				c.AllowRoleWithoutExternalID = true
				c.Instances = []Instance{
					{Name: "default", Partition: "aws", Regions: []string{"all", "global"}, CollectionInterval: time.Minute},
					{
						Name: "123456789012", RoleARN: "arn:aws-us-gov:iam::123456789012:role/R", Account: "123456789012",
						Partition: "aws-us-gov", Regions: []string{"us-gov-west-1"}, CollectionInterval: 2 * time.Minute,
						LogBucket: "stackstate-logs-123456789012", FlowLogBucket: "stackstate-flowlogs-123456789012",
					},
				}
			},
		},
		{
			name: "stackstate opt-out of the external id, nulls keep defaults, anchors",
			yaml: `
init_config:
  external_id: disable_external_id_this_is_unsafe
  full_run_interval:
instances:
  - role_arn: arn:aws:iam::111111111111:role/R
    regions: &eu [eu-west-1, eu-central-1]
  - role_arn: arn:aws:iam::222222222222:role/R
    regions: *eu
server:
log: {level: ~}
`,
			want: func(c *Config) {
				c.AllowRoleWithoutExternalID = true
				for _, account := range []string{"111111111111", "222222222222"} {
					c.Instances = append(c.Instances, Instance{
						Name: account, RoleARN: "arn:aws:iam::" + account + ":role/R", Account: account, Partition: "aws",
						Regions: []string{"eu-west-1", "eu-central-1"}, CollectionInterval: time.Minute,
						LogBucket: "stackstate-logs-" + account, FlowLogBucket: "stackstate-flowlogs-" + account,
					})
				}
			},
		},
		{
			name: "devopsguru on, lookback in hours",
			yaml: `
instances: [{regions: [eu-west-1]}]
devopsguru: {enabled: true, interval: 5m, lookback: 36h}
`,
			want: func(c *Config) {
				c.Instances = []Instance{{Name: "default", Partition: "aws", Regions: []string{"eu-west-1"}, CollectionInterval: time.Minute}}
				c.DevOpsGuru = DevOpsGuru{Enabled: true, Interval: 5 * time.Minute, Lookback: 36 * time.Hour}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			want := defaults()
			tt.want(&want)
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExample(t *testing.T) {
	got, err := Parse(Example())
	if err != nil {
		t.Fatalf("Parse(Example()) error = %v", err)
	}
	want := defaults()
	want.ExternalID = "uniquesecret!1"
	want.Instances = []Instance{{
		Name:               "production",
		RoleARN:            "arn:aws:iam::123456789012:role/StackStateAwsIntegrationRole",
		Account:            "123456789012",
		Partition:          "aws",
		Regions:            []string{"global", "eu-west-1"},
		CollectionInterval: time.Minute,
		LogBucket:          "stackstate-logs-123456789012",
		FlowLogBucket:      "stackstate-flowlogs-123456789012",
		Tags:               []string{"env:production"},
	}}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Parse(Example()) mismatch (-want +got):\n%s", diff)
	}
	Example()[0] = 'X'
	if Example()[0] == 'X' {
		t.Error("Example() returned its own buffer; a caller changed it")
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load() error = %v, want fs.ErrNotExist", err)
	}
	if want := "read config " + path + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load() error = %q, want prefix %q", err, want)
	}
}

func TestLoadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("instances: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := "config " + path + ": instances: at least one instance is required (line 1)"
	if err == nil || err.Error() != want {
		t.Fatalf("Load() error = %v, want %q", err, want)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "instances" || fe.Line != 1 {
		t.Errorf("errors.As(FieldError) = %+v, want path instances on line 1", fe)
	}
}

func TestRunsAPI(t *testing.T) {
	tests := []struct {
		apis []API
		name string
		want bool
	}{
		{nil, "ec2", true},
		{[]API{{Name: "s3", Filter: "b"}}, "s3", true},
		{[]API{{Name: "s3"}}, "ec2", false},
	}
	for _, tt := range tests {
		if got := (Instance{APIs: tt.apis}).RunsAPI(tt.name); got != tt.want {
			t.Errorf("Instance{APIs: %v}.RunsAPI(%q) = %v, want %v", tt.apis, tt.name, got, tt.want)
		}
	}
}

func TestEventsQueueURL(t *testing.T) {
	doc := func(q string) []byte {
		return []byte("init_config:\n  external_id: abc123\ninstances:\n  - role_arn: arn:aws:iam::123456789012:role/r\n" +
			"    regions: [eu-west-1]\n    events_queue_url: " + q + "\n")
	}
	cfg, err := Parse(doc("https://sqs.eu-west-1.amazonaws.com/123456789012/skymap-events"))
	if err != nil || cfg.Instances[0].EventsQueue != "https://sqs.eu-west-1.amazonaws.com/123456789012/skymap-events" {
		t.Fatalf("valid queue URL: %v, %+v", err, cfg)
	}
	for _, bad := range []string{"skymap-events", "arn:aws:sqs:eu-west-1:123456789012:q", "https://sqs.eu-west-1.amazonaws.com/q"} {
		_, err := Parse(doc(bad))
		if err == nil || !strings.Contains(err.Error(), "instances[0].events_queue_url") {
			t.Errorf("events_queue_url %q: err %v, want one naming instances[0].events_queue_url", bad, err)
		}
	}
}

func TestHistoryRetention(t *testing.T) {
	doc := func(storage string) []byte {
		return []byte("instances: [{regions: [global]}]\n" + storage)
	}
	valid := []struct {
		storage string
		want    time.Duration
	}{
		{"", 90 * 24 * time.Hour},
		{"storage: {history_retention: ~}\n", 90 * 24 * time.Hour},
		{"storage: {history_retention: 30d}\n", 30 * 24 * time.Hour},
		{"storage: {history_retention: 36h}\n", 36 * time.Hour},
		{"storage: {history_retention: 1h30m}\n", 90 * time.Minute},
		{"storage: {history_retention: 36500d}\n", 36500 * 24 * time.Hour},
		{"storage: {history_retention: 0}\n", 0},
		{"storage: {history_retention: '0d'}\n", 0},
	}
	for _, tt := range valid {
		cfg, err := Parse(doc(tt.storage))
		if err != nil {
			t.Errorf("%q: %v", tt.storage, err)
			continue
		}
		if cfg.Storage.HistoryRetention != tt.want {
			t.Errorf("%q: retention %v, want %v", tt.storage, cfg.Storage.HistoryRetention, tt.want)
		}
	}
	invalid := []struct{ value, want string }{
		{"90", `"90" is not a duration: want days such as 90d, a duration such as 36h, or 0 to keep history forever`},
		{"forever", `"forever" is not a duration: want days such as 90d, a duration such as 36h, or 0 to keep history forever`},
		{"1.5d", `"1.5d" is not a duration: want days such as 90d, a duration such as 36h, or 0 to keep history forever`},
		{"+3d", `"+3d" is not a duration: want days such as 90d, a duration such as 36h, or 0 to keep history forever`},
		{"d", `"d" is not a duration: want days such as 90d, a duration such as 36h, or 0 to keep history forever`},
		{"''", `"" is not a duration: want days such as 90d, a duration such as 36h, or 0 to keep history forever`},
		{"-1d", `must not be negative, got "-1d"; 0 keeps history forever`},
		{"-5m", `must not be negative, got "-5m"; 0 keeps history forever`},
		{"-99999999999999999999d", `must not be negative, got "-99999999999999999999d"; 0 keeps history forever`},
		{"36501d", `must be at most 36500d (100 years), got "36501d"`},
		{"99999999999999999999d", `must be at most 36500d (100 years), got "99999999999999999999d"`},
		{"900000h", `must be at most 36500d (100 years), got "900000h"`},
	}
	for _, tt := range invalid {
		_, err := Parse(doc("storage:\n  history_retention: " + tt.value + "\n"))
		want := "storage.history_retention: " + tt.want + " (line 3)"
		if err == nil || err.Error() != want {
			t.Errorf("history_retention %s: error %v, want %q", tt.value, err, want)
		}
	}
}

func TestFlowLogsSection(t *testing.T) {
	doc := func(extra string) []byte {
		return []byte("instances: [{role_arn: 'arn:aws:iam::123456789012:role/r', regions: [global], flowlogs_queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/flows'}]\n" +
			"init_config: {external_id: abcdef}\n" + extra)
	}
	cfg, err := Parse(doc(""))
	if err != nil {
		t.Fatal(err)
	}
	want := FlowLogs{Enabled: true, PublicTraffic: "keep", RawRetention: 7 * 24 * time.Hour,
		RollupRetention: 30 * 24 * time.Hour, RelationWindow: time.Hour, PollInterval: time.Minute}
	if diff := cmp.Diff(want, cfg.FlowLogs); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if got := cfg.Instances[0].FlowLogsQueue; got != "https://sqs.eu-west-1.amazonaws.com/123456789012/flows" {
		t.Errorf("flowlogs_queue_url = %q", got)
	}
	cfg, err = Parse(doc("flowlogs: {enabled: false, delete_objects: true, public_traffic: Aggregate, raw_retention: 0, rollup_retention: 36h, relation_window: 15m, poll_interval: 30}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want = FlowLogs{DeleteObjects: true, PublicTraffic: "aggregate", RollupRetention: 36 * time.Hour,
		RelationWindow: 15 * time.Minute, PollInterval: 30 * time.Second}
	if diff := cmp.Diff(want, cfg.FlowLogs); diff != "" {
		t.Errorf("set (-want +got):\n%s", diff)
	}
	for _, tt := range []struct{ section, want string }{
		{"flowlogs: {public_traffic: hide}", `flowlogs.public_traffic: "hide": want keep, aggregate or drop`},
		{"flowlogs: {raw_retention: -1d}", `flowlogs.raw_retention: must not be negative`},
		{"flowlogs: {relation_window: 10s}", `flowlogs.relation_window: "10s": want a duration from 1m to 720h`},
		{"flowlogs: {poll_interval: 0}", `flowlogs.poll_interval: must be a positive number of seconds`},
		{"flowlogs: {colour: red}", `flowlogs.colour: unknown key`},
	} {
		_, err := Parse(doc(tt.section + "\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.section, err, tt.want)
		}
	}
	_, err = Parse([]byte("instances: [{regions: [global], flowlogs_queue_url: 'ftp://x'}]\n"))
	if err == nil || !strings.Contains(err.Error(), "instances[0].flowlogs_queue_url") {
		t.Errorf("bad flowlogs_queue_url: %v", err)
	}
}

func TestPostgresDSN(t *testing.T) {
	doc := func(dsn string) []byte {
		return []byte("instances: [{regions: [global]}]\nstorage:\n  postgres:\n    dsn: '" + dsn + "'\n")
	}
	for _, dsn := range []string{"", "postgres://skymap:pw@db.example:5432/skymap?sslmode=require", "host=db.example dbname=skymap password=pw"} {
		cfg, err := Parse(doc(dsn))
		if err != nil {
			t.Errorf("dsn %q: %v", dsn, err)
			continue
		}
		if got := cfg.Storage.PostgresDSN.Reveal(); got != dsn {
			t.Errorf("dsn %q: PostgresDSN %q", dsn, got)
		}
		if s := fmt.Sprintf("%v %+v", cfg.Storage, cfg.Storage); strings.Contains(s, "pw") {
			t.Errorf("dsn %q: the storage section prints the password: %s", dsn, s)
		}
	}
	for _, dsn := range []string{"pgsql-1", "postgres://skymap:pw@[pgsql-1"} {
		_, err := Parse(doc(dsn))
		if err == nil || !strings.HasPrefix(err.Error(), "storage.postgres.dsn: ") || strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "pgsql-1") {
			t.Errorf("dsn %q: error %v, want one naming storage.postgres.dsn without the value", dsn, err)
		}
	}
}

// Package config turns a YAML config file into a validated Config.
//
// The file is a StackState agent aws_topology check configuration
// (conf.d/aws_topology.d/conf.yaml), accepted unchanged, with optional skymap
// sections beside init_config and instances. Decoding is strict: unknown and
// duplicate keys and values of the wrong type are errors. Every problem is
// reported, each prefixed with its YAML path, e.g.
//
//	instances[0].regions[1]: unknown region "eu-wst-1" (line 12)
//
// Only this package imports YAML; the rest of skymap sees the domain types
// below.
package config

import (
	_ "embed"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"
)

// Config is a validated skymap configuration with defaults applied.
type Config struct {
	// Credentials are static keys for the base identity; both empty means the
	// SDK's default credential chain.
	Credentials Credentials
	// ExternalID is passed to sts:AssumeRole for every instance's role; empty
	// means none.
	ExternalID Secret
	// AllowRoleWithoutExternalID turns off the probe that refuses roles which
	// can be assumed without the external id. It is set by
	// aws.allow_role_without_external_id or, as in the StackState agent, by
	// external_id: disable_external_id_this_is_unsafe (ExternalID is then empty).
	AllowRoleWithoutExternalID bool
	// FullRunInterval is the time between full scans (full_run_interval, default 1h).
	FullRunInterval time.Duration
	// Instances are the AWS accounts to monitor; there is at least one.
	Instances []Instance
	// Server configures the HTTP server.
	Server Server
	// Storage configures where data is kept.
	Storage Storage
	// AWS tunes how the AWS APIs are called.
	AWS AWS
	// Log configures skymap's own log.
	Log Log
	// FlowLogs configures VPC flow-log ingestion (the flowlogs section).
	FlowLogs FlowLogs
	// Traces configures the OTLP trace receiver (the traces section).
	Traces Traces
	// Metrics configures CloudWatch metrics (the metrics section).
	Metrics Metrics
	// Health configures component health from alarms (the health section).
	Health Health
	// Logs configures CloudWatch Logs of components (the logs section).
	Logs Logs
	// StackState configures the push of the map to a StackState receiver
	// (the stackstate section).
	StackState StackState
	// OTLP configures the export of metrics and logs over OTLP/HTTP (the
	// otlp section).
	OTLP OTLP
	// DevOpsGuru configures DevOps Guru insights (the devopsguru section).
	DevOpsGuru DevOpsGuru
}

// Credentials are static AWS access keys. The zero value means "use the
// default credential chain".
type Credentials struct {
	// AccessKeyID is aws_access_key_id.
	AccessKeyID Secret
	// SecretAccessKey is aws_secret_access_key.
	SecretAccessKey Secret
}

// Instance is one monitored AWS account: a role to assume (or the base
// credentials) and the regions to scan there.
type Instance struct {
	// Name identifies the instance: instance_name, else the account id of
	// RoleARN, else "default".
	Name string
	// RoleARN is the IAM role to assume; empty means the base credentials are
	// used directly.
	RoleARN string
	// Account is the account id from RoleARN, "" when there is no RoleARN.
	Account string
	// Partition is the ARN partition of RoleARN; without a role it is the
	// partition of the configured regions, else "aws".
	Partition string
	// Regions are the configured regions in their order: region names,
	// "global" and "all" (see package partition).
	Regions []string
	// CollectionInterval is collection_interval, else min_collection_interval,
	// else 60s.
	CollectionInterval time.Duration
	// APIs are the APIs to collect (apis_to_run); empty means all of them.
	APIs []API
	// EventsQueue is events_queue_url: an SQS queue of EventBridge events
	// or of the log bucket's object notifications, read instead of polling
	// the log bucket; "" for none.
	EventsQueue string
	// LogBucket is log_bucket_name, default "stackstate-logs-<account>"; ""
	// when neither it nor the account is known.
	LogBucket string
	// FlowLogBucket is flowlog_bucket_name, default
	// "stackstate-flowlogs-<account>"; "" when neither it nor the account is known.
	FlowLogBucket string
	// FlowLogsQueue is flowlogs_queue_url: an SQS queue of the flow-log
	// bucket's object-created notifications (direct or through SNS), read
	// instead of listing the bucket; "" for none.
	FlowLogsQueue string
	// Tags are extra labels ("key:value" strings) for everything the instance
	// collects; nil when none.
	Tags []string
	// ARNs is the StackState arns map, kept as configured; nil when none.
	ARNs map[string]string
}

// API is one entry of apis_to_run: an API name from KnownAPIs and an optional
// filter, written "name|filter".
type API struct {
	// Name is the API, e.g. "s3".
	Name string
	// Filter is what followed "|", "" when nothing did.
	Filter string
}

// RunsAPI tells whether the instance collects the named API: true when APIs is
// empty or lists name.
func (i Instance) RunsAPI(name string) bool {
	return len(i.APIs) == 0 || slices.ContainsFunc(i.APIs, func(a API) bool { return a.Name == name })
}

// Server configures skymap's HTTP server.
type Server struct {
	// Listen is the host:port to listen on (server.listen, default 127.0.0.1:8080).
	Listen string
	// Auth is server.auth: the credentials the server asks for.
	Auth Auth
}

// Storage configures where skymap keeps its data.
type Storage struct {
	// DataDir is the data directory (storage.data_dir, default ./skymap-data).
	DataDir string
	// HistoryRetention is how long versions of the change history are kept
	// (storage.history_retention, default 90 days); zero keeps them forever.
	HistoryRetention time.Duration
	// PostgresDSN is storage.postgres.dsn: the connection string of the
	// PostgreSQL database holding the map, its history, state and views
	// instead of the data dir's SQLite. Empty means SQLite.
	PostgresDSN Secret
}

// FlowLogs configures VPC flow-log ingestion.
type FlowLogs struct {
	// Enabled is flowlogs.enabled (default true): read each instance's
	// flow-log bucket or queue.
	Enabled bool
	// DeleteObjects deletes each flow-log object once what it produced is
	// committed, as the StackState agent does (flowlogs.delete_objects,
	// default false: a checkpoint remembers what was read).
	DeleteObjects bool
	// PublicTraffic is what becomes of traffic with addresses outside the
	// monitored VPCs (flowlogs.public_traffic): "keep" attributes it to
	// urn:host:/<ip> (default), "aggregate" to one urn:host:/internet,
	// "drop" leaves it out of rollups and relations.
	PublicTraffic string
	// RawRetention is how long raw flow-log objects are kept for SQL
	// (flowlogs.raw_retention, default 7 days); zero keeps them forever.
	RawRetention time.Duration
	// RollupRetention is how long per-minute rollups are kept
	// (flowlogs.rollup_retention, default 30 days); zero keeps them forever.
	RollupRetention time.Duration
	// RelationWindow is how far back traffic makes a flowlog relation
	// (flowlogs.relation_window, default 1h).
	RelationWindow time.Duration
	// PollInterval is how often flow-log buckets are listed
	// (flowlogs.poll_interval in seconds, default 60).
	PollInterval time.Duration
}

// Traces configures the OTLP/HTTP trace receiver of skymap serve.
type Traces struct {
	// Enabled is traces.enabled (default true): POST /v1/traces on the
	// API listener turns spans into uses-service relations.
	Enabled bool
	// RelationWindow is how long a trace relation lives without calls and
	// how far back its figures count (traces.relation_window, default 1h).
	RelationWindow time.Duration
	// MaxRelations bounds the trace relations held in memory
	// (traces.max_relations, default 10000).
	MaxRelations int
}

// Metrics configures CloudWatch metrics.
type Metrics struct {
	// Enabled is metrics.enabled (default true): the API fetches a
	// component's default metric set when asked.
	Enabled bool
	// Types are the component types whose default sets are also fetched
	// every Interval and exported at /metrics (metrics.types, default
	// none: CloudWatch charges per metric requested).
	Types []string
	// Interval is metrics.interval (default 5m).
	Interval time.Duration
	// TagLabels are the tags exported as tag_<key> labels
	// (metrics.tag_labels).
	TagLabels []string
}

// Logs configures CloudWatch Logs of components in skymap serve.
type Logs struct {
	// Enabled is logs.enabled (default true): GET
	// /api/components/{id}/logs reads the component's log groups.
	Enabled bool
	// PollInterval is how often the periodic reader reads the groups
	// (logs.poll_interval in seconds, default 60, StackState's cadence).
	PollInterval time.Duration
	// Groups map log groups to components beyond skymap's table
	// (logs.groups); nil when none.
	Groups []LogGroup
	// S3 are the buckets load balancers and CloudFront deliver their
	// logs to (logs.s3); nil when none.
	S3 []LogBucket
	// S3Lookback is how far back, by the time in their keys, the
	// periodic reader reads the objects of logs.s3 (logs.s3_lookback,
	// default 1h); at its first poll it starts there.
	S3Lookback time.Duration
}

// LogGroup maps a log group to a component (an item of logs.groups).
type LogGroup struct {
	// Component is the component's id or any of its identifiers.
	Component string
	// Group is a log group name, a name prefix ending in "*", or a log
	// group ARN.
	Group string
}

// AWS tunes how skymap calls AWS.
type AWS struct {
	// EndpointURL overrides the endpoint of every service, like
	// AWS_ENDPOINT_URL; "" means none.
	EndpointURL string
	// Endpoints overrides the endpoint of single services, keyed by the
	// lower-case SDK service id with spaces as underscores (ec2,
	// cloudwatch_logs); nil when none.
	Endpoints map[string]string
	// MaxAttempts is the SDK's retry attempts per call, at least 1 (default 10).
	MaxAttempts int
	// Concurrency is the number of concurrent API calls per scan, at least 1
	// (default 8).
	Concurrency int
	// RequestTimeout bounds each API call; zero means no bound.
	RequestTimeout time.Duration
}

// Log configures skymap's own log.
type Log struct {
	// Level is the lowest level logged (default info).
	Level slog.Level
	// Format is "text" or "json" (default text).
	Format string
}

// Parse decodes and validates a config file's contents. The error, if any,
// joins (errors.Join) one *FieldError per problem found.
func Parse(data []byte) (*Config, error) {
	raw := defaultConfig()
	d := newDecoder()
	if err := d.document(data, &raw); err != nil {
		return nil, err
	}
	problems := d.errs
	for _, fe := range flatten(raw.Validate()) {
		if d.failedAt(fe.Path) {
			continue // already reported while decoding
		}
		fe.Line = d.line(fe.Path)
		problems = append(problems, fe)
	}
	if len(problems) > 0 {
		scrub(problems, append(append(raw.OTLP.secrets(), raw.Server.Auth.secrets()...), raw.InitConfig.AccessKeyID, raw.InitConfig.SecretAccessKey, raw.InitConfig.ExternalID,
			raw.StackState.APIKey)...)
		return nil, join(problems)
	}
	return raw.config(), nil
}

// Load reads and parses the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

//go:embed example.yaml
var example []byte

// Example returns a commented example config that Parse accepts: the
// StackState agent keys and skymap's own sections with their defaults.
func Example() []byte {
	return slices.Clone(example)
}

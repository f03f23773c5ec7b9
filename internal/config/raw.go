package config

import (
	"cmp"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/partition"
)

// disableExternalID is the StackState agent's explicit, unsafe opt-out: as
// external_id it means "assume roles without an external id".
const disableExternalID = "disable_external_id_this_is_unsafe"

// Defaults, in the units of the file.
const (
	defaultFullRunInterval    = 3600 // seconds
	defaultCollectionInterval = 60   // seconds
	defaultListen             = "127.0.0.1:8080"
	defaultDataDir            = "./skymap-data"
	defaultHistoryRetention   = "90d"
	defaultMaxAttempts        = 10
	defaultConcurrency        = 8
	defaultLogLevel           = "info"
	defaultLogFormat          = "text"
	defaultPublicTraffic      = "keep"
	defaultRawRetention       = "7d"
	defaultRollupRetention    = "30d"
	defaultRelationWindow     = "1h"
	defaultFlowPollInterval   = 60 // seconds
	defaultTraceMaxRelations  = 10000
	defaultMetricsInterval    = "5m"
	defaultLogsPollInterval   = 60 // seconds
	defaultLogsS3Lookback     = "1h"
)

// rawConfig mirrors the file: the StackState agent check's init_config and
// instances, and skymap's own sections.
type rawConfig struct {
	InitConfig rawInit       `yaml:"init_config"`
	Instances  []rawInstance `yaml:"instances"`
	Server     rawServer     `yaml:"server"`
	Storage    rawStorage    `yaml:"storage"`
	AWS        rawAWS        `yaml:"aws"`
	Log        rawLog        `yaml:"log"`
	FlowLogs   rawFlowLogs   `yaml:"flowlogs"`
	Traces     rawTraces     `yaml:"traces"`
	Metrics    rawMetrics    `yaml:"metrics"`
	Health     rawHealth     `yaml:"health"`
	Logs       rawLogs       `yaml:"logs"`
	StackState rawStackState `yaml:"stackstate"`
	OTLP       rawOTLP       `yaml:"otlp"`
	DevOpsGuru rawDevOpsGuru `yaml:"devopsguru"`
}

// rawInit is the StackState init_config: settings for every instance.
type rawInit struct {
	AccessKeyID     Secret `yaml:"aws_access_key_id"`
	SecretAccessKey Secret `yaml:"aws_secret_access_key"`
	ExternalID      Secret `yaml:"external_id"`
	FullRunInterval int    `yaml:"full_run_interval"` // seconds
	Service         string `yaml:"service"`           // agent generic key, ignored
}

// rawInstance is one StackState instance: an account, through a role.
type rawInstance struct {
	RoleARN               string            `yaml:"role_arn"`
	Regions               []string          `yaml:"regions"`
	CollectionInterval    *int              `yaml:"collection_interval"`     // seconds
	MinCollectionInterval *int              `yaml:"min_collection_interval"` // seconds
	APIsToRun             []string          `yaml:"apis_to_run"`             // "name" or "name|filter"
	LogBucketName         string            `yaml:"log_bucket_name"`
	FlowlogBucketName     string            `yaml:"flowlog_bucket_name"`
	Tags                  []string          `yaml:"tags"`
	ARNs                  map[string]string `yaml:"arns"`
	InstanceName          string            `yaml:"instance_name"`          // skymap
	EventsQueueURL        string            `yaml:"events_queue_url"`       // skymap
	FlowLogsQueueURL      string            `yaml:"flowlogs_queue_url"`     // skymap
	EmptyDefaultHostname  bool              `yaml:"empty_default_hostname"` // agent generic key, ignored
	Service               string            `yaml:"service"`                // agent generic key, ignored
}

// rawServer is skymap's server section.
type rawServer struct {
	Listen string  `yaml:"listen"`
	Auth   rawAuth `yaml:"auth"`
}

// rawStorage is skymap's storage section.
type rawStorage struct {
	DataDir          string      `yaml:"data_dir"`
	HistoryRetention string      `yaml:"history_retention"` // "90d", "36h" or "0" (forever)
	Postgres         rawPostgres `yaml:"postgres"`
}

// rawPostgres is the storage.postgres section.
type rawPostgres struct {
	DSN Secret `yaml:"dsn"`
}

// rawAWS is skymap's aws section.
type rawAWS struct {
	EndpointURL                string            `yaml:"endpoint_url"`
	Endpoints                  map[string]string `yaml:"endpoints"`
	MaxAttempts                int               `yaml:"max_attempts"`
	Concurrency                int               `yaml:"concurrency"`
	AllowRoleWithoutExternalID bool              `yaml:"allow_role_without_external_id"`
	RequestTimeout             int               `yaml:"request_timeout"` // seconds, 0 = none
}

// rawFlowLogs is skymap's flowlogs section.
type rawFlowLogs struct {
	Enabled         *bool  `yaml:"enabled"`
	DeleteObjects   bool   `yaml:"delete_objects"`
	PublicTraffic   string `yaml:"public_traffic"`   // keep, aggregate or drop
	RawRetention    string `yaml:"raw_retention"`    // like storage.history_retention
	RollupRetention string `yaml:"rollup_retention"` // like storage.history_retention
	RelationWindow  string `yaml:"relation_window"`  // a duration
	PollInterval    int    `yaml:"poll_interval"`    // seconds
}

// rawMetrics is skymap's metrics section.
type rawMetrics struct {
	Enabled   *bool    `yaml:"enabled"`
	Types     []string `yaml:"types"`
	Interval  string   `yaml:"interval"` // a duration
	TagLabels []string `yaml:"tag_labels"`
}

// rawTraces is skymap's traces section.
type rawTraces struct {
	Enabled        *bool  `yaml:"enabled"`
	RelationWindow string `yaml:"relation_window"` // a duration
	MaxRelations   int    `yaml:"max_relations"`
}

// rawLogs is skymap's logs section.
type rawLogs struct {
	Enabled      *bool          `yaml:"enabled"`
	PollInterval int            `yaml:"poll_interval"` // seconds
	Groups       []rawLogGroup  `yaml:"groups"`
	S3           []rawLogBucket `yaml:"s3"`
	S3Lookback   string         `yaml:"s3_lookback"` // a duration
}

// rawLogGroup is an item of logs.groups.
type rawLogGroup struct {
	Component string `yaml:"component"`
	Group     string `yaml:"group"`
}

// rawLog is skymap's log section.
type rawLog struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// defaultConfig returns the file's settings before the file is read.
// Instances have no defaults here: theirs depend on other keys and are
// applied in instance.
func defaultConfig() rawConfig {
	return rawConfig{
		InitConfig: rawInit{FullRunInterval: defaultFullRunInterval},
		Server:     rawServer{Listen: defaultListen},
		Storage:    rawStorage{DataDir: defaultDataDir, HistoryRetention: defaultHistoryRetention},
		AWS:        rawAWS{MaxAttempts: defaultMaxAttempts, Concurrency: defaultConcurrency},
		Log:        rawLog{Level: defaultLogLevel, Format: defaultLogFormat},
		FlowLogs: rawFlowLogs{PublicTraffic: defaultPublicTraffic, RawRetention: defaultRawRetention,
			RollupRetention: defaultRollupRetention, RelationWindow: defaultRelationWindow, PollInterval: defaultFlowPollInterval},
		Traces:  rawTraces{RelationWindow: defaultRelationWindow, MaxRelations: defaultTraceMaxRelations},
		Metrics: rawMetrics{Interval: defaultMetricsInterval},
		Health:  rawHealth{Interval: defaultHealthInterval},
		Logs:    rawLogs{PollInterval: defaultLogsPollInterval, S3Lookback: defaultLogsS3Lookback},
		// The stackstate section's defaults are in stackstate.go.
		StackState: rawStackState{Interval: defaultStackStateInterval, Timeout: defaultStackStateTimeout},
		OTLP:       defaultOTLP(),
		DevOpsGuru: rawDevOpsGuru{Interval: defaultDevOpsGuruInterval, Lookback: defaultDevOpsGuruLookback},
	}
}

// logLevels maps log.level to slog levels.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// config converts a validated rawConfig to a Config.
func (r *rawConfig) config() *Config {
	c := &Config{
		Credentials: Credentials{
			AccessKeyID:     r.InitConfig.AccessKeyID,
			SecretAccessKey: r.InitConfig.SecretAccessKey,
		},
		ExternalID:                 r.InitConfig.ExternalID,
		AllowRoleWithoutExternalID: r.AWS.AllowRoleWithoutExternalID,
		FullRunInterval:            seconds(r.InitConfig.FullRunInterval),
		Server:                     Server{Listen: r.Server.Listen, Auth: r.Server.Auth.auth()},
		Storage:                    r.Storage.storage(),
		FlowLogs:                   r.FlowLogs.flowLogs(),
		Traces:                     r.Traces.traces(),
		Metrics:                    r.Metrics.metrics(),
		Health:                     r.Health.health(),
		Logs:                       r.Logs.logs(),
		StackState:                 r.StackState.stackState(),
		OTLP:                       r.OTLP.otlp(),
		DevOpsGuru:                 r.DevOpsGuru.devOpsGuru(),
		AWS: AWS{
			EndpointURL:    r.AWS.EndpointURL,
			MaxAttempts:    r.AWS.MaxAttempts,
			Concurrency:    r.AWS.Concurrency,
			RequestTimeout: seconds(r.AWS.RequestTimeout),
		},
		Log: Log{Level: logLevels[strings.ToLower(r.Log.Level)], Format: strings.ToLower(r.Log.Format)},
	}
	if c.ExternalID == disableExternalID {
		c.ExternalID = ""
		c.AllowRoleWithoutExternalID = true
	}
	if len(r.AWS.Endpoints) > 0 {
		c.AWS.Endpoints = maps.Clone(r.AWS.Endpoints)
	}
	for _, in := range r.Instances {
		c.Instances = append(c.Instances, in.instance())
	}
	return c
}

// storage converts a validated rawStorage to a Storage.
func (s *rawStorage) storage() Storage {
	retention, _ := parseRetention(s.HistoryRetention) // validated
	return Storage{DataDir: s.DataDir, HistoryRetention: retention, PostgresDSN: s.Postgres.DSN}
}

// flowLogs converts a validated rawFlowLogs to a FlowLogs.
func (f *rawFlowLogs) flowLogs() FlowLogs {
	raw, _ := parseRetention(f.RawRetention) // validated
	rollups, _ := parseRetention(f.RollupRetention)
	window, _ := time.ParseDuration(f.RelationWindow)
	return FlowLogs{
		Enabled:         f.Enabled == nil || *f.Enabled,
		DeleteObjects:   f.DeleteObjects,
		PublicTraffic:   strings.ToLower(f.PublicTraffic),
		RawRetention:    raw,
		RollupRetention: rollups,
		RelationWindow:  window,
		PollInterval:    seconds(f.PollInterval),
	}
}

// metrics converts a validated rawMetrics to a Metrics.
func (m *rawMetrics) metrics() Metrics {
	every, _ := time.ParseDuration(m.Interval) // validated
	return Metrics{Enabled: m.Enabled == nil || *m.Enabled, Types: slices.Clip(nilIfEmpty(m.Types)), Interval: every,
		TagLabels: slices.Clip(nilIfEmpty(m.TagLabels))}
}

// nilIfEmpty returns s, or nil when it holds nothing.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// traces converts a validated rawTraces to a Traces.
func (t *rawTraces) traces() Traces {
	window, _ := time.ParseDuration(t.RelationWindow) // validated
	return Traces{Enabled: t.Enabled == nil || *t.Enabled, RelationWindow: window, MaxRelations: t.MaxRelations}
}

// logs converts a validated rawLogs to a Logs.
func (l *rawLogs) logs() Logs {
	out := Logs{Enabled: l.Enabled == nil || *l.Enabled, PollInterval: seconds(l.PollInterval)}
	for _, g := range l.Groups {
		out.Groups = append(out.Groups, LogGroup(g))
	}
	out.S3, out.S3Lookback = l.s3()
	return out
}

// instance converts a validated rawInstance to an Instance, with defaults.
func (in *rawInstance) instance() Instance {
	name, account, part := in.identity()
	i := Instance{
		Name:               name,
		RoleARN:            in.RoleARN,
		Account:            account,
		Partition:          part,
		Regions:            slices.Clone(in.Regions),
		CollectionInterval: seconds(defaultCollectionInterval),
		LogBucket:          in.LogBucketName,
		EventsQueue:        in.EventsQueueURL,
		FlowLogBucket:      in.FlowlogBucketName,
		FlowLogsQueue:      in.FlowLogsQueueURL,
	}
	if s := cmp.Or(in.CollectionInterval, in.MinCollectionInterval); s != nil {
		i.CollectionInterval = seconds(*s)
	}
	if account != "" {
		i.LogBucket = cmp.Or(i.LogBucket, "stackstate-logs-"+account)
		i.FlowLogBucket = cmp.Or(i.FlowLogBucket, "stackstate-flowlogs-"+account)
	}
	for _, e := range in.APIsToRun {
		name, filter, _ := strings.Cut(e, "|")
		i.APIs = append(i.APIs, API{Name: name, Filter: filter})
	}
	if len(in.Tags) > 0 {
		i.Tags = slices.Clone(in.Tags)
	}
	if len(in.ARNs) > 0 {
		i.ARNs = maps.Clone(in.ARNs)
	}
	return i
}

// identity returns the instance's name, account and partition. With a
// role_arn that parses they come from it; without one the account is unknown
// and the partition is that of the regions, else "aws".
func (in *rawInstance) identity() (name, account, part string) {
	part = regionsPartition(in.Regions)
	if arn, err := parseRoleARN(in.RoleARN); in.RoleARN != "" && err == nil {
		account, part = arn.Account, arn.Partition
	}
	return cmp.Or(in.InstanceName, account, "default"), account, part
}

// regionsPartition returns the partition of the first region that has one,
// else "aws".
func regionsPartition(regions []string) string {
	for _, r := range regions {
		if p, ok := partition.OfRegion(r); ok {
			return p.ID
		}
	}
	return "aws"
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OTLP configures the export of CloudWatch metrics and log events to an
// OpenTelemetry endpoint over OTLP/HTTP (the otlp section). The zero value
// exports nothing.
type OTLP struct {
	// MetricsURL is where metrics are posted: otlp.metrics_endpoint, else
	// otlp.endpoint with /v1/metrics appended to its path; "" when metrics
	// are not exported (no URL, or not in otlp.signals).
	MetricsURL string
	// LogsURL is where log records are posted: otlp.logs_endpoint, else
	// otlp.endpoint with /v1/logs appended; "" when logs are not exported.
	LogsURL string
	// Headers are added to every request (otlp.headers), such as an API
	// key; nil when none. Their values are secrets: never print them.
	Headers map[string]Secret
	// Gzip compresses request bodies (otlp.compression: gzip, the
	// default; none sends them as they are).
	Gzip bool
	// Timeout bounds each request (otlp.timeout in seconds, default 10).
	Timeout time.Duration
	// QueueSize bounds the points, and the log records, waiting to be sent
	// (otlp.queue_size, default 10000 of each); when full the oldest are
	// dropped.
	QueueSize int
	// BatchSize is the most points or log records in one request
	// (otlp.batch_size, default 1000).
	BatchSize int
}

// Enabled tells whether a signal is exported.
func (o OTLP) Enabled() bool { return o.MetricsURL != "" || o.LogsURL != "" }

// Defaults of the otlp section, in the units of the file.
const (
	defaultOTLPCompression = "gzip"
	defaultOTLPTimeout     = 10 // seconds
	defaultOTLPQueueSize   = 10000
	defaultOTLPBatchSize   = 1000
)

// otlpSignals are what otlp.signals may list.
var otlpSignals = []string{"metrics", "logs"}

// otlpReservedHeaders are the headers skymap sets itself on each request:
// otlp.headers may not set them.
var otlpReservedHeaders = []string{"content-type", "content-encoding", "content-length", "host", "transfer-encoding", "connection"}

// rawOTLP is skymap's otlp section.
type rawOTLP struct {
	Endpoint        string            `yaml:"endpoint"`
	MetricsEndpoint string            `yaml:"metrics_endpoint"`
	LogsEndpoint    string            `yaml:"logs_endpoint"`
	Headers         map[string]Secret `yaml:"headers"`
	Compression     string            `yaml:"compression"` // gzip or none
	Timeout         int               `yaml:"timeout"`     // seconds
	Signals         []string          `yaml:"signals"`     // metrics, logs
	QueueSize       int               `yaml:"queue_size"`
	BatchSize       int               `yaml:"batch_size"`
}

// defaultOTLP returns the otlp section before the file is read.
func defaultOTLP() rawOTLP {
	return rawOTLP{Compression: defaultOTLPCompression, Timeout: defaultOTLPTimeout, Signals: slices.Clone(otlpSignals),
		QueueSize: defaultOTLPQueueSize, BatchSize: defaultOTLPBatchSize}
}

// Validate checks the otlp section. Messages never quote a header's value.
func (o *rawOTLP) Validate() error {
	var errs []error
	for _, e := range []struct{ key, url string }{
		{"endpoint", o.Endpoint},
		{"metrics_endpoint", o.MetricsEndpoint},
		{"logs_endpoint", o.LogsEndpoint},
	} {
		if e.url != "" {
			if err := checkURL(e.url); err != nil {
				errs = append(errs, errorf(e.key, "%v", err))
			}
		}
	}
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(o.Headers)) {
		path := childPath("headers", name)
		lower := strings.ToLower(name)
		switch {
		case !validHeaderName(name):
			errs = append(errs, errorf(path, "not an HTTP header name (letters, digits and !#$%%&'*+-.^_`|~)"))
		case slices.Contains(otlpReservedHeaders, lower):
			errs = append(errs, errorf(path, "skymap sets this header itself"))
		case seen[lower] != "":
			errs = append(errs, errorf(path, "the same header as %q (names are case-insensitive)", seen[lower]))
		}
		seen[lower] = name
		switch v := o.Headers[name].Reveal(); {
		case v == "":
			errs = append(errs, errorf(path, "empty value"))
		case !validHeaderValue(v):
			errs = append(errs, errorf(path, "the value holds a line break or another control character"))
		}
	}
	if c := strings.ToLower(o.Compression); c != "gzip" && c != "none" {
		errs = append(errs, errorf("compression", "%q: want gzip or none", o.Compression))
	}
	errs = append(errs, checkSeconds("timeout", o.Timeout, false))
	for i, s := range o.Signals {
		path := fmt.Sprintf("signals[%d]", i)
		if !slices.Contains(otlpSignals, s) {
			errs = append(errs, errorf(path, "unknown signal %q (metrics or logs)", s))
		} else if j := slices.Index(o.Signals, s); j < i {
			errs = append(errs, errorf(path, "signal %q is listed twice (also signals[%d])", s, j))
		}
	}
	if o.QueueSize < 1 || o.QueueSize > 10_000_000 {
		errs = append(errs, errorf("queue_size", "%d: want 1 to 10000000", o.QueueSize))
	}
	if o.BatchSize < 1 || o.BatchSize > 100_000 {
		errs = append(errs, errorf("batch_size", "%d: want 1 to 100000", o.BatchSize))
	}
	return errors.Join(errs...)
}

// validHeaderName tells whether s is an HTTP field name (an RFC 9110 token).
func validHeaderName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~") == ""
}

// validHeaderValue tells whether s can be sent as an HTTP field value: no
// control character but tab, no leading or trailing blank.
func validHeaderValue(s string) bool {
	for _, r := range s {
		if r < ' ' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return strings.TrimSpace(s) == s
}

// secrets returns the header values, for scrub.
func (o *rawOTLP) secrets() []Secret { return slices.Collect(maps.Values(o.Headers)) }

// otlp converts a validated rawOTLP to an OTLP.
func (o *rawOTLP) otlp() OTLP {
	out := OTLP{Gzip: strings.ToLower(o.Compression) == "gzip", Timeout: seconds(o.Timeout), QueueSize: o.QueueSize,
		BatchSize: o.BatchSize}
	if slices.Contains(o.Signals, "metrics") {
		out.MetricsURL = signalURL(o.MetricsEndpoint, o.Endpoint, "metrics")
	}
	if slices.Contains(o.Signals, "logs") {
		out.LogsURL = signalURL(o.LogsEndpoint, o.Endpoint, "logs")
	}
	if len(o.Headers) > 0 {
		out.Headers = maps.Clone(o.Headers)
	}
	return out
}

// signalURL is a signal's URL: its own endpoint as it is, else the common
// one with /v1/<signal> appended to its path (the OTLP exporters'
// convention), else "".
func signalURL(own, common, signal string) string {
	if own != "" || common == "" {
		return own
	}
	u, err := url.Parse(common)
	if err != nil {
		return "" // validated
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/" + signal
	u.RawPath = ""
	return u.String()
}

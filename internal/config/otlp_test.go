package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// instance is the smallest valid instances section, for cases about
// something else.
const instance = "instances: [{regions: [eu-west-1]}]\n"

// apiKey is a header value that must never be printed back.
const apiKey = "sk-otlp-0123456789abcdef"

func TestOTLPSection(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want OTLP
	}{
		{"absent: off", "", OTLP{Gzip: true, Timeout: 10 * time.Second, QueueSize: 10000, BatchSize: 1000}},
		{"an endpoint: both signals under it", "otlp: {endpoint: 'http://127.0.0.1:4318'}\n",
			OTLP{MetricsURL: "http://127.0.0.1:4318/v1/metrics", LogsURL: "http://127.0.0.1:4318/v1/logs", Gzip: true,
				Timeout: 10 * time.Second, QueueSize: 10000, BatchSize: 1000}},
		{"every key", `otlp:
  endpoint: https://otlp.example.com/base/?tenant=a
  logs_endpoint: https://logs.example.com/ingest
  headers: {X-Api-Key: ` + apiKey + `, Authorization: Bearer t0ken}
  compression: NONE
  timeout: 3
  signals: [logs, metrics]
  queue_size: 50
  batch_size: 5
`, OTLP{MetricsURL: "https://otlp.example.com/base/v1/metrics?tenant=a", LogsURL: "https://logs.example.com/ingest",
			Headers: map[string]Secret{"X-Api-Key": apiKey, "Authorization": "Bearer t0ken"}, Timeout: 3 * time.Second,
			QueueSize: 50, BatchSize: 5}},
		{"one signal", "otlp: {endpoint: 'https://o.example.com', signals: [metrics]}\n",
			OTLP{MetricsURL: "https://o.example.com/v1/metrics", Gzip: true, Timeout: 10 * time.Second, QueueSize: 10000, BatchSize: 1000}},
		{"a signal endpoint alone", "otlp: {logs_endpoint: 'https://o.example.com/l'}\n",
			OTLP{LogsURL: "https://o.example.com/l", Gzip: true, Timeout: 10 * time.Second, QueueSize: 10000, BatchSize: 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(instance + tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.OTLP); diff != "" {
				t.Errorf("OTLP mismatch (-want +got):\n%s", diff)
			}
			if c.OTLP.Enabled() != (tt.want.MetricsURL != "" || tt.want.LogsURL != "") {
				t.Errorf("Enabled() = %v", c.OTLP.Enabled())
			}
		})
	}
}

func TestOTLPSectionErrors(t *testing.T) {
	c, err := Parse([]byte(instance + `otlp:
  endpoint: ftp://otlp.example.com
  metrics_endpoint: /v1/metrics
  headers:
    Content-Type: text/plain
    bad name: ` + apiKey + `
    X-Key: "` + apiKey + `\r\nX-Injected: 1"
    x-other: a
    X-Other: b
    X-Empty: ''
  compression: zstd
  timeout: 0
  signals: [metrics, traces, metrics]
  queue_size: 0
  batch_size: 100001
  endpont: x
`))
	if err == nil {
		t.Fatalf("Parse() = %+v, want errors", c.OTLP)
	}
	want := []string{
		`otlp.endpoint: "ftp://otlp.example.com" is not an http(s) URL with a host (line 3)`,
		`otlp.metrics_endpoint: "/v1/metrics" is not an http(s) URL with a host (line 4)`,
		"otlp.headers.Content-Type: skymap sets this header itself (line 6)",
		`otlp.headers["bad name"]: not an HTTP header name (letters, digits and !#$%&'*+-.^_` + "`|~) (line 7)",
		"otlp.headers.X-Key: the value holds a line break or another control character (line 8)",
		`otlp.headers.x-other: the same header as "X-Other" (names are case-insensitive) (line 9)`,
		"otlp.headers.X-Empty: empty value (line 11)",
		`otlp.compression: "zstd": want gzip or none (line 12)`,
		"otlp.timeout: must be a positive number of seconds, got 0 (line 13)",
		`otlp.signals[1]: unknown signal "traces" (metrics or logs) (line 14)`,
		`otlp.signals[2]: signal "metrics" is listed twice (also signals[0]) (line 14)`,
		"otlp.queue_size: 0: want 1 to 10000000 (line 15)",
		"otlp.batch_size: 100001: want 1 to 100000 (line 16)",
		`otlp.endpont: unknown key; did you mean "endpoint"? (line 17)`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("Parse() error lines mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), apiKey) {
		t.Errorf("an error quotes a header value:\n%v", err)
	}
}

// Header values are secrets: no print, JSON or log of the config shows
// them, and a value pasted where a name goes is hidden in errors.
func TestOTLPHeadersNeverPrinted(t *testing.T) {
	c, err := Parse([]byte(instance + "otlp: {endpoint: 'https://o.example.com', headers: {X-Api-Key: " + apiKey + "}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.OTLP.Headers["X-Api-Key"].Reveal() != apiKey {
		t.Fatalf("the header value was lost: %q", c.OTLP.Headers["X-Api-Key"].Reveal())
	}
	var out bytes.Buffer
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		fmt.Fprintf(&out, format, c)
		fmt.Fprintf(&out, format, c.OTLP)
	}
	js, _ := json.Marshal(c)
	out.Write(js)
	slog.New(slog.NewTextHandler(&out, nil)).Info("loaded", "config", c, "otlp", c.OTLP)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("loaded", "config", c, "otlp", c.OTLP)
	if strings.Contains(out.String(), apiKey) {
		t.Errorf("the config prints a header value:\n%s", out.String())
	}
	if !strings.Contains(string(js), `"X-Api-Key":"[redacted]"`) {
		t.Errorf("json.Marshal = %s, want the header shown as [redacted]", js)
	}

	_, err = Parse([]byte(instance + "otlp: {headers: {X-Api-Key: " + apiKey + ", 'Authorization: " + apiKey + "': x}}\n"))
	if err == nil || strings.Contains(err.Error(), apiKey) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("a header value pasted into a name: error %v, want it hidden", err)
	}
}

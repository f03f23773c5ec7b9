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

// oneInstance is the smallest valid file; tests append a stackstate section.
const oneInstance = `
instances:
  - regions: [eu-west-1]
`

func TestStackStateSection(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       StackState
	}{
		{"absent: off", "", StackState{Interval: 5 * time.Minute, Timeout: 30 * time.Second, Compress: true}},
		{"every key", `
stackstate:
  url: https://sts.example.com/receiver/stsAgent
  api_key: 0123456789abcdef
  interval: 30m
  timeout: 1m30s
  compress: false
`, StackState{Enabled: true, URL: "https://sts.example.com/receiver/stsAgent", APIKey: "0123456789abcdef",
			Interval: 30 * time.Minute, Timeout: 90 * time.Second}},
		{"url and key, defaults", `
stackstate: {url: 'http://127.0.0.1:7077', api_key: k3y-k3y}
`, StackState{Enabled: true, URL: "http://127.0.0.1:7077", APIKey: "k3y-k3y", Interval: 5 * time.Minute,
			Timeout: 30 * time.Second, Compress: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(oneInstance + tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, c.StackState); d != "" {
				t.Errorf("StackState (-want +got):\n%s", d)
			}
		})
	}
}

func TestStackStateErrors(t *testing.T) {
	tests := []struct{ name, section, want string }{
		{"key without url", "{api_key: abcdefgh}", "stackstate.api_key: has no effect without stackstate.url (line 4)"},
		{"url without key", "{url: 'https://sts.example.com'}", "stackstate.api_key: required with stackstate.url (line 4)"},
		{"not http", "{url: 'ftp://sts.example.com', api_key: abcdefgh}", `stackstate.url: "ftp://sts.example.com" is not an http(s) URL with a host (line 4)`},
		{"no host", "{url: 'https:///receiver', api_key: abcdefgh}", `stackstate.url: "https:///receiver" is not an http(s) URL with a host (line 4)`},
		{"key in the url", "{url: 'https://sts.example.com/stsAgent?api_key=0123456789abcdef', api_key: abcdefgh}",
			"stackstate.url: must not have a query: the API key goes in stackstate.api_key (line 4)"},
		{"interval too long", "{interval: 1h}", `stackstate.interval: "1h": want a duration from 1m to 30m, such as 5m (line 4)`},
		{"interval not a duration", "{interval: 300}", `stackstate.interval: "300": want a duration from 1m to 30m, such as 5m (line 4)`},
		{"timeout too short", "{timeout: 10ms}", `stackstate.timeout: "10ms": want a duration from 1s to 10m, such as 30s (line 4)`},
		{"unknown key", "{uri: 'https://x'}", `stackstate.uri: unknown key; did you mean "url"? (line 4)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(oneInstance + "stackstate: " + tt.section + "\n"))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Parse() error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error reveals the API key: %v", err)
			}
		})
	}
}

// The API key is a Secret: printed, logged or marshalled it shows as
// [redacted], and errors beside it never quote it.
func TestStackStateKeyNeverPrinted(t *testing.T) {
	const key = "sts-api-key-0123456789"
	c, err := Parse([]byte(oneInstance + "stackstate: {url: 'https://sts.example.com', api_key: " + key + "}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.StackState.APIKey.Reveal() != key {
		t.Fatalf("APIKey = %q, want the key", c.StackState.APIKey.Reveal())
	}
	var out bytes.Buffer
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		fmt.Fprintf(&out, format, c)
		fmt.Fprintf(&out, format, c.StackState)
	}
	js, _ := json.Marshal(c)
	out.Write(js)
	slog.New(slog.NewTextHandler(&out, nil)).Info("loaded", "stackstate", c.StackState)
	if strings.Contains(out.String(), key) {
		t.Errorf("the API key is printed:\n%s", out.String())
	}
	_, err = Parse([]byte("stackstate: {api_key: " + key + ", interval: " + key + "}\n"))
	if err == nil || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), `stackstate.interval: "[redacted]"`) {
		t.Errorf("error = %v, want the key pasted into interval shown as [redacted]", err)
	}
}

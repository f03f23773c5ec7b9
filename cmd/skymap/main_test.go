package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skymap/skymap/internal/awstest"
)

func TestMain(m *testing.M) { os.Exit(awstest.SharedMain(m).Run()) }

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = NewMain(strings.NewReader(""), &out, &errb).Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings
		stderr     []string
		notInError []string
	}{
		{"no command", nil, exitUsage, []string{"Usage: skymap <command>"}, nil, nil},
		{"help", []string{"help"}, exitOK, []string{"scan", "serve", "config", "Exit codes"}, nil, nil},
		{"unknown command", []string{"scna"}, exitUsage, nil, []string{`unknown command "scna"`}, nil},
		{"version", []string{"version"}, exitOK, []string{"skymap dev"}, nil, nil},
		{"scan help", []string{"scan", "--help"}, exitOK, nil, []string{"Usage: skymap scan --config FILE", "-output"}, nil},
		{"serve help", []string{"serve", "-h"}, exitOK, nil, []string{"--data DIR", "-listen"}, nil},
		{"config check ok", []string{"config", "check", "--config", "testdata/stackstate-example.yaml"}, exitOK,
			[]string{"ok (1 instance(s))", "regions global, eu-west-1"}, nil, nil},
		{"config check bad", []string{"config", "check", "--config", "testdata/bad.yaml"}, exitUsage, nil,
			[]string{`instances[0].regions[1]: unknown region "eu-wst-1"`, "init_config.colour: unknown key"},
			[]string{"wJalrXUtnFEMIsecretvalue", "AKIAEXAMPLEKEY12345", "uniquesecret!1"}},
		{"config check missing file", []string{"config", "check", "--config", "testdata/nope.yaml"}, exitUsage, nil,
			[]string{"testdata/nope.yaml"}, nil},
		{"config without check", []string{"config"}, exitUsage, nil, []string{"config check --config FILE"}, nil},
		{"scan without config", []string{"scan"}, exitUsage, nil, []string{"--config FILE is required"}, nil},
		{"scan bad output", []string{"scan", "--config", "x", "--output", "xml"}, exitUsage, nil, []string{"want json or table"}, nil},
		{"stray argument", []string{"version", "extra"}, exitUsage, nil, []string{`unexpected argument "extra"`}, nil},
		{"iam policy", []string{"iam-policy"}, exitOK, []string{`"ec2:DescribeInstances"`, `"s3:ListAllMyBuckets"`, `"2012-10-17"`}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			for _, s := range tt.notInError {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("output reveals %q", s)
				}
			}
		})
	}
}

func TestScanCommand(t *testing.T) {
	m := awstest.Shared(t)
	if _, err := awstest.SampleEstate().Build(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.SetEnv(t, "us-east-1")
	proxy := awstest.NewProxy(t, m.URL)
	cfg := filepath.Join(t.TempDir(), "conf.yaml")
	os.WriteFile(cfg, []byte(`
init_config: {external_id: skymap-test}
instances:
  - role_arn: arn:aws:iam::123456789012:role/StackStateAwsIntegrationRole
    regions: [global, eu-west-1]
aws: {allow_role_without_external_id: true, max_attempts: 2, endpoint_url: '`+proxy.URL+`'}
`), 0o600)

	out := filepath.Join(t.TempDir(), "scan.json")
	code, stdout, stderr := run(t, "scan", "--config", cfg, "--out", out)
	if code != exitOK || stdout != "" {
		t.Fatalf("scan: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	var doc struct {
		Components []map[string]any `json:"components"`
		Relations  []map[string]any `json:"relations"`
		Status     []map[string]any `json:"status"`
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("scan output is not JSON: %v", err)
	}
	if len(doc.Components) == 0 || len(doc.Relations) == 0 || len(doc.Status) == 0 {
		t.Errorf("scan output: %d components, %d relations, %d statuses", len(doc.Components), len(doc.Relations), len(doc.Status))
	}
	if !strings.Contains(string(b), `"description:<script>alert(1)</script>"`) {
		t.Error("JSON output does not keep tag text as it is")
	}

	proxy.Fail("DescribeVpcs", awstest.Denied("UnauthorizedOperation"))
	code, stdout, stderr = run(t, "scan", "--config", cfg, "--output", "table")
	if code != exitPartial {
		t.Errorf("scan with a denied API: exit %d, want %d", code, exitPartial)
	}
	for _, s := range []string{"TYPE", "aws.ec2.instance", "web-1", "ec2:DescribeVpcs", "denied"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("table lacks %q", s)
		}
	}
	if !strings.Contains(stderr, "ec2:DescribeVpcs: denied: not authorized to perform ec2:DescribeVpcs") {
		t.Errorf("stderr does not name the denied action:\n%s", stderr)
	}
}

func TestSafe(t *testing.T) {
	tests := map[string]string{
		"plain":              "plain",
		"Zürich – 東京":        "Zürich – 東京",
		"a\x1b[31mred":       `a\x1b[31mred`,
		"line\nbreak":        `line\nbreak`,
		"bad\xffutf8":        `bad\xffutf8`,
		"<script>x</script>": "<script>x</script>",
	}
	for in, want := range tests {
		if got := safe(in); got != want {
			t.Errorf("safe(%q) = %q, want %q", in, got, want)
		}
	}
}

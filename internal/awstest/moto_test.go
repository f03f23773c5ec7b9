package awstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(SharedMain(m))
}

// recordingTB is a testing.TB whose Skip and Fatal record instead of
// stopping the goroutine, so StartT's choice between them can be observed.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordingTB) Helper()               {}
func (r *recordingTB) Skip(args ...any)      { r.skipped = fmt.Sprint(args...) }
func (r *recordingTB) Fatal(args ...any)     { r.fatal = fmt.Sprint(args...) }
func (r *recordingTB) Cleanup(func())        { panic("Cleanup called although moto did not start") }
func (r *recordingTB) Errorf(string, ...any) { panic("unexpected Errorf") }

func TestStartTWithoutMoto(t *testing.T) {
	tests := []struct {
		name, python, ci   string
		wantSkip, wantFail bool
	}{
		{name: "no python, local", python: "/nonexistent/python3", ci: "", wantSkip: true},
		{name: "no python, CI", python: "/nonexistent/python3", ci: "true", wantFail: true},
		{name: "import fails, local", python: "/bin/false", ci: "false", wantSkip: true},
		{name: "import fails, CI", python: "/bin/false", ci: "true", wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			rec := &recordingTB{}
			if m := (Options{Python: tt.python}).StartT(rec); m != nil {
				t.Fatalf("StartT returned a server for python %q", tt.python)
			}
			if got := rec.skipped != ""; got != tt.wantSkip {
				t.Errorf("skipped = %v (%q), want %v", got, rec.skipped, tt.wantSkip)
			}
			if got := rec.fatal != ""; got != tt.wantFail {
				t.Errorf("failed = %v (%q), want %v", got, rec.fatal, tt.wantFail)
			}
		})
	}
}

func TestStartErrorIsNotInstalled(t *testing.T) {
	_, err := Start(context.Background(), Options{Python: "/nonexistent/python3"})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Start with a missing python: err = %v, want ErrNotInstalled", err)
	}
}

func TestStartReportsMotoOutput(t *testing.T) {
	python := filepath.Join(t.TempDir(), "python3")
	script := "#!/bin/sh\n[ \"$1\" = -c ] && exit 0\necho 'boom: cannot serve' >&2\nexit 3\n"
	if err := os.WriteFile(python, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{Python: python, Timeout: 10 * time.Second})
	if err == nil || errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "boom: cannot serve") {
		t.Fatalf("Start with a moto that dies: err = %v, want one that quotes its output", err)
	}
}

func TestStartStop(t *testing.T) {
	m := StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := Connect(ctx, m.URL)
	if err != nil {
		t.Fatalf("Connect to a running moto: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop of a connected moto: %v", err)
	}
	if err := m.ping(ctx); err != nil {
		t.Fatalf("moto stopped by Stop of a Moto from Connect: %v", err)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := m.ping(ctx); err == nil {
		t.Fatal("moto still answers after Stop")
	}
	if _, err := Connect(ctx, m.URL); err == nil {
		t.Fatal("Connect to a stopped moto succeeded")
	}
}

func TestEnv(t *testing.T) {
	m := &Moto{URL: "http://127.0.0.1:1"}
	m.SetEnv(t, "eu-west-1")
	env := map[string]string{}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_EC2_METADATA_DISABLED"} {
		env[k] = os.Getenv(k)
	}
	want := map[string]string{
		"AWS_ENDPOINT_URL":          "http://127.0.0.1:1",
		"AWS_REGION":                "eu-west-1",
		"AWS_ACCESS_KEY_ID":         "testing",
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skymap/skymap/internal/awstest"
)

func TestRun(t *testing.T) {
	m := awstest.StartT(t)
	ctx := context.Background()
	var out strings.Builder
	if err := run(ctx, []string{"--endpoint", m.URL}, &out); err != nil {
		t.Fatal(err)
	}
	want := "seeded 2 accounts, 3 account-regions, 4 vpcs, 4 subnets, 6 security groups, 5 instances, 5 buckets" +
		" and 15 service seeders (load balancers, databases, queues, functions, APIs, stacks, DNS, flow logs...) into " + m.URL
	if !strings.HasPrefix(out.String(), want) || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("summary = %q, want one line starting %q", out.String(), want)
	}
	if err := run(ctx, []string{"--endpoint", m.URL}, &out); err == nil || !strings.Contains(err.Error(), "--reset") {
		t.Errorf("second seed: err = %v, want a hint to pass --reset", err)
	}
	if err := run(ctx, []string{"--endpoint", m.URL, "--reset"}, &out); err != nil {
		t.Errorf("seed with --reset: %v", err)
	}

	// --traces: the spans reach an OTLP/HTTP receiver, gzip protobuf.
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" &&
			r.Header.Get("Content-Encoding") == "gzip" {
			posts.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	out.Reset()
	if err := run(ctx, []string{"--endpoint", m.URL, "--traces", srv.URL + "/v1/traces"}, &out); err != nil {
		t.Fatal(err)
	}
	if posts.Load() != 3 || !strings.HasPrefix(out.String(), "sent the sample estate's spans") {
		t.Errorf("%d exports received (want one per application: 3); printed %q", posts.Load(), out.String())
	}
}

func TestRunUnreachable(t *testing.T) {
	err := run(context.Background(), []string{"--endpoint", "http://127.0.0.1:1"}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "not reachable") {
		t.Errorf("err = %v, want moto not reachable", err)
	}
}

package main

import (
	"context"
	"strings"
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
}

func TestRunUnreachable(t *testing.T) {
	err := run(context.Background(), []string{"--endpoint", "http://127.0.0.1:1"}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "not reachable") {
		t.Errorf("err = %v, want moto not reachable", err)
	}
}

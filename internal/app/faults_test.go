package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
)

func TestScanDeniedAPIKeepsTheRest(t *testing.T) {
	m, _ := estate(t)
	proxy := awstest.NewProxy(t, m.URL)
	proxy.Fail("DescribeSubnets", awstest.Denied("UnauthorizedOperation"))
	proxy.Fail("s3:GetBucketTagging", awstest.Denied("AccessDenied"))
	cfg := testConfig(t, optOut+"  endpoint_url: "+proxy.URL+"\n")

	doc, err := Scan(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := countType(doc, "aws.ec2.subnet"); n != 0 {
		t.Errorf("%d subnets from a denied DescribeSubnets", n)
	}
	if n := countType(doc, "aws.ec2.instance"); n != 5 {
		t.Errorf("%d instances, want the 5 of the estate", n)
	}
	if n := countType(doc, "aws.s3.bucket"); n != 7 { // five declared, the flow-log bucket, one made by the stack shop-infra
		t.Errorf("%d buckets, want 7 even without their tags", n)
	}
	st, ok := status(doc, "123456789012", "eu-west-1", "ec2:DescribeSubnets")
	if !ok || st.Outcome != model.OutcomeDenied || !strings.Contains(st.Detail, "ec2:DescribeSubnets") {
		t.Errorf("status of ec2:DescribeSubnets = %+v, want denied naming the action", st)
	}
	st, ok = status(doc, "123456789012", "eu-west-1", "s3:GetBucketTagging")
	if !ok || st.Outcome != model.OutcomeDenied {
		t.Errorf("status of s3:GetBucketTagging = %+v, want denied", st)
	}
	// Instance -> subnet relations wait for the subnets instead of vanishing.
	pending := 0
	for _, r := range doc.PendingRelations {
		if strings.HasPrefix(r.Source, "i-") && strings.HasPrefix(r.Target, "subnet-") {
			pending++
		}
	}
	if pending != 5 {
		t.Errorf("%d pending instance->subnet relations, want 5", pending)
	}
}

func TestScanRefusesRoleWithoutExternalID(t *testing.T) {
	estate(t)
	// No opt-out: moto lets every role be assumed without the external id,
	// exactly what skymap must refuse.
	doc, err := Scan(context.Background(), testConfig(t, "aws: {max_attempts: 2}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Components) != 0 {
		t.Errorf("%d components read through refused roles", len(doc.Components))
	}
	for _, acct := range []string{"123456789012", "111111111111"} {
		st, ok := status(doc, acct, "global", "sts:AssumeRole")
		if !ok || st.Outcome == model.OutcomeOK || !strings.Contains(st.Detail, "without an external id") {
			t.Errorf("account %s: status %+v, want the role refused for lacking an external-id condition", acct, st)
		}
	}
}

func TestScanRoleDenied(t *testing.T) {
	m, _ := estate(t)
	proxy := awstest.NewProxy(t, m.URL)
	// Denied with and without the external id: the role trusts someone else.
	proxy.Fail("AssumeRole", awstest.Denied("AccessDenied"))
	doc, err := Scan(context.Background(), testConfig(t, "aws: {max_attempts: 2, endpoint_url: '"+proxy.URL+"'}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Components) != 0 {
		t.Errorf("%d components without access", len(doc.Components))
	}
	st, ok := status(doc, "111111111111", "global", "sts:AssumeRole")
	if !ok || st.Outcome != model.OutcomeDenied ||
		!strings.Contains(st.Detail, "arn:aws:iam::111111111111:role/StackStateAwsIntegrationRole") {
		t.Errorf("status %+v, want denied naming the role", st)
	}
	if strings.Contains(st.Detail, "skymap-test-external-id") {
		t.Error("status reveals the external id")
	}
}

func TestScanUnreachableEndpoint(t *testing.T) {
	estate(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cfg := testConfig(t, "aws: {allow_role_without_external_id: true, max_attempts: 1, endpoint_url: 'http://"+closed+"'}\n")
	start := time.Now()
	doc, err := Scan(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("scan of an unreachable endpoint took %v", d)
	}
	st, ok := status(doc, "123456789012", "global", "sts:AssumeRole")
	if !ok || st.Outcome != model.OutcomeFailed || !strings.Contains(st.Detail, closed) {
		t.Errorf("status %+v, want a failure naming %s", st, closed)
	}
}

// serve runs Serve until the returned stop is called and returns its address.
func serve(t *testing.T, cfgExtra, dir string) (addr string, stop func()) {
	t.Helper()
	return serveConfig(t, testConfig(t, cfgExtra), dir)
}

// serveConfig runs Serve on cfg and dir until stop is called.
func serveConfig(t *testing.T, cfg *config.Config, dir string) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, cfg, ServeOptions{DataDir: dir, Listen: "127.0.0.1:0", Ready: func(a string) { ready <- a },
			EventInterval: 200 * time.Millisecond})
	}()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(90 * time.Second): // generous: make test runs packages side by side on 2 cores, with -race
		cancel()
		t.Fatal("Serve did not start listening in 90 s")
	}
	return addr, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// waitScan waits until the served status reports a scan finished after after.
func waitScan(t *testing.T, addr string, after time.Time) StatusDoc {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var st StatusDoc
		getJSON(t, "http://"+addr+"/api/status", &st)
		if st.LastScan != nil && st.LastScan.Finished.After(after) {
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no scan finished in 60s")
	return StatusDoc{}
}

func TestServeKeepsMapAcrossRestartsAndFailedListings(t *testing.T) {
	m, _ := estate(t)
	proxy := awstest.NewProxy(t, m.URL)
	dir := t.TempDir()
	cfgExtra := fmt.Sprintf("%s  endpoint_url: %s\n", optOut, proxy.URL)

	// First run: one full scan, then stop.
	addr, stop := serve(t, cfgExtra, dir)
	st := waitScan(t, addr, time.Time{})
	var list struct {
		Total int `json:"total"`
	}
	getJSON(t, "http://"+addr+"/api/components", &list)
	want := goldenComponents(t)
	if list.Total != want || st.LastScan.Components != want {
		t.Fatalf("first scan: %d components served, %d reported; want the golden scan's %d", list.Total, st.LastScan.Components, want)
	}
	for _, a := range st.Accounts {
		if a.State != "connected" {
			t.Errorf("account %s: %s, want connected", a.Account, a.State)
		}
	}
	stop()
	// Credentials are assumed once per account, however many regions and
	// listings (and event polls) use them.
	if n := proxy.Calls("AssumeRole"); n != 2 {
		t.Errorf("%d AssumeRole calls, want 2 (one per account)", n)
	}

	// Restart on the same data dir with AWS unreachable for assume-role: the
	// stored map is served at once, no scan needed (the last is recent).
	proxy.Fail("AssumeRole", awstest.Denied("AccessDenied"))
	addr, stop = serve(t, cfgExtra, dir)
	getJSON(t, "http://"+addr+"/api/components", &list)
	if list.Total != want {
		t.Errorf("after restart: %d components, want the %d stored", list.Total, want)
	}
	var detail struct {
		Component model.Component `json:"component"`
		History   []model.Version `json:"history"`
	}
	getJSON(t, "http://"+addr+"/api/components/arn:aws:s3:::skymap-demo-logs", &detail)
	if detail.Component.Name != "skymap-demo-logs" || len(detail.History) != 1 || detail.History[0].Change != model.Created {
		t.Errorf("bucket after restart: %+v with history %+v", detail.Component.Name, detail.History)
	}
	var again StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &again)
	if again.LastScan == nil || !again.LastScan.Started.Equal(st.LastScan.Started) {
		t.Errorf("restart scanned again: last scan %+v, want the first run's (%v)", again.LastScan, st.LastScan.Started)
	}
	stop()
}

func TestServeFailedListingKeepsPreviousComponents(t *testing.T) {
	m, _ := estate(t)
	proxy := awstest.NewProxy(t, m.URL)
	dir := t.TempDir()
	cfgExtra := "aws: {allow_role_without_external_id: true, max_attempts: 2, endpoint_url: '" + proxy.URL + "'}\n"
	cfg := testConfig(t, cfgExtra)
	cfg.FullRunInterval = 500 * time.Millisecond

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, cfg, ServeOptions{DataDir: dir, Listen: "127.0.0.1:0", Ready: func(a string) { ready <- a },
			EventInterval: 200 * time.Millisecond})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	addr := <-ready
	first := waitScan(t, addr, time.Time{})

	proxy.Fail("DescribeInstances", awstest.Denied("UnauthorizedOperation"))
	second := waitScan(t, addr, first.LastScan.Finished)
	var list struct {
		Total int `json:"total"`
	}
	getJSON(t, "http://"+addr+"/api/components?type=aws.ec2.instance", &list)
	if list.Total != 5 {
		t.Errorf("%d instances after a denied DescribeInstances, want the 5 listed before", list.Total)
	}
	partial := 0
	for _, a := range second.Accounts {
		if a.State == "partially connected" && strings.Contains(strings.Join(a.Denied, ","), "ec2:DescribeInstances") {
			partial++
		}
	}
	if partial != 2 {
		t.Errorf("accounts %+v: want both partially connected with ec2:DescribeInstances denied", second.Accounts)
	}
}

func TestBucketDetailFailureMakesListingIncomplete(t *testing.T) {
	m, _ := estate(t)
	proxy := awstest.NewProxy(t, m.URL)
	proxy.Fail("s3:GetBucketTagging", awstest.Fault{Status: 500, Code: "InternalError", Message: "We encountered an internal error."})
	cfg := testConfig(t, optOut+"  endpoint_url: "+proxy.URL+"\n")
	prov, err := newProvider(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := &inventory.Scanner{Accounts: prov, Instances: cfg.Instances, Redact: prov.Recorder().Redact}
	snaps, problems, err := sc.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	buckets := 0
	for _, s := range snaps {
		if s.Scope.Type != "aws.s3.bucket" {
			continue
		}
		buckets++
		if s.Complete || len(s.Components) != 0 {
			t.Errorf("bucket scope %s: complete=%v with %d components; want incomplete and empty, so stored buckets stay",
				s.Scope, s.Complete, len(s.Components))
		}
	}
	if buckets != 3 {
		t.Errorf("%d bucket scopes, want 3 (one per configured region of each account)", buckets)
	}
	found := false
	for _, p := range problems {
		found = found || strings.Contains(p.Error(), "InternalError")
	}
	if !found {
		t.Errorf("problems %v do not report the failed detail call", problems)
	}
}

// goldenComponents is how many components the golden scan of the sample
// estate holds.
func goldenComponents(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "scan.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components []json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return len(doc.Components)
}

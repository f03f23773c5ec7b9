package flowlogs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/store/storetest"
)

const (
	acct1, region1 = "123456789012", "eu-west-1"
	acct2, region2 = "111111111111", "us-east-1"
)

func plainKey(account, region, date, file string) string {
	return "AWSLogs/" + account + "/vpcflowlogs/" + region + "/" + date + "/" + file
}

func hiveKey(account, region, date, file string) string {
	return "AWSLogs/aws-account-id=" + account + "/aws-service=vpcflowlogs/aws-region=" + region + "/" + date + "/" + file
}

// Objects of two accounts and regions, in both layouts, on 22 and 23
// November 2026, and objects that are not theirs or too old.
var (
	keyA1 = plainKey(acct1, region1, "2026/11/22", acct1+"_vpcflowlogs_eu-west-1_fl-1_20261122T2355Z_a1.log.gz")
	keyA2 = hiveKey(acct1, region1, "year=2026/month=11/day=23/hour=01", acct1+"_vpcflowlogs_eu-west-1_fl-1_20261123T0105Z_a2.log.gz")
	keyB1 = plainKey(acct2, region2, "2026/11/23/00", acct2+"_vpcflowlogs_us-east-1_fl-2_20261123T0005Z_b1.log.gz")
	keyB2 = hiveKey(acct2, region2, "year=2026/month=11/day=22", acct2+"_vpcflowlogs_us-east-1_fl-2_20261122T2205Z_b2.log.gz")

	keyOtherAccount = plainKey("333333333333", region1, "2026/11/23", "x.log.gz")
	keyOtherRegion  = plainKey(acct1, "us-west-2", "2026/11/23", "x.log.gz")
	keyFolder       = plainKey(acct1, region1, "2026/11/23", "")
	keyEvents       = "AWSLogs/" + acct1 + "/EventBridge/" + region1 + "/2026/11/23/01/events.gz"
	keyTooOld       = plainKey(acct1, region1, "2026/11/20", "old.log.gz") // before the backfill
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingS3 records the prefixes listed and the objects read.
type countingS3 struct {
	BucketAPI
	mu       sync.Mutex
	prefixes []string
	gets     int
}

func (c *countingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.mu.Lock()
	c.prefixes = append(c.prefixes, aws.ToString(in.Prefix))
	c.mu.Unlock()
	in.MaxKeys = aws.Int32(2) // page through everything
	return c.BucketAPI.ListObjectsV2(ctx, in, opts...)
}

func (c *countingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.mu.Lock()
	c.gets++
	c.mu.Unlock()
	return c.BucketAPI.GetObject(ctx, in, opts...)
}

// takePrefixes returns the distinct prefixes listed since the last call.
func (c *countingS3) takePrefixes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.prefixes
	c.prefixes = nil
	slices.Sort(p)
	return slices.Compact(p)
}

// bucketEnv is one subtest's bucket in moto.
type bucketEnv struct {
	t      *testing.T
	ctx    context.Context
	c      *s3.Client // straight to moto
	api    *countingS3
	bucket string
	h      *fakeHandler
	state  *storetest.MemState
	clock  *clock
}

func (e *bucketEnv) put(keys ...string) {
	e.t.Helper()
	for _, k := range keys {
		body := flowObject(e.t, k[strings.LastIndex(k, "/")+1:])
		if strings.HasSuffix(k, "/") {
			body = nil
		}
		if _, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(k),
			Body: bytes.NewReader(body)}); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *bucketEnv) keys() []string {
	e.t.Helper()
	out, err := e.c.ListObjectsV2(e.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket)})
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func (e *bucketEnv) source(o Options) *BucketSource {
	o.Now = e.clock.Now
	return NewBucketSource(e.api, e.bucket, []Scope{{acct1, region1}, {acct2, region2}}, e.h, e.state, o)
}

func (e *bucketEnv) poll(s *BucketSource) {
	e.t.Helper()
	if err := s.Poll(e.ctx); err != nil {
		e.t.Fatalf("Poll: %v", err)
	}
}

func (e *bucketEnv) checkpoint(account, region string) checkpoint {
	e.t.Helper()
	var cp checkpoint
	v := e.state.Get("flowlogs/s3/" + e.bucket + "/" + account + "/" + region)
	if err := json.Unmarshal([]byte(v), &cp); err != nil {
		e.t.Fatalf("checkpoint %q: %v", v, err)
	}
	return cp
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestBucketSource(t *testing.T) {
	m := awstest.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, "us-east-1", awstest.DefaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	c := awsconn.NewS3(cfg)
	proxy := awstest.NewProxy(t, m.URL)
	pcfg := cfg.Copy()
	pcfg.BaseEndpoint = aws.String(proxy.URL)
	viaProxy := awsconn.NewS3(pcfg)
	n := 0
	newEnv := func(t *testing.T) *bucketEnv {
		n++
		e := &bucketEnv{t: t, ctx: ctx, c: c, api: &countingS3{BucketAPI: viaProxy}, bucket: fmt.Sprintf("stackstate-flowlogs-%d", n),
			h: newFakeHandler(), state: &storetest.MemState{}, clock: &clock{t: time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)}}
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); awstest.RetriedCreate(err) != nil {
			t.Fatal(err)
		}
		return e
	}
	noise := []string{keyOtherAccount, keyOtherRegion, keyFolder, keyEvents, keyTooOld}

	t.Run("oldest first, both layouts, deleted after commit", func(t *testing.T) {
		e := newEnv(t)
		e.put(keyA2, keyB2)
		time.Sleep(1100 * time.Millisecond) // LastModified has whole seconds
		e.put(keyA1, keyB1)
		e.put(noise...)
		s := e.source(Options{Delete: true, Concurrency: 1})
		e.poll(s)
		handled, _ := e.h.take()
		// Per scope, by LastModified, whatever the key's date or layout.
		if d := cmp.Diff([]string{keyA2, keyA1, keyB2, keyB1}, handled); d != "" {
			t.Errorf("handled (-want +got):\n%s", d)
		}
		for _, o := range e.h.objects {
			want := Scope{acct1, region1}
			if strings.Contains(o.Key, acct2) {
				want = Scope{acct2, region2}
			}
			if (Scope{o.Account, o.Region}) != want || o.Bucket != e.bucket || o.ETag == "" || strings.Contains(o.ETag, `"`) ||
				o.Size == 0 || o.LastModified.IsZero() {
				t.Errorf("object %+v", o)
			}
		}
		if d := cmp.Diff(sorted(noise...), e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}
		st := s.Status()
		if st.Objects != 4 || st.Deleted != 4 || st.Bytes == 0 || st.Failed != 0 || st.LastSuccess.IsZero() || len(st.Problems) != 0 {
			t.Errorf("status %+v", st)
		}
		// Listed: the days from the backfill (24 h) to today, no more.
		wantPrefixes := []string{}
		for _, sc := range []Scope{{acct1, region1}, {acct2, region2}} {
			for _, d := range []int{22, 23} {
				wantPrefixes = append(wantPrefixes, dayPrefixes("", sc.Account, sc.Region, time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC))...)
			}
		}
		if d := cmp.Diff(sorted(wantPrefixes...), e.api.takePrefixes()); d != "" {
			t.Errorf("prefixes listed (-want +got):\n%s", d)
		}
		if cp := e.checkpoint(acct1, region1); cp.Day != "2026-11-22" || cp.Since.IsZero() {
			t.Errorf("checkpoint %+v, want day 2026-11-22 (now - 6 h)", cp)
		}
		e.poll(s)
		if handled, done := e.h.take(); len(handled) != 0 || done != 0 {
			t.Errorf("second poll: handled %v, %d Done calls", handled, done)
		}
	})

	t.Run("without Delete the checkpoint prevents handling twice, across a restart", func(t *testing.T) {
		e := newEnv(t)
		e.put(keyA1, keyA2, keyB1, keyB2)
		e.put(noise...)
		e.poll(e.source(Options{Backfill: 48 * time.Hour}))
		if handled, _ := e.h.take(); len(handled) != 4 {
			t.Fatalf("handled %v", handled)
		}
		s := e.source(Options{Backfill: 48 * time.Hour})
		e.poll(s)
		if handled, _ := e.h.take(); len(handled) != 0 {
			t.Errorf("after a restart: handled %v", handled)
		}
		e.poll(s)
		if handled, done := e.h.take(); len(handled) != 0 || done != 0 {
			t.Errorf("third poll: handled %v, %d Done calls", handled, done)
		}
		newer := plainKey(acct1, region1, "2026/11/23", "new.log.gz")
		e.put(newer)
		e.poll(s)
		if handled, done := e.h.take(); !slices.Equal(handled, []string{newer}) || done != 1 {
			t.Errorf("new object: handled %v, %d Done calls; want it, one call", handled, done)
		}
		if d := cmp.Diff(sorted(append([]string{keyA1, keyA2, keyB1, keyB2, newer}, noise...)...), e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}
	})

	t.Run("late objects within Lookback are found", func(t *testing.T) {
		e := newEnv(t)
		e.put(keyA1, keyA2)
		s := e.source(Options{})
		e.poll(s)
		e.h.take()
		e.api.takePrefixes()
		late := plainKey(acct1, region1, "2026/11/22", "late.log.gz") // 2 h after its day ended
		tooLate := plainKey(acct1, region1, "2026/11/21", "late.log.gz")
		e.put(late, tooLate)
		e.poll(s)
		if handled, _ := e.h.take(); !slices.Equal(handled, []string{late}) {
			t.Errorf("handled %v, want %v", handled, late)
		}
		days := func(ds ...int) []string {
			var p []string
			for _, sc := range []Scope{{acct1, region1}, {acct2, region2}} {
				for _, d := range ds {
					p = append(p, dayPrefixes("", sc.Account, sc.Region, time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC))...)
				}
			}
			return sorted(p...)
		}
		if d := cmp.Diff(days(22, 23), e.api.takePrefixes()); d != "" {
			t.Errorf("prefixes listed (-want +got):\n%s", d)
		}
		// Once 23 November is 6 h old, the 22nd is no longer listed.
		e.clock.add(5 * time.Hour)
		e.poll(s)
		e.api.takePrefixes()
		e.poll(s)
		if d := cmp.Diff(days(23), e.api.takePrefixes()); d != "" {
			t.Errorf("prefixes listed at 07:00 (-want +got):\n%s", d)
		}
	})

	t.Run("a failing handler keeps the object, backs off, then marks it failed", func(t *testing.T) {
		e := newEnv(t)
		e.put(keyA1, keyA2, keyB1, keyB2)
		e.h.fail[keyA1] = errCommit
		s := e.source(Options{Delete: true, MaxFailures: 3, Interval: time.Minute})
		e.poll(s)
		if handled, _ := e.h.take(); len(handled) != 3 {
			t.Errorf("handled %v", handled)
		}
		if p, ok := problem(s.Status(), LogDownload, keyA1); !ok || p.Severity != SeverityWarning || !strings.Contains(p.Detail, "commit failed") {
			t.Errorf("problem %+v, %t", p, ok)
		}
		gets := func() int {
			e.api.mu.Lock()
			defer e.api.mu.Unlock()
			g := e.api.gets
			e.api.gets = 0
			return g
		}
		gets()
		e.poll(s) // within the backoff
		if g := gets(); g != 0 {
			t.Errorf("retried at once: %d gets", g)
		}
		if cp := e.checkpoint(acct1, region1); cp.Day != "2026-11-22" {
			t.Errorf("checkpoint %+v passes the failed object's day", cp)
		}
		for i, wait := range []time.Duration{time.Minute, 2 * time.Minute} {
			e.clock.add(wait)
			e.poll(s)
			if g := gets(); g != 1 {
				t.Errorf("try %d: %d gets", i+2, g)
			}
		}
		st := s.Status()
		p, ok := problem(st, LogDownload, keyA1)
		if !ok || p.Severity != SeverityError || p.Count != 3 || !strings.Contains(p.Detail, "marked failed") || st.Failed != 1 {
			t.Errorf("after 3 failures: problem %+v, status failed %d", p, st.Failed)
		}
		// A failed object no longer holds the checkpoint back: it is
		// listed in it, and tried again every MaxBackoff.
		cp := e.checkpoint(acct1, region1)
		if len(cp.Failed) != 1 || cp.Failed[0].Key != keyA1 || cp.Failed[0].Failures != 3 {
			t.Errorf("checkpoint %+v", cp)
		}
		e.clock.add(30 * time.Minute)
		e.poll(s)
		if g := gets(); g != 0 {
			t.Errorf("failed object tried again within MaxBackoff: %d gets", g)
		}
		e.clock.add(8 * time.Hour) // 22 November is no longer listed
		e.poll(s)
		if g := gets(); g != 1 {
			t.Errorf("failed object after MaxBackoff: %d gets, want 1", g)
		}
		if cp := e.checkpoint(acct1, region1); cp.Day != "2026-11-23" || len(cp.Failed) != 1 {
			t.Errorf("checkpoint %+v", cp)
		}
		// A restart tries it at once, and once committed it is deleted.
		delete(e.h.fail, keyA1)
		e.h.take()
		s = e.source(Options{Delete: true, MaxFailures: 3, Interval: time.Minute})
		e.poll(s)
		if handled, _ := e.h.take(); !slices.Equal(handled, []string{keyA1}) {
			t.Errorf("after restart: handled %v", handled)
		}
		if cp := e.checkpoint(acct1, region1); len(cp.Failed) != 0 || len(e.keys()) != 0 {
			t.Errorf("checkpoint %+v, keys left %v", cp, e.keys())
		}
	})

	t.Run("parse errors and big objects are failed at once", func(t *testing.T) {
		e := newEnv(t)
		e.put(keyA1, keyA2)
		e.h.fail[keyA1] = fmt.Errorf("read %s: %w", keyA1, &MissingFieldsError{Missing: []string{"srcaddr", "interface-id or pkt-srcaddr+pkt-dstaddr"}})
		s := e.source(Options{Delete: true})
		e.poll(s)
		st := s.Status()
		p, ok := problem(st, LogParse, keyA1)
		if !ok || p.Severity != SeverityError || p.Bucket != e.bucket ||
			!slices.Equal(p.Fields, []string{"srcaddr", "interface-id or pkt-srcaddr+pkt-dstaddr"}) || st.Failed != 1 {
			t.Errorf("problem %+v, %t; status %+v", p, ok, st)
		}
		e.clock.add(time.Hour)
		e.poll(s)
		if d := cmp.Diff([]string{keyA1}, e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}

		big := newEnv(t)
		big.put(keyB1)
		s = big.source(Options{MaxObjectSize: 10})
		big.poll(s)
		if p, ok := problem(s.Status(), LogDownload, keyB1); !ok || p.Severity != SeverityError || !strings.Contains(p.Detail, "maximum") {
			t.Errorf("problem %+v, %t", p, ok)
		}
		if big.api.gets != 0 {
			t.Errorf("read a too big object %d times", big.api.gets)
		}
	})

	t.Run("denied list, get and delete lose nothing", func(t *testing.T) {
		e := newEnv(t)
		e.put(keyA1, keyA2, keyB1, keyB2) // within one second: ordered by key
		s := e.source(Options{Delete: true, Concurrency: 1})
		defer proxy.Clear()

		proxy.Fail("GET /"+e.bucket, awstest.Denied("AccessDenied"))
		if err := s.Poll(ctx); err == nil {
			t.Fatal("Poll with the listing denied: no error")
		}
		st := s.Status()
		if p, ok := problem(st, LogDownload, ""); !ok || p.Severity != SeverityError || !strings.Contains(p.Detail, "not authorized") {
			t.Errorf("problem %+v, %t (%+v)", p, ok, st.Problems)
		}
		if len(e.state.Keys()) != 0 || len(e.keys()) != 4 || !st.LastSuccess.IsZero() {
			t.Errorf("state %v, keys %v, last success %v", e.state.Keys(), e.keys(), st.LastSuccess)
		}
		proxy.Clear()

		proxy.Fail("GET /"+e.bucket+"/"+keyA1, awstest.Denied("AccessDenied"))
		proxy.Fail("DELETE /"+e.bucket+"/"+keyB1, awstest.Denied("AccessDenied"))
		if err := s.Poll(ctx); err == nil {
			t.Fatal("Poll with a get denied: no error")
		}
		// Same LastModified: key order. A1 is denied, which stops its scope.
		if handled, _ := e.h.take(); !slices.Equal(handled, []string{keyB1, keyB2}) {
			t.Errorf("handled %v", handled)
		}
		st = s.Status()
		if p, ok := problem(st, LogDownload, ""); !ok || !strings.Contains(p.Detail, keyA1) {
			t.Errorf("get denied: problem %+v, %t", p, ok)
		}
		if p, ok := problem(st, LogDownload, keyB1); !ok || p.Severity != SeverityWarning || !strings.Contains(p.Detail, "delete") {
			t.Errorf("delete denied: problem %+v, %t", p, ok)
		}
		if d := cmp.Diff(sorted(keyA1, keyA2, keyB1), e.keys()); d != "" {
			t.Errorf("keys left (-want +got):\n%s", d)
		}
		proxy.Clear()
		e.poll(s)
		if handled, _ := e.h.take(); !slices.Equal(handled, []string{keyA1, keyA2}) {
			t.Errorf("handled once allowed: %v", handled)
		}
		if _, ok := problem(s.Status(), LogDownload, ""); ok {
			t.Error("the bucket's problem stays after it was solved")
		}
		// A restart finds the committed object not deleted and deletes it.
		e.poll(e.source(Options{Delete: true}))
		if handled, _ := e.h.take(); len(handled) != 0 || len(e.keys()) != 0 {
			t.Errorf("after restart: handled %v, keys left %v", handled, e.keys())
		}
	})

	t.Run("at most Concurrency objects at once", func(t *testing.T) {
		e := newEnv(t)
		for i := range 6 {
			e.put(plainKey(acct1, region1, "2026/11/23", fmt.Sprintf("f%d.log.gz", i)))
		}
		e.h.delay = 50 * time.Millisecond
		e.poll(e.source(Options{}))
		if handled, _ := e.h.take(); len(handled) != 6 || e.h.maxFlight > 2 {
			t.Errorf("handled %d, at most %d at once; want 6, at most 2", len(handled), e.h.maxFlight)
		}
	})
}

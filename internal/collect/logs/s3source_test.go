package logs

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store/storetest"
)

const (
	account = "123456789012"
	region  = "eu-west-1"
	webARN  = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123456789abcdef"
	oldARN  = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/old-lb"
	cfID    = "EDFDVBD6EXAMPLE"
)

// The map the tests resolve against: two load balancers and a
// distribution known by its id.
var known = map[string]string{webARN: "web", oldARN: "old", cfID: "shop"}

func resolve(ref string) (string, bool) {
	id, ok := known[ref]
	return id, ok
}

// albKeyOf is the key of an ALB's object in the documented layout.
func albKeyOf(prefix, lb string, end time.Time, node string) string {
	return prefix + "AWSLogs/" + account + "/elasticloadbalancing/" + region + "/" + end.Format("2006/01/02") + "/" +
		account + "_elasticloadbalancing_" + region + "_" + lb + "_" + end.Format("20060102T1504Z") + "_" + node + "_r4nd0m.log.gz"
}

// albLine is an ALB access log entry at t with a request path.
func albLine(t time.Time, path string, status int) string {
	return strings.NewReplacer("2018-07-02T22:23:00.186641Z", t.Format(time.RFC3339Nano), "http://www.example.com:80/", "http://www.example.com:80"+path,
		" 200 200 ", " "+strconv.Itoa(status)+" "+strconv.Itoa(status)+" ").Replace(albExample)
}

func gzipped(t testing.TB, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(text))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testBucket is a bucket in a moto of its own.
type testBucket struct {
	t    *testing.T
	ctx  context.Context
	m    *awstest.Moto
	cfg  aws.Config
	c    *s3.Client // straight to moto
	name string
}

func newTestBucket(ctx context.Context, t *testing.T, name string) *testBucket {
	t.Helper()
	m := awstest.StartT(t)
	cfg, err := m.Config(ctx, region, account)
	if err != nil {
		t.Fatal(err)
	}
	c := awsconn.NewS3(cfg)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: region}}); awstest.RetriedCreate(err) != nil {
		t.Fatal(err)
	}
	return &testBucket{t: t, ctx: ctx, m: m, cfg: cfg, c: c, name: name}
}

func (b *testBucket) put(key string, body []byte) {
	b.t.Helper()
	if _, err := b.c.PutObject(b.ctx, &s3.PutObjectInput{Bucket: aws.String(b.name), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		b.t.Fatal(err)
	}
}

// countingAPI counts the objects read.
type countingAPI struct {
	S3API
	mu   sync.Mutex
	gets map[string]int
}

func (c *countingAPI) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.mu.Lock()
	c.gets[aws.ToString(in.Key)]++
	c.mu.Unlock()
	return c.S3API.GetObject(ctx, in, opts...)
}

func (c *countingAPI) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gets
	c.gets = map[string]int{}
	return g
}

// Objects of an ALB, a Classic Load Balancer and a distribution in moto's
// S3, read by polls: events on the right components with the records'
// times and fields; malformed lines counted with key and line number, the
// rest of the object read; a truncated gzip object read up to the cut; an
// unknown load balancer's object counted unmatched, not read; old objects
// left alone; nothing read twice, across a restart; a new object read;
// denied listings and reads reported with the action and the bucket.
func TestS3Logs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const bucket = "lb-logs"
	tb := newTestBucket(ctx, t, bucket)
	proxy := awstest.NewProxy(t, tb.m.URL)
	pcfg := tb.cfg.Copy()
	pcfg.BaseEndpoint = aws.String(proxy.URL)
	api := &countingAPI{S3API: awsconn.NewS3(pcfg), gets: map[string]int{}}
	put := tb.put

	now := time.Date(2026, 12, 7, 12, 30, 0, 0, time.UTC)
	t1, t2, t3 := now.Add(-28*time.Minute), now.Add(-27*time.Minute+500*time.Millisecond), now.Add(-26*time.Minute)
	longURL := "/" + strings.Repeat("a", 250*1024) // a 250 KB line: an entry
	web := strings.Join([]string{
		albLine(t1, "/one", 200),
		albLine(t2, "/two", 502),
		"http not-a-time app/web/0123456789abcdef", // line 3: malformed
		albLine(t3, "/caf\xe9", 200),               // invalid UTF-8
		albLine(t3, longURL, 200),
		strings.Repeat("x", 300*1024), // line 6: over 256 KB
		strings.Repeat("y", 600*1024), // line 7: longer than the reader's buffer
		albLine(t3.Add(time.Second), "/last", 404),
	}, "\n") + "\n"
	webKey := albKeyOf("", "app.web.0123456789abcdef", now.Add(-25*time.Minute), "10.0.0.1")
	put(webKey, gzipped(t, web))
	// A second node's object, cut in the middle of its gzip stream.
	var many strings.Builder
	for i := range 3000 {
		many.WriteString(albLine(t1.Add(-10*time.Minute+time.Duration(i)*time.Millisecond), "/many", 200) + "\n")
	}
	whole := gzipped(t, many.String())
	cutKey := albKeyOf("", "app.web.0123456789abcdef", now.Add(-25*time.Minute), "10.0.0.2")
	put(cutKey, whole[:len(whole)/2])
	gone := albKeyOf("", "app.gone.fedcba9876543210", now.Add(-25*time.Minute), "10.0.0.3")
	put(gone, gzipped(t, albLine(t1, "/", 200)+"\n"))
	old := albKeyOf("", "app.web.0123456789abcdef", now.Add(-3*time.Hour), "10.0.0.1") // before the lookback
	put(old, gzipped(t, albLine(now.Add(-3*time.Hour), "/old", 200)+"\n"))
	classic := strings.Replace(albKeyOf("", "old-lb", now.Add(-20*time.Minute), "10.0.0.9"), ".log.gz", ".log", 1)
	put(classic, []byte(strings.Replace(elbExample, "2015-05-13T23:39:43.945958Z", t2.Format(time.RFC3339Nano), 1)+"\n"))
	cfKey := "cf/" + cfID + ".2026-12-07-12.a1b2c3d4.gz"
	put(cfKey, gzipped(t, "#Version: 1.0\n#Fields: date time x-edge-location ...\n"+
		strings.Replace(cfExample, "2019-12-04\t21:02:31", "2026-12-07\t12:05:00", 1)+"\n"))
	put("cf/readme.txt", []byte("not a log"))

	buckets := []Bucket{{Bucket: bucket, Kind: KindALB, Account: account, Region: region},
		{Bucket: bucket, Kind: KindELB, Account: account, Region: region},
		{Bucket: bucket, Prefix: "cf/", Kind: KindCloudFront, Account: account, Region: region}}
	state := &storetest.MemState{}
	clock := now
	var tail *Tail // where events are kept: a restart starts a new one
	newLogs := func() *S3Logs {
		tail = &Tail{}
		return &S3Logs{Buckets: buckets, Client: func(context.Context, Bucket) (S3API, error) { return api, nil }, Resolve: resolve,
			State: state, Sink: tail.Add, Now: func() time.Time { return clock }}
	}
	s := newLogs()
	s.Poll(ctx)

	evs := tail.Recent("web")
	var paths []string
	for _, e := range evs {
		if e.Source != SourceS3 || e.Group != "s3://"+bucket+"/" || e.Stream == "" || e.IngestionTime.IsZero() || e.Fields == nil {
			t.Errorf("event %+v", e)
		}
		if e.Stream == webKey {
			p, _, _ := strings.Cut(strings.TrimPrefix(e.Fields["request"].(string), "GET http://www.example.com:80"), " ")
			paths = append(paths, p[:min(len(p), 8)])
		}
	}
	if got := strings.Join(paths, ","); got != "/one,/two,/caf\uFFFD,/aaaaaaa,/last" {
		t.Errorf("paths of the events of %s: %s", webKey, got)
	}
	if len(evs) != 100 || !evs[len(evs)-1].Timestamp.Equal(t3.Add(time.Second)) {
		t.Errorf("web: %d events, last at %v", len(evs), evs[len(evs)-1].Timestamp)
	}
	for _, e := range evs {
		switch {
		case e.Timestamp.Equal(t2) && e.Stream == webKey:
			if e.Fields["elb_status_code"] != 502 || e.Fields["client"] != "192.168.131.39:2817" || e.Fields["target"] != "10.0.0.1:80" ||
				e.Fields["sent_bytes"] != int64(366) {
				t.Errorf("fields of the 502: %v", e.Fields)
			}
		case strings.Contains(e.Message, "/caf"):
			if !e.InvalidUTF8 {
				t.Errorf("invalid UTF-8 not flagged: %+v", e)
			}
		case strings.Contains(e.Message, "/aaaa"):
			if e.Truncated || len(e.Message) < 250*1024 {
				t.Errorf("the 250 KB entry: truncated %v, %d bytes", e.Truncated, len(e.Message))
			}
		}
	}
	if r := tail.Recent("old"); len(r) != 1 || !r[0].Timestamp.Equal(t2) || r[0].Fields["backend_status_code"] != 200 {
		t.Errorf("classic load balancer: %+v", r)
	}
	if r := tail.Recent("shop"); len(r) != 1 || !r[0].Timestamp.Equal(time.Date(2026, 12, 7, 12, 5, 0, 0, time.UTC)) || r[0].Fields["sc_status"] != 200 ||
		r[0].Stream != cfKey || r[0].Group != "s3://"+bucket+"/cf/" {
		t.Errorf("distribution: %+v", r)
	}
	gets := api.take()
	if gets[webKey] != 1 || gets[cutKey] != 1 || gets[classic] != 1 || gets[cfKey] != 1 || gets[gone] != 0 || gets[old] != 0 || len(gets) != 4 {
		t.Errorf("objects read: %v", gets)
	}
	sts := s.S3Statuses()
	if len(sts) != 3 {
		t.Fatalf("statuses %+v", sts)
	}
	alb := sts[0]
	if alb.Objects != 2 || alb.Unmatched != 1 || alb.Corrupt != 1 || alb.Malformed != 3 || alb.Records < 5+1000 || alb.Records > 5+2999 {
		t.Errorf("ALB status %+v", alb)
	}
	for i, want := range []string{webKey + " line 3: malformed log line", webKey + " line 6: malformed log line: longer than 262144 bytes",
		webKey + " line 7: longer than 524287 bytes"} {
		if i >= len(alb.LastMalformed) || !strings.HasPrefix(alb.LastMalformed[i], "s3://"+bucket+"/"+want) {
			t.Errorf("malformed line %d: %q", i, alb.LastMalformed)
		}
	}
	if !strings.Contains(alb.LastError, cutKey+": corrupt gzip data") {
		t.Errorf("ALB last error %q", alb.LastError)
	}
	if sts[1].Objects != 1 || sts[1].Records != 1 || sts[2].Objects != 1 || sts[2].Records != 1 || sts[2].Malformed != 0 {
		t.Errorf("classic and CloudFront statuses %+v %+v", sts[1], sts[2])
	}

	// Nothing twice: a second poll, and a restart from the same state.
	clock = now.Add(time.Minute)
	s.Poll(ctx)
	s = newLogs()
	s.Poll(ctx)
	if gets := api.take(); len(gets) != 0 {
		t.Errorf("read again: %v", gets)
	}
	// A new object is read, and only it.
	time.Sleep(1100 * time.Millisecond) // LastModified has whole seconds
	newKey := albKeyOf("", "app.web.0123456789abcdef", now.Add(-5*time.Minute), "10.0.0.1")
	put(newKey, gzipped(t, albLine(now.Add(-6*time.Minute), "/new", 201)+"\n"))
	s.Poll(ctx)
	if gets := api.take(); len(gets) != 1 || gets[newKey] != 1 {
		t.Errorf("after a new object: %v", gets)
	}
	if r := tail.Recent("web"); len(r) != 1 || r[0].Fields["elb_status_code"] != 201 {
		t.Errorf("web after a restart: %+v", r)
	}

	// Denied: the listing, then the reading, named with the bucket.
	proxy.Fail("GET /"+bucket, awstest.Denied("AccessDenied"))
	s.Poll(ctx)
	if st := s.S3Statuses()[0]; st.Errors == 0 || !strings.Contains(st.LastError, "s3:ListBucket on s3://"+bucket+"/AWSLogs/: not authorized to perform s3:ListBucket") {
		t.Errorf("listing denied: %d errors, last %q", st.Errors, st.LastError)
	}
	proxy.Clear()
	time.Sleep(1100 * time.Millisecond)
	denied := albKeyOf("", "app.web.0123456789abcdef", now.Add(-time.Minute), "10.0.0.1")
	put(denied, gzipped(t, albLine(now.Add(-2*time.Minute), "/denied", 200)+"\n"))
	proxy.Fail("GET /"+bucket+"/"+denied, awstest.Denied("AccessDenied"))
	s.Poll(ctx)
	if st := s.S3Statuses()[0]; !strings.Contains(st.LastError, "s3:GetObject on s3://"+bucket+"/"+denied+": not authorized to perform s3:GetObject") {
		t.Errorf("read denied: %d errors, last %q", st.Errors, st.LastError)
	}
	proxy.Clear()
	api.take()
	s.Poll(ctx) // the denied object was not passed over
	if gets := api.take(); gets[denied] != 1 || len(gets) != 1 {
		t.Errorf("once allowed: %v", gets)
	}
}

// A time range is read on demand from the objects of its hours: the lines
// of [from, to) that contain the filter, oldest first, at most limit;
// truncated past the limit or the bytes read per request.
func TestS3LogsFetch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const bucket = "lb-logs-fetch"
	tb := newTestBucket(ctx, t, bucket)
	// Twelve objects, one every five minutes, their times in their keys
	// from 23:35 on 6 December to 00:30 on the 7th: the range crosses
	// midnight.
	start := time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC)
	for i := range 12 {
		end := start.Add(time.Duration(i+1) * 5 * time.Minute)
		var text strings.Builder
		for j := range 5 {
			at := end.Add(-5*time.Minute + time.Duration(j)*time.Minute)
			path := "/ok"
			if j == 2 {
				path = "/error"
			}
			text.WriteString(albLine(at, path, 200) + "\n")
		}
		key := albKeyOf("lb/", "app.web.0123456789abcdef", end, "10.0.0.1")
		tb.put(key, gzipped(t, text.String()))
	}
	s := &S3Logs{Buckets: []Bucket{{Bucket: bucket, Prefix: "lb", Kind: KindALB, Account: account, Region: region}},
		Client: func(context.Context, Bucket) (S3API, error) { return tb.c, nil }, Resolve: resolve, State: &storetest.MemState{}}
	f := &Fetcher{S3: s}
	lb := &model.Component{ID: webARN, Type: "aws.elb-v2.application-load-balancer", Account: account, Region: region}
	groups, err := f.Groups(lb, resolve)
	if err != nil || len(groups) != 1 || groups[0].Source != SourceS3 || groups[0].Name != "s3://"+bucket+"/lb" ||
		groups[0].S3.Stem != "app.web.0123456789abcdef_" {
		t.Fatalf("groups %+v %v", groups, err)
	}
	from, to := time.Date(2026, 12, 6, 23, 52, 0, 0, time.UTC), time.Date(2026, 12, 7, 0, 13, 0, 0, time.UTC)
	res, err := f.Fetch(ctx, groups, Query{From: from, To: to, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 21 || res.Truncated || !res.Events[0].Timestamp.Equal(from) || !res.Events[20].Timestamp.Equal(to.Add(-time.Minute)) ||
		res.Groups[0].Events != 21 || res.Groups[0].Error != "" {
		t.Errorf("[23:52, 00:13): %d events, %v .. %v, truncated %v, %+v", len(res.Events), res.Events[0].Timestamp, res.Events[len(res.Events)-1].Timestamp, res.Truncated, res.Groups)
	}
	// The objects read are those that may hold lines of the range.
	if n := res.Groups[0].Objects; n < 5 || n > 7 {
		t.Errorf("%d objects read for 21 minutes", n)
	}
	res, _ = f.Fetch(ctx, groups, Query{From: from, To: to, Filter: "/error", Limit: 100})
	if len(res.Events) != 5 || res.Truncated {
		t.Errorf("filter: %d events, truncated %v", len(res.Events), res.Truncated)
	}
	for _, e := range res.Events {
		if !strings.Contains(e.Message, "/error") || e.Timestamp.Minute()%5 != 2 {
			t.Errorf("filtered event %+v", e)
		}
	}
	res, _ = f.Fetch(ctx, groups, Query{From: from, To: to, Limit: 3})
	if len(res.Events) != 3 || !res.Truncated || !res.Events[2].Timestamp.Equal(from.Add(2*time.Minute)) || res.Groups[0].Objects > 2 {
		t.Errorf("limit 3: %d events, truncated %v, %d objects", len(res.Events), res.Truncated, res.Groups[0].Objects)
	}
	s.MaxFetchBytes = 1 // one object, then stop
	res, _ = f.Fetch(ctx, groups, Query{From: from, To: to, Limit: 100})
	if !res.Truncated || res.Groups[0].Objects != 1 || res.Groups[0].Unread < 4 {
		t.Errorf("past the bytes per request: truncated %v, %+v", res.Truncated, res.Groups)
	}
	// A component of no kind with delivered logs keeps its answer.
	if _, err := f.Groups(&model.Component{ID: "vpc-1", Type: "aws.ec2.vpc"}, resolve); err == nil {
		t.Error("a VPC has groups")
	}
}

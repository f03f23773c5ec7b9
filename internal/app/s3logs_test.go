package app

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awsconn"
)

// The access log objects of the estate's ALB (created in moto with
// CreateLoadBalancer) and of its CloudFront distribution, written to
// moto's S3 under the documented keys, show through the API of serve as
// the logs of that load balancer and distribution: the last events
// (?recent=true), a time range read on demand, and /api/status counting
// what was read, the malformed line (with key and line number) and the
// object of a load balancer the map does not hold.
func TestServeDeliveredLogs(t *testing.T) {
	m, b := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alb, ok := b.ID("<lb:web-alb>")
	if !ok {
		t.Fatal("the estate has no <lb:web-alb>")
	}
	dist, ok := b.ID("<cf:shop>")
	if !ok {
		t.Fatal("the estate has no <cf:shop>")
	}
	// arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web-alb/<id>
	parts := strings.Split(alb, "/")
	if len(parts) != 4 || !strings.Contains(alb, ":eu-west-1:123456789012:") {
		t.Fatalf("ALB ARN %q", alb)
	}
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	c := awsconn.NewS3(cfg)
	const bucket = "skymap-access-logs"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	gz := func(text string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(text))
		zw.Close()
		return buf.Bytes()
	}
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	end := now.Add(-5 * time.Minute)
	albKey := func(stem string) string {
		return "prod/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/" + end.Format("2006/01/02") + "/123456789012_elasticloadbalancing_eu-west-1_" +
			stem + "_" + end.Format("20060102T1504Z") + "_10.0.1.17_5lg8f2ka.log.gz"
	}
	line := func(at time.Time, path string, status string) string {
		return "https " + at.Format(time.RFC3339Nano) + " app/web-alb/" + parts[3] + " 203.0.113.9:52100 10.0.1.20:80 0.000 0.004 0.000 " + status + " " + status +
			` 210 1320 "GET https://shop.example.com:443` + path + ` HTTP/1.1" "Mozilla/5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ` +
			`arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "shop.example.com" "-" 0 ` +
			at.Format(time.RFC3339Nano) + ` "forward" "-" "-" "10.0.1.20:80" "200" "-" "-"`
	}
	t1, t2 := now.Add(-7*time.Minute), now.Add(-6*time.Minute)
	key := albKey("app.web-alb." + parts[3])
	put(key, gz(line(t1, "/cart", "200")+"\nnot an entry\n"+line(t2, "/pay", "503")+"\n"))
	put(albKey("app.deleted-lb.0123456789abcdef"), gz(line(t1, "/", "200")+"\n"))
	cfKey := "cf/" + dist + "." + now.Format("2006-01-02-15") + ".EXAMPLE1.gz"
	put(cfKey, gz("#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip ...\n"+now.Format("2006-01-02\t15:04:05")+
		"\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0\t-\t-\tHit\tSOX4xwn4XV6Q\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-\n"))

	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\nlogs:\n  poll_interval: 1\n  s3:\n"+
		"    - {bucket: "+bucket+", prefix: prod, kind: alb, region: eu-west-1}\n"+
		"    - {bucket: "+bucket+", prefix: cf/, kind: cloudfront, region: eu-west-1, account: '123456789012'}\n", t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	base := "http://" + addr + "/api/components/"

	var recent api.RecentLogList
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		getJSON(t, base+url.PathEscape(alb)+"/logs?recent=true", &recent)
		if len(recent.Events) >= 2 {
			break
		}
	}
	if len(recent.Events) != 2 || recent.Component != alb {
		t.Fatalf("recent events of %s: %+v", alb, recent)
	}
	for i, want := range []struct {
		at     time.Time
		status float64 // JSON numbers
	}{{t1, 200}, {t2, 503}} {
		e := recent.Events[i]
		if !e.Timestamp.Equal(want.at) || e.Source != "s3" || e.Stream != key || e.Group != "s3://"+bucket+"/prod" ||
			e.Fields["elb_status_code"] != want.status || e.Fields["client"] != "203.0.113.9:52100" || !strings.HasPrefix(e.Message, "https ") {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	// The buckets are polled one after the other.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		getJSON(t, base+url.PathEscape(dist)+"/logs?recent=true", &recent)
		if len(recent.Events) > 0 {
			break
		}
	}
	if len(recent.Events) != 1 || !recent.Events[0].Timestamp.Equal(now) || recent.Events[0].Fields["cs_uri_stem"] != "/index.html" {
		t.Errorf("recent events of the distribution %s: %+v", dist, recent)
	}

	// A time range is read from the bucket when asked.
	var list api.LogList
	getJSON(t, base+url.PathEscape(alb)+"/logs?from="+now.Add(-30*time.Minute).Format(time.RFC3339)+"&to="+now.Format(time.RFC3339)+"&filter=%2Fpay", &list)
	if len(list.Events) != 1 || !list.Events[0].Timestamp.Equal(t2) || list.Truncated || len(list.Groups) != 1 {
		t.Fatalf("time range: %+v", list)
	}
	if g := list.Groups[0]; g.Source != "s3" || g.Name != "s3://"+bucket+"/prod" || g.Objects != 1 || g.Events != 1 || g.Error != "" || g.S3 == nil || g.S3.Kind != "alb" {
		t.Errorf("group %+v", g)
	}

	var st StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &st)
	if len(st.LogsS3) != 2 {
		t.Fatalf("logs_s3 %+v", st.LogsS3)
	}
	if a := st.LogsS3[0]; a.Bucket.Bucket != bucket || a.Objects != 1 || a.Records != 2 || a.Malformed != 1 || a.Unmatched != 1 ||
		len(a.LastMalformed) != 1 || a.LastMalformed[0] != "s3://"+bucket+"/"+key+" line 2: malformed log line: 3 fields, want at least 19" {
		t.Errorf("ALB bucket status %+v", a)
	}
	if cf := st.LogsS3[1]; cf.Objects != 1 || cf.Records != 1 || cf.Errors != 0 {
		t.Errorf("CloudFront bucket status %+v", cf)
	}
	for _, call := range st.Calls {
		if strings.HasSuffix(call.API, "|GetObject") && call.Outcome != "ok" {
			t.Errorf("call status %+v", call)
		}
	}
}

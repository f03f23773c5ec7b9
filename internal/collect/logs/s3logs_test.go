package logs

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The documented examples of the ALB and CloudFront log formats.
const (
	albExample = `http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"`
	albError   = `https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 502 - 34 366 "GET https://www.example.com:443/ HTTP/1.1" "say \"hi\"" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-"`
	cfExample  = "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-"
)

func TestParseALBLine(t *testing.T) {
	r, err := ParseALBLine(albExample)
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "http" || !r.Time.Equal(time.Date(2018, 7, 2, 22, 23, 0, 186641000, time.UTC)) || r.LoadBalancer != "app/my-loadbalancer/50dc6c495c0c9188" ||
		r.Client != "192.168.131.39:2817" || r.Target != "10.0.0.1:80" || r.ELBStatus != 200 || r.TargetStatus != 200 || r.ReceivedBytes != 34 ||
		r.SentBytes != 366 || r.Request != "GET http://www.example.com:80/ HTTP/1.1" || r.UserAgent != "curl/7.46.0" ||
		r.TargetGroupARN != "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067" || r.ErrorReason != "" {
		t.Errorf("%+v", r)
	}
	r, err = ParseALBLine(albError)
	if err != nil || r.TargetStatus != 0 || r.ELBStatus != 502 || r.TargetSeconds != -1 || r.UserAgent != `say "hi"` || r.ErrorReason != "LambdaInvalidResponse" {
		t.Errorf("error entry: %v %+v", err, r)
	}
	for _, bad := range []string{"", "http", strings.Replace(albExample, "200 200", "2x0 200", 1), albExample[:strings.Index(albExample, "curl")],
		strings.Replace(albExample, " 34 ", " -34 ", 1), albExample[:80], strings.Repeat("x", maxLineBytes+1)} {
		if _, err := ParseALBLine(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseALBLine(%.60q): %v, want ErrMalformed", bad, err)
		}
	}
	if r, err := ParseALBLine(strings.Replace(albExample, "curl/7.46.0", "curl\xff", 1)); err != nil || !r.InvalidUTF8 || !utf8.ValidString(r.UserAgent) {
		t.Errorf("invalid UTF-8: %v %+v", err, r)
	}
}

func TestParseCloudFrontLine(t *testing.T) {
	r, err := ParseCloudFrontLine(cfExample)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Time.Equal(time.Date(2019, 12, 4, 21, 2, 31, 0, time.UTC)) || r.EdgeLoc != "LAX1" || r.Bytes != 392 || r.ClientIP != "192.0.2.100" ||
		r.Method != "GET" || r.Host != "d111111abcdef8.cloudfront.net" || r.URI != "/index.html" || r.Status != 200 || r.ResultType != "Hit" || r.TimeTaken != 0.001 {
		t.Errorf("%+v", r)
	}
	if _, err := ParseCloudFrontLine("#Version: 1.0"); !errors.Is(err, ErrHeader) {
		t.Errorf("header: %v", err)
	}
	for _, bad := range []string{"", "2019-12-04\t21:02:31", strings.Replace(cfExample, "\t392\t", "\tmany\t", 1), strings.Replace(cfExample, "21:02:31", "25:61:00", 1)} {
		if _, err := ParseCloudFrontLine(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCloudFrontLine(%.60q): %v, want ErrMalformed", bad, err)
		}
	}
}

// The documented examples of the Classic Load Balancer format: HTTP, TCP
// listener, no backend, and an entry from before user_agent was added.
const (
	elbExample = `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -`
	elbTCP     = `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -`
	elbNoBack  = `2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 - -1 -1 -1 504 0 0 0 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2`
	elbOld     = `2014-02-15T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1"`
)

func TestParseELBLine(t *testing.T) {
	r, err := ParseELBLine(elbExample)
	if err != nil {
		t.Fatal(err)
	}
	want := ELBRecord{Time: time.Date(2015, 5, 13, 23, 39, 43, 945958000, time.UTC), LoadBalancer: "my-loadbalancer", Client: "192.168.131.39:2817",
		Backend: "10.0.0.1:80", ELBStatus: 200, BackendStatus: 200, SentBytes: 29, Request: "GET http://www.example.com:80/ HTTP/1.1",
		UserAgent: "curl/7.38.0", BackendSeconds: 0.001048}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if r, err := ParseELBLine(elbTCP); err != nil || r.ELBStatus != 0 || r.BackendStatus != 0 || r.ReceivedBytes != 82 || r.UserAgent != "" {
		t.Errorf("TCP listener: %v %+v", err, r)
	}
	if r, err := ParseELBLine(elbNoBack); err != nil || r.Backend != "-" || r.BackendSeconds != -1 || r.ELBStatus != 504 {
		t.Errorf("no backend: %v %+v", err, r)
	}
	if r, err := ParseELBLine(elbOld); err != nil || r.Request == "" || r.UserAgent != "" {
		t.Errorf("without user_agent: %v %+v", err, r)
	}
	for _, bad := range []string{"", elbExample[:60], strings.Replace(elbExample, " 0 29 ", " 0 -29 ", 1), strings.Replace(elbExample, "2015-05-13T", "2015-13-13T", 1),
		strings.Replace(elbExample, " 200 200 ", " 2000 200 ", 1), albExample} {
		if _, err := ParseELBLine(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseELBLine(%.60q): %v, want ErrMalformed", bad, err)
		}
	}
}

// Parsing with a scratch field list allocates nothing for a line without
// escapes: the records' strings are the line's.
func TestParseAllocs(t *testing.T) {
	var scratch []string
	var alb ALBRecord
	var elb ELBRecord
	var cf CloudFrontRecord
	for name, parse := range map[string]func() error{
		"alb":        func() error { return parseALB(albExample, &alb, &scratch) },
		"elb":        func() error { return parseELB(elbExample, &elb, &scratch) },
		"cloudfront": func() error { return parseCloudFront(cfExample, &cf, &scratch) },
	} {
		if err := parse(); err != nil {
			t.Fatal(name, err)
		}
		if n := testing.AllocsPerRun(100, func() { parse() }); n != 0 {
			t.Errorf("%s: %v allocations per line", name, n)
		}
	}
	if alb.UserAgent != "curl/7.46.0" || elb.UserAgent != "curl/7.38.0" || cf.URI != "/index.html" {
		t.Errorf("records %+v %+v %+v", alb, elb, cf)
	}
}

func TestParseELBKey(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want ObjectKey
	}{
		{"AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz",
			ObjectKey{KindALB, "arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/app/my-loadbalancer/1234567890abcdef", "123456789012", "us-east-2",
				time.Date(2014, 2, 15, 23, 40, 0, 0, time.UTC)}},
		{"my-prefix/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/12/07/123456789012_elasticloadbalancing_eu-west-1_app.web.0123456789abcdef_20261207T1200Z_10.0.0.1_abc.log.gz",
			ObjectKey{KindALB, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123456789abcdef", "123456789012", "eu-west-1",
				time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}},
		// Classic, plain text; and partitions from the region.
		{"AWSLogs/123456789012/elasticloadbalancing/us-west-2/2014/02/15/123456789012_elasticloadbalancing_us-west-2_my-loadbalancer_20140215T2340Z_172.160.001.192_20sg8hgm.log",
			ObjectKey{KindELB, "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/my-loadbalancer", "123456789012", "us-west-2",
				time.Date(2014, 2, 15, 23, 40, 0, 0, time.UTC)}},
		{"AWSLogs/123456789012/elasticloadbalancing/cn-north-1/2026/12/07/123456789012_elasticloadbalancing_cn-north-1_app.web.0123456789abcdef_20261207T1200Z_10.0.0.1_abc.log.gz",
			ObjectKey{KindALB, "arn:aws-cn:elasticloadbalancing:cn-north-1:123456789012:loadbalancer/app/web/0123456789abcdef", "123456789012", "cn-north-1",
				time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}},
		{"AWSLogs/123456789012/elasticloadbalancing/us-gov-west-1/2026/12/07/123456789012_elasticloadbalancing_us-gov-west-1_old-lb_20261207T1200Z_10.0.0.1_abc.log",
			ObjectKey{KindELB, "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/old-lb", "123456789012", "us-gov-west-1",
				time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}},
	} {
		got, ok := ParseELBKey(tt.key)
		if d := cmp.Diff(tt.want, got); !ok || d != "" {
			t.Errorf("ParseELBKey(%q) %v (-want +got):\n%s", tt.key, ok, d)
		}
	}
	for _, key := range []string{
		"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/12/07/x.log.gz",
		"AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/../../x_app.a.1234567890abcdef_20140215T2340Z_1_2.log.gz",
		// A network load balancer's TLS log: another format.
		"AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/12/07/123456789012_elasticloadbalancing_eu-west-1_net.tls.0123456789abcdef_20261207T1200Z_abc.log.gz",
		// The folder's account or region is not the file's.
		"AWSLogs/111111111111/elasticloadbalancing/eu-west-1/2026/12/07/123456789012_elasticloadbalancing_eu-west-1_app.web.0123456789abcdef_20261207T1200Z_10.0.0.1_abc.log.gz",
		"AWSLogs/123456789012/elasticloadbalancing/eu-west-2/2026/12/07/123456789012_elasticloadbalancing_eu-west-1_app.web.0123456789abcdef_20261207T1200Z_10.0.0.1_abc.log.gz",
		// No such time.
		"AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/12/07/123456789012_elasticloadbalancing_eu-west-1_app.web.0123456789abcdef_20261207T2560Z_10.0.0.1_abc.log.gz",
		"AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/12/07/",
	} {
		if k, ok := ParseELBKey(key); ok {
			t.Errorf("ParseELBKey(%q) = %+v, want none", key, k)
		}
	}
}

func TestParseCloudFrontKey(t *testing.T) {
	for _, tt := range []struct{ key, prefix, id string }{
		{"cf-logs/EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz", "cf-logs/", "EMLARXS9EXAMPLE"},
		{"EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz", "", "EMLARXS9EXAMPLE"},
		{"logs-EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz", "logs-", "EMLARXS9EXAMPLE"}, // a prefix without "/"
	} {
		k, ok := ParseCloudFrontKey(tt.key, tt.prefix)
		if !ok || k.Resource != tt.id || k.Kind != KindCloudFront || !k.Time.Equal(time.Date(2019, 11, 14, 20, 0, 0, 0, time.UTC)) {
			t.Errorf("ParseCloudFrontKey(%q, %q) = %+v %v", tt.key, tt.prefix, k, ok)
		}
	}
	for _, tt := range []struct{ key, prefix string }{
		{"cf-logs/readme.txt", "cf-logs/"},
		{"other/EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz", "cf-logs/"},
		{"cf-logs/sub/EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz", "cf-logs/"},
		{"cf-logs/EMLARXS9EXAMPLE.2019-11-14-25.RT4KCN4SGK9.gz", "cf-logs/"},
	} {
		if k, ok := ParseCloudFrontKey(tt.key, tt.prefix); ok {
			t.Errorf("ParseCloudFrontKey(%q, %q) = %+v, want none", tt.key, tt.prefix, k)
		}
	}
}

// Whatever a line holds, the parsers answer a record of valid UTF-8 or an
// error, and never panic.
func FuzzParseALBLine(f *testing.F) {
	for _, s := range []string{albExample, albError, `"`, `a "b\`, "\xff \"\\\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseALBLine(line)
		if err == nil && (!utf8.ValidString(r.Request) || !utf8.ValidString(r.UserAgent) || !utf8.ValidString(r.ErrorReason)) {
			t.Errorf("invalid UTF-8 in %+v", r)
		}
	})
}

func FuzzParseELBLine(f *testing.F) {
	for _, s := range []string{elbExample, elbTCP, elbNoBack, `"`, "\xff \"\\\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseELBLine(line)
		if err == nil && (!utf8.ValidString(r.Request) || !utf8.ValidString(r.UserAgent) || !utf8.ValidString(r.LoadBalancer)) {
			t.Errorf("invalid UTF-8 in %+v", r)
		}
	})
}

func FuzzParseCloudFrontLine(f *testing.F) {
	for _, s := range []string{cfExample, "#Fields: date", "\t\t\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseCloudFrontLine(line)
		if err == nil && (!utf8.ValidString(r.URI) || !utf8.ValidString(r.Host)) {
			t.Errorf("invalid UTF-8 in %+v", r)
		}
	})
}

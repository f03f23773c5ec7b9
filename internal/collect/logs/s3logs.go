package logs

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Logs AWS delivers to S3: Application Load Balancer access logs and
// CloudFront standard logs. The object key names the load balancer or the
// distribution; a line is one request. Lines are untrusted text: parsing
// never panics, fails with the field at fault, and keeps strings as valid
// UTF-8.

// albKey is the documented key of an ALB access log object:
// [prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/
// <account>_elasticloadbalancing_<region>_app.<name>.<id>_<end>_<ip>_<random>.log.gz
var albKey = regexp.MustCompile(`(?:^|/)AWSLogs/(\d{12})/elasticloadbalancing/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/\d{12}_elasticloadbalancing_[a-z0-9-]+_(app|net)\.([A-Za-z0-9-]{1,32})\.([0-9a-f]{16})_\d{8}T\d{4}Z_[^/_]+_[^/_]+\.log\.gz$`)

// ALBObjectLoadBalancer returns the ARN of the load balancer whose access
// log an S3 key is, in the aws partition, or false for another key.
func ALBObjectLoadBalancer(key string) (string, bool) {
	m := albKey.FindStringSubmatch(key)
	if m == nil {
		return "", false
	}
	return "arn:aws:elasticloadbalancing:" + m[2] + ":" + m[1] + ":loadbalancer/" + m[3] + "/" + m[4] + "/" + m[5], true
}

// ALBRecord is the part of an ALB access log entry skymap reads.
type ALBRecord struct {
	Type           string    `json:"type"`
	Time           time.Time `json:"time"`
	LoadBalancer   string    `json:"load_balancer"` // app/<name>/<id>
	Client         string    `json:"client"`        // ip:port
	Target         string    `json:"target"`        // ip:port, or "-"
	ELBStatus      int       `json:"elb_status_code"`
	TargetStatus   int       `json:"target_status_code"` // 0 for "-"
	ReceivedBytes  int64     `json:"received_bytes"`
	SentBytes      int64     `json:"sent_bytes"`
	Request        string    `json:"request"`
	UserAgent      string    `json:"user_agent"`
	TargetGroupARN string    `json:"target_group_arn"`
	TargetSeconds  float64   `json:"target_processing_time"` // -1 when the target did not answer
	ErrorReason    string    `json:"error_reason,omitempty"`
	InvalidUTF8    bool      `json:"invalid_utf8,omitempty"`
}

// ErrMalformed is what the parsers return, wrapped with the field at
// fault, for a line that is not an entry.
var ErrMalformed = errors.New("malformed log line")

// maxLineBytes bounds a line the parsers read.
const maxLineBytes = 256 * 1024

// ParseALBLine parses one ALB access log entry (the documented
// space-separated fields, strings in double quotes); fields added after
// the ones read are ignored, as AWS documents they may be.
func ParseALBLine(line string) (ALBRecord, error) {
	var r ALBRecord
	if len(line) > maxLineBytes {
		return r, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxLineBytes)
	}
	if !utf8.ValidString(line) {
		line, r.InvalidUTF8 = strings.ToValidUTF8(line, "\uFFFD"), true
	}
	f, err := fields(line, 25)
	if err != nil {
		return r, err
	}
	if len(f) < 19 {
		return r, fmt.Errorf("%w: %d fields, want at least 19", ErrMalformed, len(f))
	}
	r.Type, r.LoadBalancer, r.Client, r.Target = f[0], f[2], f[3], f[4]
	if r.Time, err = time.Parse(time.RFC3339Nano, f[1]); err != nil {
		return r, fmt.Errorf("%w: time %q", ErrMalformed, f[1])
	}
	if r.TargetSeconds, err = strconv.ParseFloat(f[6], 64); err != nil {
		return r, fmt.Errorf("%w: target_processing_time %q", ErrMalformed, f[6])
	}
	if r.ELBStatus, err = status(f[8]); err != nil {
		return r, fmt.Errorf("%w: elb_status_code %q", ErrMalformed, f[8])
	}
	if r.TargetStatus, err = status(f[9]); err != nil {
		return r, fmt.Errorf("%w: target_status_code %q", ErrMalformed, f[9])
	}
	if r.ReceivedBytes, err = strconv.ParseInt(f[10], 10, 64); err != nil || r.ReceivedBytes < 0 {
		return r, fmt.Errorf("%w: received_bytes %q", ErrMalformed, f[10])
	}
	if r.SentBytes, err = strconv.ParseInt(f[11], 10, 64); err != nil || r.SentBytes < 0 {
		return r, fmt.Errorf("%w: sent_bytes %q", ErrMalformed, f[11])
	}
	r.Request, r.UserAgent, r.TargetGroupARN = f[12], f[13], f[16]
	if len(f) > 24 && f[24] != "-" {
		r.ErrorReason = f[24]
	}
	return r, nil
}

// status reads an HTTP status code, 0 for "-".
func status(s string) (int, error) {
	if s == "-" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 999 {
		return 0, ErrMalformed
	}
	return n, nil
}

// fields splits an ALB line into at most n fields: space-separated, a
// field in double quotes may hold spaces and \" escapes.
func fields(line string, n int) ([]string, error) {
	var out []string
	for i := 0; i < len(line) && len(out) < n; {
		if line[i] == ' ' {
			i++
			continue
		}
		if line[i] != '"' {
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			out = append(out, line[i:i+j])
			i += j
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(line) && line[j] != '"'; j++ {
			if line[j] == '\\' && j+1 < len(line) {
				j++
			}
			b.WriteByte(line[j])
		}
		if j >= len(line) {
			return nil, fmt.Errorf("%w: field %d: unterminated quote", ErrMalformed, len(out))
		}
		out = append(out, b.String())
		i = j + 1
	}
	return out, nil
}

// cloudFrontKey is the documented key of a CloudFront standard log
// object: [prefix/]<distribution-id>.yyyy-mm-dd-hh.<unique>.gz.
var cloudFrontKey = regexp.MustCompile(`(?:^|/)(E[A-Z0-9]{4,20})\.\d{4}-\d{2}-\d{2}-\d{2}\.[A-Za-z0-9]+\.gz$`)

// CloudFrontObjectDistribution returns the id of the distribution whose
// standard log an S3 key is, or false for another key.
func CloudFrontObjectDistribution(key string) (string, bool) {
	m := cloudFrontKey.FindStringSubmatch(key)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// CloudFrontRecord is the part of a CloudFront standard log entry skymap
// reads.
type CloudFrontRecord struct {
	Time        time.Time `json:"time"`
	EdgeLoc     string    `json:"x_edge_location"`
	Bytes       int64     `json:"sc_bytes"`
	ClientIP    string    `json:"c_ip"`
	Method      string    `json:"cs_method"`
	Host        string    `json:"cs_host"`
	URI         string    `json:"cs_uri_stem"`
	Status      int       `json:"sc_status"` // 0 for "-" (the viewer went away)
	ResultType  string    `json:"x_edge_result_type"`
	TimeTaken   float64   `json:"time_taken"`
	InvalidUTF8 bool      `json:"invalid_utf8,omitempty"`
}

// ParseCloudFrontLine parses one CloudFront standard log entry: the
// documented tab-separated fields (date, time, x-edge-location, sc-bytes,
// c-ip, cs-method, cs(Host), cs-uri-stem, sc-status, ... x-edge-result-type
// 14th, time-taken 19th). Header lines (#Version, #Fields) answer
// ErrHeader.
func ParseCloudFrontLine(line string) (CloudFrontRecord, error) {
	var r CloudFrontRecord
	if strings.HasPrefix(line, "#") {
		return r, ErrHeader
	}
	if len(line) > maxLineBytes {
		return r, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxLineBytes)
	}
	if !utf8.ValidString(line) {
		line, r.InvalidUTF8 = strings.ToValidUTF8(line, "\uFFFD"), true
	}
	f := strings.SplitN(line, "\t", 34)
	if len(f) < 19 {
		return r, fmt.Errorf("%w: %d fields, want at least 19", ErrMalformed, len(f))
	}
	var err error
	if r.Time, err = time.Parse("2006-01-02 15:04:05", f[0]+" "+f[1]); err != nil {
		return r, fmt.Errorf("%w: date and time %q %q", ErrMalformed, f[0], f[1])
	}
	if r.Bytes, err = strconv.ParseInt(f[3], 10, 64); err != nil || r.Bytes < 0 {
		return r, fmt.Errorf("%w: sc-bytes %q", ErrMalformed, f[3])
	}
	if r.Status, err = status(f[8]); err != nil && f[8] != "000" {
		return r, fmt.Errorf("%w: sc-status %q", ErrMalformed, f[8])
	}
	if r.TimeTaken, err = strconv.ParseFloat(f[18], 64); err != nil {
		return r, fmt.Errorf("%w: time-taken %q", ErrMalformed, f[18])
	}
	r.EdgeLoc, r.ClientIP, r.Method, r.Host, r.URI, r.ResultType = f[2], f[4], f[5], f[6], f[7], f[13]
	return r, nil
}

// ErrHeader is what ParseCloudFrontLine returns for a header line.
var ErrHeader = errors.New("header line")

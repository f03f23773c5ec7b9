package logs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The lines of the logs AWS delivers to S3: Application and Classic Load
// Balancer access logs and CloudFront standard logs, one request a line.
// Lines are untrusted text: parsing never panics, fails with the field at
// fault, and keeps strings as valid UTF-8. A record's strings share the
// line's memory; the parsers allocate only for quoted fields with escapes
// (and when they are given no scratch, for the field list).

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

// ErrHeader is what ParseCloudFrontLine returns for a header line.
var ErrHeader = errors.New("header line")

// maxLineBytes bounds a line the parsers read.
const maxLineBytes = 256 * 1024

// ParseALBLine parses one ALB access log entry (the documented
// space-separated fields, strings in double quotes); fields added after
// the ones read are ignored, as AWS documents they may be.
func ParseALBLine(line string) (ALBRecord, error) {
	var r ALBRecord
	err := parseALB(line, &r, nil)
	return r, err
}

// parseALB parses line into r, splitting it into scratch when not nil.
func parseALB(line string, r *ALBRecord, scratch *[]string) error {
	*r = ALBRecord{}
	line, bad, err := checkLine(line)
	if err != nil {
		return err
	}
	r.InvalidUTF8 = bad
	f, err := fields(line, 25, scratch)
	if err != nil {
		return err
	}
	if len(f) < 19 {
		return fmt.Errorf("%w: %d fields, want at least 19", ErrMalformed, len(f))
	}
	r.Type, r.LoadBalancer, r.Client, r.Target = f[0], f[2], f[3], f[4]
	if r.Time, err = time.Parse(time.RFC3339Nano, f[1]); err != nil {
		return fmt.Errorf("%w: time %q", ErrMalformed, f[1])
	}
	if r.TargetSeconds, err = strconv.ParseFloat(f[6], 64); err != nil {
		return fmt.Errorf("%w: target_processing_time %q", ErrMalformed, f[6])
	}
	if r.ELBStatus, err = status(f[8]); err != nil {
		return fmt.Errorf("%w: elb_status_code %q", ErrMalformed, f[8])
	}
	if r.TargetStatus, err = status(f[9]); err != nil {
		return fmt.Errorf("%w: target_status_code %q", ErrMalformed, f[9])
	}
	if r.ReceivedBytes, err = count(f[10]); err != nil {
		return fmt.Errorf("%w: received_bytes %q", ErrMalformed, f[10])
	}
	if r.SentBytes, err = count(f[11]); err != nil {
		return fmt.Errorf("%w: sent_bytes %q", ErrMalformed, f[11])
	}
	r.Request, r.UserAgent, r.TargetGroupARN = f[12], f[13], f[16]
	if len(f) > 24 && f[24] != "-" {
		r.ErrorReason = f[24]
	}
	return nil
}

// ELBRecord is the part of a Classic Load Balancer access log entry
// skymap reads.
type ELBRecord struct {
	Time           time.Time `json:"time"`
	LoadBalancer   string    `json:"elb"`     // its name
	Client         string    `json:"client"`  // ip:port
	Backend        string    `json:"backend"` // ip:port, or "-"
	ELBStatus      int       `json:"elb_status_code"`
	BackendStatus  int       `json:"backend_status_code"` // 0 for "-"
	ReceivedBytes  int64     `json:"received_bytes"`
	SentBytes      int64     `json:"sent_bytes"`
	Request        string    `json:"request"`
	UserAgent      string    `json:"user_agent,omitempty"`
	BackendSeconds float64   `json:"backend_processing_time"` // -1 when the backend did not answer
	InvalidUTF8    bool      `json:"invalid_utf8,omitempty"`
}

// ParseELBLine parses one Classic Load Balancer access log entry: the
// documented space-separated fields (timestamp elb client:port
// backend:port request_processing_time backend_processing_time
// response_processing_time elb_status_code backend_status_code
// received_bytes sent_bytes "request" "user_agent" ssl_cipher
// ssl_protocol). Entries written before AWS added user_agent and the TLS
// fields end after request; a TCP listener's have "-" status codes.
func ParseELBLine(line string) (ELBRecord, error) {
	var r ELBRecord
	err := parseELB(line, &r, nil)
	return r, err
}

// parseELB parses line into r, splitting it into scratch when not nil.
func parseELB(line string, r *ELBRecord, scratch *[]string) error {
	*r = ELBRecord{}
	line, bad, err := checkLine(line)
	if err != nil {
		return err
	}
	r.InvalidUTF8 = bad
	f, err := fields(line, 15, scratch)
	if err != nil {
		return err
	}
	if len(f) < 12 {
		return fmt.Errorf("%w: %d fields, want at least 12", ErrMalformed, len(f))
	}
	r.LoadBalancer, r.Client, r.Backend = f[1], f[2], f[3]
	if r.Time, err = time.Parse(time.RFC3339Nano, f[0]); err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrMalformed, f[0])
	}
	if r.BackendSeconds, err = strconv.ParseFloat(f[5], 64); err != nil {
		return fmt.Errorf("%w: backend_processing_time %q", ErrMalformed, f[5])
	}
	if r.ELBStatus, err = status(f[7]); err != nil {
		return fmt.Errorf("%w: elb_status_code %q", ErrMalformed, f[7])
	}
	if r.BackendStatus, err = status(f[8]); err != nil {
		return fmt.Errorf("%w: backend_status_code %q", ErrMalformed, f[8])
	}
	if r.ReceivedBytes, err = count(f[9]); err != nil {
		return fmt.Errorf("%w: received_bytes %q", ErrMalformed, f[9])
	}
	if r.SentBytes, err = count(f[10]); err != nil {
		return fmt.Errorf("%w: sent_bytes %q", ErrMalformed, f[10])
	}
	r.Request = f[11]
	if len(f) > 12 && f[12] != "-" {
		r.UserAgent = f[12]
	}
	return nil
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
	err := parseCloudFront(line, &r, nil)
	return r, err
}

// parseCloudFront parses line into r, splitting it into scratch when not
// nil.
func parseCloudFront(line string, r *CloudFrontRecord, scratch *[]string) error {
	*r = CloudFrontRecord{}
	if strings.HasPrefix(line, "#") {
		return ErrHeader
	}
	line, bad, err := checkLine(line)
	if err != nil {
		return err
	}
	r.InvalidUTF8 = bad
	var f []string
	if scratch != nil {
		f = (*scratch)[:0]
	}
	for i := 0; len(f) < 19; {
		j := strings.IndexByte(line[i:], '\t')
		if j < 0 {
			f = append(f, line[i:])
			break
		}
		f = append(f, line[i:i+j])
		i += j + 1
	}
	if scratch != nil {
		*scratch = f
	}
	if len(f) < 19 {
		return fmt.Errorf("%w: %d fields, want at least 19", ErrMalformed, len(f))
	}
	if r.Time, err = cloudFrontTime(f[0], f[1]); err != nil {
		return fmt.Errorf("%w: date and time %q %q", ErrMalformed, f[0], f[1])
	}
	if r.Bytes, err = count(f[3]); err != nil {
		return fmt.Errorf("%w: sc-bytes %q", ErrMalformed, f[3])
	}
	if r.Status, err = status(f[8]); err != nil {
		return fmt.Errorf("%w: sc-status %q", ErrMalformed, f[8])
	}
	if r.TimeTaken, err = strconv.ParseFloat(f[18], 64); err != nil {
		return fmt.Errorf("%w: time-taken %q", ErrMalformed, f[18])
	}
	r.EdgeLoc, r.ClientIP, r.Method, r.Host, r.URI, r.ResultType = f[2], f[4], f[5], f[6], f[7], f[13]
	return nil
}

// cloudFrontTime reads CloudFront's date (2006-01-02) and time (15:04:05)
// fields, UTC, without joining them.
func cloudFrontTime(date, clock string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return time.Time{}, err
	}
	c, err := time.Parse(time.TimeOnly, clock)
	if err != nil {
		return time.Time{}, err
	}
	return d.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute + time.Duration(c.Second())*time.Second), nil
}

// checkLine refuses a line over maxLineBytes and makes it valid UTF-8,
// saying whether it had to.
func checkLine(line string) (string, bool, error) {
	if len(line) > maxLineBytes {
		return line, false, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxLineBytes)
	}
	if !utf8.ValidString(line) {
		return strings.ToValidUTF8(line, "\uFFFD"), true, nil
	}
	return line, false, nil
}

// status reads an HTTP status code, 0 for "-" and for the zeros written
// when there was no answer (a Classic Load Balancer's backend that timed
// out, a CloudFront viewer that went away: "0", "000").
func status(s string) (int, error) {
	if s == "-" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || (n != 0 && n < 100) || n > 999 || s[0] == '+' || s[0] == '-' {
		return 0, ErrMalformed
	}
	return n, nil
}

// count reads a byte count: a non-negative integer.
func count(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, ErrMalformed
	}
	return n, nil
}

// fields splits a load balancer's line into at most n fields:
// space-separated, a field in double quotes may hold spaces and \"
// escapes. The fields are appended to (*scratch)[:0] when scratch is not
// nil; a quoted field is a copy only when it holds an escape.
func fields(line string, n int, scratch *[]string) ([]string, error) {
	var out []string
	if scratch != nil {
		out = (*scratch)[:0]
		defer func() { *scratch = out[:0] }()
	} else {
		out = make([]string, 0, n)
	}
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
		j := i + 1
		escaped := false
		for ; j < len(line) && line[j] != '"'; j++ {
			if line[j] == '\\' && j+1 < len(line) {
				escaped = true
				j++
			}
		}
		if j >= len(line) {
			return nil, fmt.Errorf("%w: field %d: unterminated quote", ErrMalformed, len(out))
		}
		if escaped {
			out = append(out, unescape(line[i+1:j]))
		} else {
			out = append(out, line[i+1:j])
		}
		i = j + 1
	}
	return out, nil
}

// unescape drops the backslash before each escaped byte.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

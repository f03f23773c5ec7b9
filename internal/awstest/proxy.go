package awstest

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Proxy is a reverse proxy in front of moto that answers chosen API calls
// with errors, so tests see how skymap behaves when AWS denies or fails a
// call. Point the SDK at Proxy.URL instead of moto's.
type Proxy struct {
	URL string

	mu     sync.Mutex
	faults map[string]Fault
	calls  map[string]int
}

// Fault is the error answered to a call: an HTTP status and an AWS error code.
type Fault struct {
	Status  int
	Code    string
	Message string
}

// Denied is the fault AWS answers when the caller lacks the permission.
func Denied(code string) Fault {
	return Fault{Status: http.StatusForbidden, Code: code, Message: "You are not authorized to perform this operation."}
}

// NewProxy starts a proxy to target for the duration of t.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{faults: map[string]Fault{}, calls: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action, ec2 := actionOf(r)
		p.mu.Lock()
		p.calls[action]++
		f, fail := p.faults[action]
		p.mu.Unlock()
		if !fail {
			rp.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(f.Status)
		code, msg := html.EscapeString(f.Code), html.EscapeString(f.Message)
		switch {
		case ec2:
			fmt.Fprintf(w, `<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>proxy</RequestID></Response>`, code, msg)
		case strings.HasPrefix(action, "s3:"):
			fmt.Fprintf(w, `<Error><Code>%s</Code><Message>%s</Message><RequestId>proxy</RequestId></Error>`, code, msg)
		default:
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>proxy</RequestId></ErrorResponse>`, code, msg)
		}
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Fail makes every call of action answer f until Clear. action is the
// query-protocol Action (e.g. "DescribeSubnets"), the JSON protocols'
// X-Amz-Target operation, or for S3 "s3:ListBuckets" and
// "s3:Get<subresource>" (e.g. "s3:GetBucketTagging").
func (p *Proxy) Fail(action string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[action] = f
}

// Clear removes every fault.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = map[string]Fault{}
}

// Calls returns how many calls of action the proxy saw.
func (p *Proxy) Calls(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[action]
}

// s3Subresources name the S3 bucket sub-resources the proxy recognises.
var s3Subresources = map[string]string{
	"tagging": "s3:GetBucketTagging", "notification": "s3:GetBucketNotificationConfiguration",
	"location": "s3:GetBucketLocation", "versioning": "s3:GetBucketVersioning",
}

// actionOf names the API call of r, and tells whether it is EC2's protocol.
func actionOf(r *http.Request) (action string, ec2 bool) {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndex(t, ".")+1:], false
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		return form.Get("Action"), form.Get("Version") == "2016-11-15"
	}
	if r.Method == http.MethodGet && r.URL.Path == "/" {
		return "s3:ListBuckets", false
	}
	for sub, name := range s3Subresources {
		if r.URL.Query().Has(sub) {
			return name, false
		}
	}
	return r.Method + " " + r.URL.Path, false
}

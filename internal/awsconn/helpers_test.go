package awsconn

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"github.com/skymap/skymap/internal/model"
)

// ignoreTime compares call statuses without their time.
var ignoreTime = cmpopts.IgnoreFields(model.CallStatus{}, "Time")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// isolateEnv removes every AWS_ variable for the test and points the shared
// config files at nothing, so the host's AWS setup cannot leak in. (An empty
// AWS_ENDPOINT_URL still counts as set for the SDK, hence the unset.)
func isolateEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// testHTTPClient returns a client whose idle connections are closed when the
// test ends, so goleak sees no leftover connection goroutines.
func testHTTPClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// closedPortURL returns the URL of a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// startMoto runs moto_server on a free loopback port until the test ends and
// returns its URL. Without moto the test is skipped, unless CI=true.
func startMoto(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("python3", "-c", "import moto.server").CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto is not importable: %v: %s", err, out)
		}
		t.Skipf("moto is not importable: %v", err)
	}
	u, _ := url.Parse(closedPortURL(t))
	port, _ := strconv.Atoi(u.Port())
	var logs bytes.Buffer
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := testHTTPClient(t)
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := client.Get(base + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("moto did not answer on %s: %v\n%s", base, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// proxy sits in front of moto, counts query-protocol actions and answers some
// itself. Only counters are read by tests; the rules are set before use.
type proxy struct {
	URL string

	denyProbe             bool // 403 AccessDenied to AssumeRole without ExternalId
	denyDescribeInstances bool // 403 UnauthorizedOperation to DescribeInstances

	mu          sync.Mutex
	actions     map[string]int
	externalIDs []string // ExternalId of every AssumeRole, "" when absent
}

func newProxy(t *testing.T, target string, configure func(*proxy)) *proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{actions: map[string]int{}}
	if configure != nil {
		configure(p)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	tr := &http.Transport{}
	rp.Transport = tr
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		p.mu.Lock()
		p.actions[action]++
		if action == "AssumeRole" {
			p.externalIDs = append(p.externalIDs, form.Get("ExternalId"))
		}
		p.mu.Unlock()
		switch {
		case action == "AssumeRole" && p.denyProbe && !form.Has("ExternalId"):
			writeXML(w, http.StatusForbidden, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`+
				`<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/test `+
				`is not authorized to perform: sts:AssumeRole on resource: `+form.Get("RoleArn")+`</Message></Error>`+
				`<RequestId>probe-denied</RequestId></ErrorResponse>`)
		case action == "DescribeInstances" && p.denyDescribeInstances:
			writeXML(w, http.StatusForbidden, `<Response><Errors><Error><Code>UnauthorizedOperation</Code>`+
				`<Message>You are not authorized to perform this operation.</Message></Error></Errors>`+
				`<RequestID>denied</RequestID></Response>`)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	p.URL = srv.URL
	return p
}

func (p *proxy) count(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.actions[action]
}

func (p *proxy) assumedWith() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.externalIDs...)
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+body)
}

// fakeAWS answers GetCallerIdentity and DescribeVpcs with canned responses,
// AWS-documented shapes, unless answer says otherwise for the nth call of an
// action (1-based).
type fakeAWS struct {
	URL    string
	answer func(action string, n int) (status int, body string)

	mu    sync.Mutex
	calls map[string]int
}

func newFakeAWS(t *testing.T, answer func(action string, n int) (int, string)) *fakeAWS {
	f := &fakeAWS{answer: answer, calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		action := r.PostForm.Get("Action")
		f.mu.Lock()
		f.calls[action]++
		n := f.calls[action]
		f.mu.Unlock()
		if f.answer != nil {
			if status, body := f.answer(action, n); status != 0 {
				writeXML(w, status, body)
				return
			}
		}
		switch action {
		case "GetCallerIdentity":
			writeXML(w, http.StatusOK, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`+
				`<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDEXAMPLE</UserId>`+
				`<Account>123456789012</Account></GetCallerIdentityResult>`+
				`<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		case "DescribeVpcs":
			writeXML(w, http.StatusOK, `<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`+
				`<requestId>1</requestId><vpcSet/></DescribeVpcsResponse>`)
		default:
			writeXML(w, http.StatusBadRequest, `<Response><Errors><Error><Code>InvalidAction</Code>`+
				`<Message>not faked</Message></Error></Errors><RequestID>1</RequestID></Response>`)
		}
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeAWS) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[action]
}

func ec2Error(code string) string {
	return `<Response><Errors><Error><Code>` + code + `</Code><Message>test</Message></Error></Errors>` +
		`<RequestID>1</RequestID></Response>`
}

//go:build linux

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/config"
)

// TestPrometheusScrapesSkymap runs skymap serve against moto and a real
// Prometheus (Debian's prometheus package) scraping its /metrics every
// second, and asks Prometheus's query API what it scraped.
func TestPrometheusScrapesSkymap(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prometheus is not installed: %v", err)
		}
		t.Skipf("prometheus is not installed: %v", err)
	}
	m := awstest.Shared(t)
	m.SetEnv(t, "us-east-1")
	cfg, err := config.Parse([]byte(`
init_config: {external_id: skymap-test-external-id}
instances:
  - role_arn: arn:aws:iam::123456789012:role/StackStateAwsIntegrationRole
    regions: [global, eu-west-1]
    apis_to_run: [ec2, s3]
aws: {allow_role_without_external_id: true, max_attempts: 2}
flowlogs: {enabled: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveConfig(t, cfg, t.TempDir())
	defer stop()

	prom := startPrometheus(t, bin, addr)
	deadline := time.Now().Add(40 * time.Second)
	for _, q := range []struct{ query, want string }{
		{`up{job="skymap"} == 1`, "the target up"},
		{`skymap_scan_duration_seconds_count{job="skymap"} > 0`, "a scan recorded"},
		{`sum(skymap_aws_api_calls_total{job="skymap",service="ec2",outcome="ok"}) > 0`, "EC2 calls counted ok"},
		{`skymap_scan_last_success{job="skymap",account="123456789012",region="eu-west-1"} == 1`, "eu-west-1 scanned without a problem"},
		{`skymap_components{job="skymap"} > 0`, "the map's size"},
		{`go_goroutines{job="skymap"} > 0`, "the Go collector"},
	} {
		for {
			v, err := prom.query(q.query)
			if err == nil {
				t.Logf("%s: %v", q.query, v)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus never answered %s with %s (last: %v, %v); its log:\n%s", q.query, q.want, v, err, prom.log())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// prometheus is a running Prometheus server.
type prometheus struct {
	url    string
	mu     sync.Mutex
	stderr bytes.Buffer
}

func (p *prometheus) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *prometheus) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startPrometheus runs bin on a free loopback port, scraping target's
// /metrics as job skymap every second, until t ends.
func startPrometheus(t *testing.T, bin, target string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: skymap
    static_configs: [{targets: [%q]}]
`, target)), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	p := &prometheus{url: "http://" + listen}
	cmd := exec.Command(bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+listen, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = p, p
	// Killed with the test binary, should it die before the cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return p
}

// query asks Prometheus for an instant vector of one sample and returns
// its value; an empty answer is an error.
func (p *prometheus) query(q string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("query %s: %s: %w", q, resp.Status, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", q, body.Error)
	}
	if len(body.Data.Result) != 1 {
		return 0, fmt.Errorf("query %s: %d series, want 1", q, len(body.Data.Result))
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// Package chtest runs a throwaway ClickHouse server for tests: a TestMain
// calls Main, and tests call URL (or Database) to reach it.
//
// SKYMAP_TEST_CLICKHOUSE=<http url> names a server to use instead. Without
// either, tests skip, except under CI=true, where a missing server fails
// them: CI installs clickhouse-server and must run these tests.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EnvURL is the variable naming a ClickHouse HTTP URL to use instead of a
// server of our own.
const EnvURL = "SKYMAP_TEST_CLICKHOUSE"

var (
	serverURL string
	// unavailable says why there is no server; "" when there is one.
	unavailable = "TestMain did not call chtest.Main"
)

// Main starts a server (unless SKYMAP_TEST_CLICKHOUSE names one), runs
// the tests and stops it. A server that cannot start is not fatal here:
// the tests that need it skip or fail with the reason.
func Main(m *testing.M) {
	code := func() int {
		if u := os.Getenv(EnvURL); u != "" {
			serverURL, unavailable = strings.TrimRight(u, "/"), ""
			return m.Run()
		}
		s, err := Start()
		if err != nil {
			unavailable = err.Error()
			return m.Run()
		}
		defer s.Stop()
		serverURL, unavailable = s.URL, ""
		return m.Run()
	}()
	os.Exit(code)
}

// URL returns the server's HTTP URL. Without a server the test skips, or
// fails under CI=true.
func URL(t testing.TB) string {
	t.Helper()
	if unavailable != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no ClickHouse server (CI=true needs one): %s", unavailable)
		}
		t.Skipf("no ClickHouse server: %s (install clickhouse-server or set %s)", unavailable, EnvURL)
	}
	return serverURL
}

// Database creates a database of a random name for the test, dropped
// when it ends, and returns the server URL and the name.
func Database(t testing.TB) (serverURL, name string) {
	t.Helper()
	u := URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	name = "skymap_test_" + hex.EncodeToString(b)
	if err := Exec(u, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Exec(u, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return u, name
}

// Exec runs one statement over HTTP.
func Exec(serverURL, query string) error {
	resp, err := http.Post(serverURL+"/", "text/plain", strings.NewReader(query))
	if err != nil {
		return fmt.Errorf("clickhouse: %s: %w", query, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("clickhouse: %s: %s", query, strings.TrimSpace(string(body)))
	}
	return nil
}

// Server is a ClickHouse server running in a temporary directory.
type Server struct {
	URL string
	dir string
	cmd *exec.Cmd
}

// Start starts a server listening on free ports of 127.0.0.1 with its
// data, temporary files and logs in a new temporary directory, and waits
// until it answers /ping. It runs clickhouse-server (from PATH or
// /usr/sbin), or clickhouse server for releases that ship one binary.
func Start() (*Server, error) {
	var args []string
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		// Debian installs it in /usr/sbin, which a user's PATH may lack.
		bin, err = exec.LookPath("/usr/sbin/clickhouse-server")
	}
	if err != nil {
		if bin, err = exec.LookPath("clickhouse"); err != nil {
			return nil, errors.New("neither clickhouse-server nor clickhouse is in PATH")
		}
		args = []string{"server"}
	}
	dir, err := os.MkdirTemp("", "skymap-clickhouse-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	ports, err := freePorts(2)
	if err != nil {
		s.Stop()
		return nil, err
	}
	config := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(config, []byte(configXML(dir, ports[0], ports[1])), 0o600); err != nil {
		s.Stop()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(usersXML), 0o600); err != nil {
		s.Stop()
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		s.Stop()
		return nil, err
	}
	defer out.Close()
	s.cmd = exec.Command(bin, append(args, "--config-file="+config)...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = out, out
	// Its own process group, so that Stop ends whatever it started.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	s.URL = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			s.cmd = nil
			log, _ := os.ReadFile(filepath.Join(dir, "server.err.log"))
			so, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
			s.Stop()
			return nil, fmt.Errorf("%s exited (%v): %s %s", bin, err, tail(so), tail(log))
		case <-time.After(100 * time.Millisecond):
		}
		if ping(s.URL) {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("%s did not answer /ping within a minute", bin)
		}
	}
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		pid := s.cmd.Process.Pid
		syscall.Kill(-pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			for syscall.Kill(pid, 0) == nil {
				time.Sleep(50 * time.Millisecond)
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	os.RemoveAll(s.dir)
}

func ping(u string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"/ping", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// freePorts returns n ports of 127.0.0.1 that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// configXML is a server configuration for dir. The root element is
// <yandex>, which 18.16 needs and current releases still accept.
func configXML(dir string, httpPort, tcpPort int) string {
	d := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(dir)
	return fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>%[1]s/server.log</log>
    <errorlog>%[1]s/server.err.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>%[2]d</http_port>
  <tcp_port>%[3]d</tcp_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <timezone>UTC</timezone>
</yandex>
`, d, httpPort, tcpPort)
}

const usersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`

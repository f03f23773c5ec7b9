// Package awstest runs the moto AWS emulator for tests and the demo, and
// builds small, declarative AWS estates in it whose generated ids can be
// replaced by stable placeholders, so golden files stay deterministic.
//
// It is test and development support: production code never imports it.
package awstest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNotInstalled reports that moto cannot run here: the Python interpreter
// is missing or `import moto` fails. Retrying will not fix it.
var ErrNotInstalled = errors.New("moto is not installed")

// errExited reports that moto died before it answered.
var errExited = errors.New("moto exited while starting")

// Options tunes Start. The zero value runs "python3" from PATH and waits up
// to 30 seconds for moto to answer.
type Options struct {
	// Python is the interpreter that runs `-m moto.server`; empty means "python3".
	Python string
	// Timeout bounds the wait until moto answers; zero means 30 seconds.
	Timeout time.Duration
}

// Moto is a moto server. The zero value is not usable: get one from Start,
// StartT, Shared or Connect.
type Moto struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:40123".
	URL string

	transport *http.Transport
	client    *http.Client

	cmd      *exec.Cmd     // nil when connected to a server this process did not start
	exited   chan struct{} // closed when cmd has been waited for
	waitErr  error         // cmd's exit status, valid after exited is closed
	logPath  string        // moto's stdout and stderr
	stopOnce sync.Once
	stopErr  error
}

// Start launches moto on a free loopback port and returns once it answers
// HTTP. ctx bounds the start only; the server runs until Stop. An error
// wraps ErrNotInstalled when moto cannot run here, and carries the tail of
// moto's output when it died while starting.
func Start(ctx context.Context, opts Options) (*Moto, error) {
	python := cmp.Or(opts.Python, "python3")
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if out, err := exec.CommandContext(ctx, python, "-c", "import moto.server").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("awstest: %w: %s -c 'import moto.server': %v: %s",
			ErrNotInstalled, python, err, tail(out, 300))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	// moto passed the import check, so dying while starting most likely
	// means another process took the free port before moto bound it.
	for range 3 {
		var m *Moto
		m, err = startOnce(ctx, python)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, errExited) || ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

func startOnce(ctx context.Context, python string) (*Moto, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("awstest: find free port: %w", err)
	}
	logFile, err := os.CreateTemp("", "moto-*.log")
	if err != nil {
		return nil, fmt.Errorf("awstest: create moto log: %w", err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logFile, logFile // *os.File: no copying goroutines
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		os.Remove(logFile.Name())
		return nil, fmt.Errorf("awstest: start moto: %w", err)
	}
	m := newMoto("http://127.0.0.1:" + strconv.Itoa(port))
	m.cmd, m.logPath, m.exited = cmd, logFile.Name(), make(chan struct{})
	go func() {
		m.waitErr = cmd.Wait()
		close(m.exited)
	}()
	if err := m.waitReady(ctx); err != nil {
		stopErr := m.Stop()
		return nil, errors.Join(err, stopErr)
	}
	return m, nil
}

// Connect returns a Moto for a server that is already running at url, after
// checking that it answers. Stop on it only releases connections.
func Connect(ctx context.Context, url string) (*Moto, error) {
	m := newMoto(strings.TrimRight(url, "/"))
	if err := m.ping(ctx); err != nil {
		return nil, fmt.Errorf("awstest: moto at %s is not reachable: %w", m.URL, err)
	}
	return m, nil
}

func newMoto(url string) *Moto {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy from the environment must not see emulator traffic
	// moto's server may drop an idle kept-alive connection; the SDK then
	// retries a create whose first attempt already succeeded, and the estate
	// build fails with a conflict. A connection per request avoids that.
	tr.DisableKeepAlives = true
	return &Moto{URL: url, transport: tr, client: &http.Client{Transport: tr, Timeout: time.Minute}}
}

func (m *Moto) waitReady(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if m.ping(ctx) == nil {
			return nil
		}
		select {
		case <-m.exited:
			return fmt.Errorf("awstest: %w (%v): %s", errExited, m.waitErr, m.logTail())
		case <-ctx.Done():
			return fmt.Errorf("awstest: wait for moto at %s: %w: %s", m.URL, ctx.Err(), m.logTail())
		case <-tick.C:
		}
	}
}

func (m *Moto) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/moto-api/", nil)
	if err != nil {
		return err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /moto-api/: status %s", resp.Status)
	}
	return nil
}

// Reset discards every resource in moto (all accounts and regions), as a
// fresh start would, but keeps the server running.
func (m *Moto) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL+"/moto-api/reset", nil)
	if err != nil {
		return fmt.Errorf("awstest: reset moto: %w", err)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return fmt.Errorf("awstest: reset moto: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("awstest: reset moto: status %s: %s", resp.Status, body)
	}
	return nil
}

// Stop kills moto's process group, waits for it and releases connections.
// It is safe to call more than once.
func (m *Moto) Stop() error {
	m.stopOnce.Do(func() {
		defer m.transport.CloseIdleConnections()
		if m.cmd == nil {
			return
		}
		defer os.Remove(m.logPath)
		m.stopErr = m.kill()
	})
	return m.stopErr
}

func (m *Moto) kill() error {
	select {
	case <-m.exited:
		return nil // died on its own; a start error already says why
	default:
	}
	signalGroup(m.cmd, false)
	select {
	case <-m.exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	signalGroup(m.cmd, true)
	select {
	case <-m.exited:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("awstest: stop moto (pid %d): still running after SIGKILL", m.cmd.Process.Pid)
	}
}

// logTail returns the end of moto's output, where its errors are.
func (m *Moto) logTail() string {
	b, err := os.ReadFile(m.logPath)
	if err != nil {
		return fmt.Sprintf("(no moto output: %v)", err)
	}
	return tail(b, 2000)
}

func tail(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

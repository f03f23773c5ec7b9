// Package pgtest gives tests a PostgreSQL: the server SKYMAP_TEST_POSTGRES
// names (a connection string of a role that may create databases), or else
// a throwaway one it starts on loopback from Debian's binaries
// (/usr/lib/postgresql/*/bin), one per test binary. Each test gets a
// database of its own. Without PostgreSQL a test is skipped, but with
// CI=true it fails: CI must never skip silently.
//
// A test package using it calls Main from its TestMain (or wraps m with
// Shared), so that the server stops when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the connection string of
// an existing server to test against.
const EnvDSN = "SKYMAP_TEST_POSTGRES"

var (
	once   sync.Once
	srv    *server // nil when started elsewhere or not at all
	admin  string  // connection string of the server's admin database
	srvErr error
	dbNum  atomic.Int64
)

// Main runs the tests and stops the server they started, then exits.
func Main(m *testing.M) {
	os.Exit(Shared(m).Run())
}

// Shared returns m with a Run that stops, once m's tests ran, the server
// they started: for a TestMain that wraps m for other helpers too.
func Shared(m interface{ Run() int }) interface{ Run() int } {
	return shared{m}
}

type shared struct{ m interface{ Run() int } }

func (s shared) Run() int {
	code := s.m.Run()
	if srv != nil {
		srv.stop()
	}
	return code
}

// DSN creates an empty database for t, dropped at its cleanup, and returns
// its connection string. It skips t when there is no PostgreSQL (fails it
// when CI=true).
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() { admin, srvErr = start() })
	if srvErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL: %v", srvErr)
		}
		t.Skipf("PostgreSQL: %v", srvErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("skymap_test_%d_%d", os.Getpid(), dbNum.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// withDatabase returns dsn (a URL or keyword/value string) naming database
// db instead.
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvDSN, err)
		}
		u.Path = "/" + db
		return u.String(), nil
	}
	return dsn + " dbname=" + db, nil // the last of a repeated keyword wins
}

// start returns the admin connection string of the server to test
// against, starting one when EnvDSN is unset.
func start() (string, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn, nil
	}
	bin, err := findBin()
	if err != nil {
		return "", err
	}
	s, err := startServer(bin)
	if err != nil {
		return "", err
	}
	srv = s
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", s.port), nil
}

// findBin returns the newest /usr/lib/postgresql/<version>/bin holding
// initdb and postgres.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("no initdb under /usr/lib/postgresql/*/bin (apt-get install postgresql) and %s is unset", EnvDSN)
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// server is a PostgreSQL this package started.
type server struct {
	dir  string
	port int
	bin  string
	cred *syscall.Credential
	cmd  *exec.Cmd // the running postgres, nil when stopped
	done chan error
}

// startServer runs initdb into a new temporary directory and starts
// postgres on a free loopback port, as the user postgres when we are root
// (PostgreSQL refuses to run as root).
func startServer(bin string) (*server, error) {
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and no user postgres to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "skymap-pgtest-")
	if err != nil {
		return nil, err
	}
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		return nil, err
	}
	if cred != nil {
		for _, p := range []string{dir, sock} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, fmt.Errorf("hand %s to postgres: %w", p, err)
			}
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{dir: dir, port: port, bin: bin, cred: cred}
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// start starts postgres on s's data directory and port, and waits until
// it accepts connections.
func (s *server) start() error {
	s.done = make(chan error, 1)
	s.cmd = exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-k", filepath.Join(s.dir, "sock"), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	// SIGQUIT, an immediate shutdown, when the test binary dies first.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	s.cmd.Dir = s.dir
	logf, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		s.cmd = nil
		return fmt.Errorf("start postgres: %w", err)
	}
	go func(cmd *exec.Cmd, done chan error) { done <- cmd.Wait(); logf.Close() }(s.cmd, s.done)
	if err := s.ready(); err != nil {
		b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
		s.halt()
		return fmt.Errorf("%w; its log:\n%s", err, b)
	}
	return nil
}

// ready waits until the server accepts connections.
func (s *server) ready() error {
	deadline := time.Now().Add(30 * time.Second)
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=2", s.port)
	for {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("postgres exited: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after 30s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the server down and deletes its directory.
func (s *server) stop() {
	s.halt()
	os.RemoveAll(s.dir)
}

// halt shuts the server down, keeping its directory: a fast shutdown
// (sessions are ended with SQLSTATE 57P01), then a kill after 10s.
func (s *server) halt() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Server is a PostgreSQL of one test's own, which the test may stop and
// start again, on the same data and port, to see how clients live through
// an outage.
type Server struct {
	mu sync.Mutex
	s  *server
}

// NewServer starts a PostgreSQL for t alone, stopped and deleted at t's
// cleanup. It needs Debian's binaries, even when SKYMAP_TEST_POSTGRES is
// set: without them it skips t (fails it when CI=true).
func NewServer(t testing.TB) *Server {
	t.Helper()
	bin, err := findBin()
	if err == nil {
		var s *server
		if s, err = startServer(bin); err == nil {
			t.Cleanup(s.stop)
			return &Server{s: s}
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Skipf("PostgreSQL: %v", err)
	return nil
}

// DSN returns the connection string of the server's database postgres.
func (s *Server) DSN() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", s.s.port)
}

// Stop shuts the server down, as an administrator's fast shutdown does:
// sessions end, and new connections are refused until Start.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.halt()
}

// Start starts the server Stop stopped, and waits until it accepts
// connections.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s.cmd != nil {
		return nil
	}
	return s.s.start()
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

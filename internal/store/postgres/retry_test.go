package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/postgres/pgtest"
	"github.com/skymap/skymap/internal/topology"
)

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true},
		{fmt.Errorf("commit: %w", &pgconn.PgError{Code: "57P03"}), true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "22021"}, false},
		{&pgconn.ConnectError{}, true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{pgconn.ErrConnClosed, true},
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{errors.New("decode stored component"), false},
		{nil, false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// change creates component i with a version.
func change(i int) topology.Change {
	id := fmt.Sprintf("c%05d", i)
	sc := model.Scope{Account: "1", Region: "r", Type: "a"}
	return topology.Change{
		Upserted: []topology.Owned{{Scope: sc, Component: model.Component{ID: id, Type: "a"}}},
		Versions: []model.Version{{Time: time.Unix(int64(i), 0), Entity: topology.EntityComponent, ID: id,
			Change: model.Created, Cause: "scan", State: []byte(`{"id":"` + id + `"}`)}},
	}
}

// checkHistory checks that s holds components 0 to n-1 and one version of
// each, in that order.
func checkHistory(t *testing.T, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	vs, err := s.Versions(ctx, store.VersionQuery{Limit: n + 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != n {
		t.Errorf("%d versions stored, want %d", len(vs), n)
	}
	for i, v := range vs {
		if want := fmt.Sprintf("c%05d", i); v.ID != want {
			t.Errorf("version %d (seq %d) is of %s, want %s", i, v.Seq, v.ID, want)
			break
		}
	}
	st, err := s.LoadTopology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Components) != n {
		t.Errorf("%d components stored, want %d", len(st.Components), n)
	}
}

// TestCommitThroughRestart commits in a loop, and reads, while the server
// stops and starts three times: every commit and read succeeds, and every
// commit is stored once, in order.
func TestCommitThroughRestart(t *testing.T) {
	t.Parallel()
	srv := pgtest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Open(ctx, srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.LockWriter(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 400
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		for i := range n {
			if err := s.Commit(ctx, change(i)); err != nil {
				errs <- fmt.Errorf("commit %d: %w", i, err)
				return
			}
			done.Add(1)
		}
	})
	stopReads := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stopReads:
				return
			default:
			}
			if _, err := s.LoadTopology(ctx); err != nil {
				errs <- fmt.Errorf("read: %w", err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	for k := 1; k <= 3; k++ {
		for done.Load() < int64(k*n/4) && len(errs) == 0 {
			time.Sleep(time.Millisecond)
		}
		srv.Stop()
		before := done.Load()
		time.Sleep(300 * time.Millisecond)
		if after := done.Load(); after > before+1 { // one may have been acknowledged as the server went down
			t.Errorf("restart %d: %d commits while the server was down", k, after-before)
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Logf("restart %d after %d commits", k, before)
	}
	for done.Load() < n && len(errs) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	close(stopReads)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkHistory(t, s, n)
	// The lock was taken again on a new session.
	other, err := Open(ctx, srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.LockWriter(ctx); !errors.Is(err, store.ErrLocked) {
		t.Errorf("LockWriter of another store after the restarts: %v, want ErrLocked", err)
	}
}

// TestCommitAcknowledgmentLost loses the acknowledgment of a commit that
// the server made: the retry finds it committed and writes nothing twice.
func TestCommitAcknowledgmentLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := open(t, 0)
	var lost atomic.Int64
	s.afterCommit = func() error {
		if lost.Add(1) == 1 {
			return &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
		}
		return nil
	}
	for i := range 3 {
		if err := s.Commit(ctx, change(i)); err != nil {
			t.Fatal(err)
		}
	}
	// The retry of the first finds it committed, and rolls back.
	if lost.Load() != 3 {
		t.Fatalf("%d transactions committed, want 3", lost.Load())
	}
	checkHistory(t, s, 3)
}

// TestLockWriterSessionEnds ends the session holding the writer lock: the
// next write takes the lock again, unless another store took it, when
// every write fails with ErrLocked and writes nothing.
func TestLockWriterSessionEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	var stores []*Store
	for range 2 {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	a, b := stores[0], stores[1]
	if err := a.LockWriter(ctx); err != nil {
		t.Fatal(err)
	}
	endLockSession := func() {
		t.Helper()
		a.mu.Lock()
		pid := a.locked.Conn().PgConn().PID()
		a.mu.Unlock()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid).Scan(&ok); err != nil || !ok {
			t.Fatalf("terminate the lock's session: %v, %v", ok, err)
		}
	}
	endLockSession()
	if err := a.Commit(ctx, change(0)); err != nil {
		t.Fatalf("Commit once the lock's session ended: %v", err)
	}
	if err := b.LockWriter(ctx); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("LockWriter of another store once the lock was taken again: %v, want ErrLocked", err)
	}
	endLockSession()
	if err := b.LockWriter(ctx); err != nil {
		t.Fatalf("LockWriter of another store once the lock's session ended: %v", err)
	}
	for _, err := range []error{a.Commit(ctx, change(1)), a.PutState(ctx, "k", []byte("v"))} {
		if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "writes no more") {
			t.Errorf("write once another store took the lock: %v, want ErrLocked", err)
		}
	}
	checkHistory(t, a, 1)
	if _, err := a.GetState(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("state written once the lock was lost: %v", err)
	}
}

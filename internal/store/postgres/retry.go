package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Retry bounds: the first wait after a connection error, the longest, and
// how long one call keeps retrying at most (its context may end it first).
const (
	retryFirst = 50 * time.Millisecond
	retryMax   = 2 * time.Second
	retryFor   = 5 * time.Minute
)

// connLost holds the SQLSTATEs that mean the server ended the session or
// refuses sessions for now: every one of class 08 (connection exception),
// and the shutdowns of class 57.
var connLost = map[string]bool{
	"57P01": true, // admin_shutdown: smart or fast shutdown, pg_terminate_backend
	"57P02": true, // crash_shutdown: another backend crashed
	"57P03": true, // cannot_connect_now: starting up or shutting down
	"53300": true, // too_many_connections: a restart's old sessions linger
}

// transient reports whether err is the connection's failure, not the
// statement's: the server went away, restarts or refuses connections for
// now. Such a transaction is retried on another connection.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return connLost[pgErr.Code] || len(pgErr.Code) == 5 && pgErr.Code[:2] == "08"
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.SafeToRetry(err) {
		return true
	}
	// The socket failed under a statement: pgconn wraps the read or write
	// error. A net.Error is a network failure (pgconn reports a timeout of
	// ours as a context error, handled above).
	var netErr net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, pgconn.ErrConnClosed)
}

// retry runs fn until it succeeds, fails with an error other than a lost
// connection, ctx ends or retryFor passes, waiting between attempts with
// exponential backoff (retryFirst doubling to retryMax) and full jitter.
// fn must be safe to run again after any failure: a transaction whose
// effects are either all committed or none, or that checks (see Commit).
func (s *Store) retry(ctx context.Context, fn func(ctx context.Context) error) error {
	deadline := time.Now().Add(retryFor)
	wait := retryFirst
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("connection lost, %d attempts in %s: %w", attempt, retryFor, err)
		}
		t := time.NewTimer(rand.N(wait) + wait/2)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, retryMax)
	}
}

// write runs fn in a transaction, retried as retry does. With the writer
// lock (LockWriter) the transaction runs on the session holding it, so
// that no write commits once the lock is gone; when that session dies,
// the next attempt takes the lock again on a new one, or fails with
// store.ErrLocked when another Store took it meanwhile, as every later
// write then does.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.retry(ctx, func(ctx context.Context) error {
		s.mu.Lock()
		if !s.writer {
			s.mu.Unlock()
			if err := pgx.BeginFunc(ctx, s.pool, fn); err != nil {
				return err
			}
			return s.committed()
		}
		defer s.mu.Unlock()
		conn, err := s.lockConn(ctx)
		if err != nil {
			return err
		}
		if err := pgx.BeginFunc(ctx, conn, fn); err != nil {
			if transient(err) || conn.Conn().IsClosed() {
				// A session in doubt goes, and the lock with it.
				conn.Conn().Close(context.WithoutCancel(ctx))
				conn.Release() // the pool drops a closed connection
				s.locked = nil
			}
			return err
		}
		return s.committed()
	})
}

// committed runs the test hook afterCommit, if set, once a transaction
// committed.
func (s *Store) committed() error {
	if s.afterCommit != nil {
		return s.afterCommit()
	}
	return nil
}

// lockConn returns the session holding the writer lock, taking the lock
// on a new session when the last one died. s.mu is held.
func (s *Store) lockConn(ctx context.Context) (*pgxpool.Conn, error) {
	if s.lockLost != nil {
		return nil, s.lockLost
	}
	if s.locked != nil {
		return s.locked, nil
	}
	conn, ok, err := s.tryLock(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.lockLost = lockedError(fmt.Sprintf("postgres: %s: the session holding the writer lock ended "+
			"and another skymap serve took the lock: this one writes no more, restart it", s.where))
		return nil, s.lockLost
	}
	s.locked = conn
	return conn, nil
}

// tryLock takes the writer lock on a new session, which it returns; ok is
// false when another session holds the lock.
func (s *Store) tryLock(ctx context.Context) (conn *pgxpool.Conn, ok bool, err error) {
	conn, err = s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(writerLock)).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, err
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return conn, true, nil
}

// Package postgres is skymap's cluster storage of topology, history, state
// and views: a PostgreSQL database that any number of skymap processes
// share. Open migrates the schema, and refuses a schema a newer skymap
// wrote.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skymap/skymap/internal/store"
)

// ErrSchemaTooNew is returned by Open for a database whose schema a newer
// skymap wrote; retrying does not help, upgrading skymap does.
var ErrSchemaTooNew = errors.New("database schema is newer than this skymap")

// Store is the PostgreSQL backend. It is safe for concurrent use, by any
// number of processes sharing the database. Versions are numbered (Seq) as
// they are inserted: with one writer (see LockWriter) they become visible
// in that order; with several, one committed late may appear behind a
// higher number a reader paging with AfterSeq has passed.
//
// A read or write that loses its connection (the server restarts, shuts
// down, or refuses connections for now) is run again on a new one, after
// a wait growing from 50ms to 2s, until it succeeds, its context ends or 5
// minutes pass. Each is one transaction, so an attempt commits whole or
// not at all; Commit also knows when an attempt committed though its
// acknowledgment was lost, and does not commit twice.
type Store struct {
	pool  *pgxpool.Pool
	where string // the database, for errors

	mu sync.Mutex // guards the writer lock's fields, and its session's use
	// writer is set by LockWriter: writes then run on the session holding
	// the writer lock.
	writer bool
	// locked is the session holding the writer lock; nil without the lock,
	// or when that session died and the next write takes the lock again.
	locked *pgxpool.Conn
	// lockLost is set when the lock could not be taken again: another
	// Store holds it. Every write fails with it.
	lockLost error
	// commits counts Commit calls, to prune old commit ids now and then.
	commits atomic.Int64
	// afterCommit, when set, runs after each write transaction commits,
	// and its error is the write's: tests lose the acknowledgment of a
	// commit with it.
	afterCommit func() error
	// pruneBatch bounds the versions one transaction of PruneHistory
	// deletes; tests make it small.
	pruneBatch int
}

var (
	_ store.Topology = (*Store)(nil)
	_ store.State    = (*Store)(nil)
	_ store.Views    = (*Store)(nil)
)

// Open connects to the database dsn names (a PostgreSQL connection string:
// URL or keyword/value), and migrates its schema to this skymap's. The
// error never holds dsn, which may carry a password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn's parse errors quote the connection string with the
		// password redacted; TestOpenErrorHidesPassword holds it to that.
		return nil, fmt.Errorf("postgres: parse the connection string: %w", err)
	}
	// Statement descriptions are cached, never prepared statements: a
	// session a restart ended takes its prepared statements with it, and
	// with them cached pgx failed commits on new sessions (SQLSTATE 26000)
	// in TestCommitThroughRestart.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", where(cfg), err)
	}
	s := &Store{pool: pool, where: where(cfg), pruneBatch: defaultPruneBatch}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %s: %w", where(cfg), err)
	}
	return s, nil
}

// where names the database of cfg for errors: host, port and database,
// never the password.
func where(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("database %q on %s:%d", c.Database, c.Host, c.Port)
}

// writerLock is the advisory lock key of LockWriter ("skymap" in ASCII,
// then 3).
const writerLock = 0x736b796d6170_03

// LockWriter makes s the only Store of the database that holds the lock,
// until Close or until its process dies (the lock is its session's). It
// fails with store.ErrLocked when another holds it. skymap serve takes it:
// its graph lives in memory and would not see another process's commits.
//
// From then on s writes on the session holding the lock. When that session
// ends (the server restarted, or an administrator ended it) the lock goes
// with it; the next write takes it again on a new session and goes on, or,
// when another Store took it meanwhile, fails with store.ErrLocked, as
// every later write of s does. A Store that took the lock and let it go
// while s was cut off (it started, wrote and stopped within the outage)
// goes unnoticed: s's graph misses its writes.
func (s *Store) LockWriter(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer {
		return nil
	}
	conn, ok, err := s.tryLock(ctx)
	if err != nil {
		return fmt.Errorf("postgres: lock %s: %w", s.where, err)
	}
	if !ok {
		return lockedError(fmt.Sprintf("postgres: %s is used by another skymap serve: run one per database", s.where))
	}
	s.writer, s.locked = true, conn
	return nil
}

// lockedError is store.ErrLocked with its own message.
type lockedError string

func (e lockedError) Error() string { return string(e) }
func (e lockedError) Unwrap() error { return store.ErrLocked }

// Close releases the writer lock and closes the connections.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writer = false
	if s.locked != nil {
		// Unlock at once; closing the connection, which ends its session,
		// would release the lock too, but only once the server notices.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn := s.locked.Hijack()
		conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, int64(writerLock))
		conn.Close(ctx)
		cancel()
		s.locked = nil
	}
	s.pool.Close()
	return nil
}

// GetState implements store.State.
func (s *Store) GetState(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.retry(ctx, func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT value FROM state WHERE key = $1`, key).Scan(&v)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get state %q: %w", key, err)
	}
	return v, nil
}

// PutState implements store.State.
func (s *Store) PutState(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	err := s.write(ctx, func(tx pgx.Tx) error { return putState(ctx, tx, key, value) })
	if err != nil {
		return fmt.Errorf("put state %q: %w", key, err)
	}
	return nil
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func putState(ctx context.Context, q querier, key string, value []byte) error {
	_, err := q.Exec(ctx, `INSERT INTO state(key, value) VALUES($1, $2)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

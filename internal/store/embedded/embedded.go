// Package embedded is skymap's zero-setup storage: a SQLite database in the
// data directory holding topology, history and state. One process owns a
// data directory at a time; a lock file enforces it.
package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/skymap/skymap/internal/store"
)

// Store is the embedded backend. Close releases the data directory.
type Store struct {
	db   *sql.DB
	lock *os.File
	dir  string
	// pruneBatch bounds the versions one transaction of PruneHistory
	// deletes; tests make it small.
	pruneBatch int
}

// Open opens (creating when needed) the data directory dir and its database,
// and takes the directory's lock. It fails with store.ErrLocked when another
// process holds it.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "skymap.db")
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// SQLite allows one writer; one connection keeps transactions simple and
	// readers see committed data only.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, lock: lock, dir: dir, pruneBatch: defaultPruneBatch}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database and releases the lock.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

// lockDir takes an exclusive, non-blocking flock on dir/LOCK and writes our
// pid into it. The kernel releases the lock when the process dies.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		holder := strings.TrimSpace(string(b))
		if holder == "" {
			holder = "unknown"
		}
		return nil, fmt.Errorf("%w: %s is used by another skymap process (pid %s); run one process per data dir", store.ErrLocked, dir, holder)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// migrations are applied in order; PRAGMA user_version holds how many ran.
var migrations = []string{
	`CREATE TABLE components (
		id TEXT PRIMARY KEY,
		scope_account TEXT NOT NULL, scope_region TEXT NOT NULL, scope_type TEXT NOT NULL,
		doc TEXT NOT NULL
	);
	CREATE INDEX components_scope ON components(scope_account, scope_region, scope_type);
	CREATE TABLE relations (
		scope_account TEXT NOT NULL, scope_region TEXT NOT NULL, scope_type TEXT NOT NULL,
		pos INTEGER NOT NULL, doc TEXT NOT NULL,
		PRIMARY KEY (scope_account, scope_region, scope_type, pos)
	);
	CREATE TABLE versions (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		time INTEGER NOT NULL, entity TEXT NOT NULL, id TEXT NOT NULL, change TEXT NOT NULL,
		diff TEXT, state TEXT, cause TEXT NOT NULL, actor TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX versions_id ON versions(id, seq);
	CREATE INDEX versions_time ON versions(time);
	CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL);`,
	// Relations keyed by their ends and type, so that a change writes only
	// the relations it changed, not its scope's all.
	`CREATE TABLE relations_keyed (
		scope_account TEXT NOT NULL, scope_region TEXT NOT NULL, scope_type TEXT NOT NULL,
		source TEXT NOT NULL, type TEXT NOT NULL, target TEXT NOT NULL, doc TEXT NOT NULL,
		PRIMARY KEY (scope_account, scope_region, scope_type, source, type, target)
	) WITHOUT ROWID;
	INSERT OR REPLACE INTO relations_keyed
		SELECT scope_account, scope_region, scope_type, json_extract(doc, '$.source'), json_extract(doc, '$.type'),
			json_extract(doc, '$.target'), doc FROM relations ORDER BY scope_account, scope_region, scope_type, pos;
	DROP TABLE relations;
	ALTER TABLE relations_keyed RENAME TO relations;`,
	`ALTER TABLE versions ADD COLUMN source_ip TEXT NOT NULL DEFAULT '';`,
	// Views users define; names are unique ignoring case.
	`CREATE TABLE views (id TEXT PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE UNIQUE, doc TEXT NOT NULL);`,
}

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this skymap (%d): upgrade skymap", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		// PRAGMA takes no bound parameters; i is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// GetState implements store.State.
func (s *Store) GetState(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get state %q: %w", key, err)
	}
	return v, nil
}

// PutState implements store.State.
func (s *Store) PutState(ctx context.Context, key string, value []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO state(key, value) VALUES(?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("put state %q: %w", key, err)
	}
	return nil
}

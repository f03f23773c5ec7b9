package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order, each in a transaction; the one row of
// schema_version holds how many ran. Text keys are COLLATE "C": byte order,
// as the embedded store sorts, whatever the database's locale. Times are
// unix nanoseconds, as precise as the graph's.
var migrations = []string{
	`CREATE TABLE components (
		id text COLLATE "C" PRIMARY KEY,
		scope_account text COLLATE "C" NOT NULL, scope_region text COLLATE "C" NOT NULL,
		scope_type text COLLATE "C" NOT NULL,
		doc text NOT NULL
	);
	CREATE INDEX components_scope ON components(scope_account, scope_region, scope_type);
	CREATE TABLE relations (
		scope_account text COLLATE "C" NOT NULL, scope_region text COLLATE "C" NOT NULL,
		scope_type text COLLATE "C" NOT NULL,
		source text COLLATE "C" NOT NULL, type text COLLATE "C" NOT NULL, target text COLLATE "C" NOT NULL,
		doc text NOT NULL,
		PRIMARY KEY (scope_account, scope_region, scope_type, source, type, target)
	);
	CREATE TABLE versions (
		seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		time bigint NOT NULL,
		entity text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, change text NOT NULL,
		diff text, state text,
		cause text NOT NULL, actor text NOT NULL DEFAULT '', source_ip text NOT NULL DEFAULT ''
	);
	CREATE INDEX versions_id ON versions(id, seq);
	CREATE INDEX versions_time ON versions(time, seq);
	CREATE TABLE state (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
	CREATE TABLE views (id text COLLATE "C" PRIMARY KEY, name text NOT NULL, doc text NOT NULL);
	CREATE UNIQUE INDEX views_name ON views(lower(name));`,
	// commits holds the id of each Commit, written in its transaction, so
	// that a retry after a lost acknowledgment finds it committed. Ids are
	// kept an hour, long past the last retry.
	`CREATE TABLE commits (id bytea PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
	CREATE INDEX commits_at ON commits(at);`,
}

// migrateLock is the advisory lock key that serializes migrations of
// processes starting together ("skymap" in ASCII, then 1).
const migrateLock = 0x736b796d6170_01

// migrate brings the schema to len(migrations), or fails with
// ErrSchemaTooNew.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("lock for migration: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var v int
	err = conn.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: schema version %d, this skymap knows up to %d: upgrade skymap", ErrSchemaTooNew, v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_version(version) VALUES($1)
				ON CONFLICT(one) DO UPDATE SET version = excluded.version`, i+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

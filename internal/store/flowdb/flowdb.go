// Package flowdb is the embedded flows store: a DuckDB database in the data
// directory (flows.duckdb) holding a catalog of the flow-log objects, whose
// bodies are archived as they came under raw/ for SQL over the raw records
// (the view vpc_flow_logs, with Athena's column names) and whose per-minute
// rollups are written as one Parquet file per object under raw/rollups/
// (the view flow_rollups). DuckDB runs with extension auto-install and auto-load off and
// with external access off, so it never reaches the network and user SQL
// reads nothing but the archive.
package flowdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// Options tune a DB. The zero value is usable.
type Options struct {
	// Components returns the components the SQL table components holds;
	// nil leaves that table empty.
	Components func(ctx context.Context) ([]model.Component, error)
	// ComponentsMaxAge is how old the components table may be before a
	// query reloads it; 0 means 5 s.
	ComponentsMaxAge time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// DB is the DuckDB flows store. It is safe for concurrent use. Close
// releases the database file.
type DB struct {
	db   *sql.DB
	dir  string
	raw  string // dir/raw, absolute
	tmp  string // dir/flows.tmp: bodies being written
	opts Options

	// writeMu serializes commits, prunes and view rebuilds.
	writeMu sync.Mutex
	// formats are the view's text formats (by id) and whether it has a
	// Parquet group; rollups whether flow_rollups reads files. Guarded by
	// writeMu.
	formats map[string]string
	parquet bool
	rollups bool

	// objects are locked while committed, by bucket, key and ETag: one
	// commit per object at a time.
	objects store.KeyLock

	compMu     sync.Mutex
	compLoaded time.Time

	// writers are rollup file writers kept for reuse.
	writers chan *rollupFile
}

var _ store.Flows = (*DB)(nil)

// Open opens (creating when needed) the flows database in dir, stored as
// dir/flows.duckdb with raw objects under dir/raw (and bodies being written
// in dir/flows.tmp). DuckDB locks the file:
// Open fails with store.ErrLocked while another process has it open.
func Open(dir string, opts Options) (*DB, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("flowdb: resolve %s: %w", dir, err)
	}
	raw, tmp := filepath.Join(abs, "raw"), filepath.Join(abs, "flows.tmp")
	for _, d := range []string{raw, tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("flowdb: create %s: %w", d, err)
		}
	}
	if opts.ComponentsMaxAge <= 0 {
		opts.ComponentsMaxAge = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	path := filepath.Join(abs, "flows.duckdb")
	// Extension auto-install and auto-load are off from the database's
	// start: nothing may try to download anything.
	conn, err := duckdb.NewConnector(path+"?autoinstall_known_extensions=false&autoload_known_extensions=false", nil)
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, fmt.Errorf("%w: %s is used by another process (%v)", store.ErrLocked, path, err)
		}
		return nil, fmt.Errorf("flowdb: open %s: %w", path, err)
	}
	d := &DB{db: sql.OpenDB(conn), dir: abs, raw: raw, tmp: tmp, opts: opts, formats: map[string]string{},
		writers: make(chan *rollupFile, 2)}
	if err := d.setup(context.Background()); err != nil {
		d.db.Close()
		if strings.Contains(err.Error(), "configuration has been locked") {
			// The driver shares one database per file within a process:
			// this one is already open here.
			return nil, fmt.Errorf("%w: %s is already open in this process", store.ErrLocked, path)
		}
		return nil, fmt.Errorf("flowdb: open %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// schema creates the tables (flow_rollups is a view over Parquet files,
// see rollups.go). A catalog row names the archived body (path, relative
// to raw/, "" when not archived or pruned) and the rollups file (rollups,
// likewise, "" when none or pruned, with the last minute it holds).
const schema = `
CREATE TABLE IF NOT EXISTS flow_objects (
	bucket VARCHAR NOT NULL,
	key VARCHAR NOT NULL,
	etag VARCHAR NOT NULL,
	account VARCHAR NOT NULL,
	region VARCHAR NOT NULL,
	path VARCHAR NOT NULL,
	format VARCHAR NOT NULL,
	parquet BOOLEAN NOT NULL,
	start TIMESTAMP NOT NULL,
	"end" TIMESTAMP NOT NULL,
	records BIGINT NOT NULL,
	malformed BIGINT NOT NULL,
	committed_at TIMESTAMP NOT NULL,
	rollups VARCHAR NOT NULL DEFAULT '',
	rollups_last TIMESTAMP,
	UNIQUE (bucket, key, etag)
);
ALTER TABLE flow_objects ADD COLUMN IF NOT EXISTS rollups VARCHAR DEFAULT '';
ALTER TABLE flow_objects ADD COLUMN IF NOT EXISTS rollups_last TIMESTAMP;
CREATE TABLE IF NOT EXISTS components (
	id VARCHAR, type VARCHAR, name VARCHAR, account VARCHAR, region VARCHAR,
	layer VARCHAR, environment VARCHAR, labels VARCHAR[], identifiers VARCHAR[], data JSON
);
`

// schemaVersion is the version of the tables above and of the files
// beside them: it rises with every change an older skymap cannot read.
// Databases from before versions were kept count as 0 and are brought up
// to date by the idempotent statements above.
const schemaVersion = 1

// ErrNewerSchema is returned by Open for a database a newer skymap wrote.
var ErrNewerSchema = errors.New("schema is newer than this skymap")

// setup checks the schema's version, creates the tables, moves an old
// flow_rollups table's rows into a Parquet file, applies the settings that
// lock DuckDB down, removes what a crash left behind and creates the views.
func (d *DB) setup(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var v sql.NullInt64
	if err := d.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v.Int64 > schemaVersion {
		return fmt.Errorf("%w: the flow database has schema version %d, this skymap knows up to %d: upgrade skymap",
			ErrNewerSchema, v.Int64, schemaVersion)
	}
	if _, err := d.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	if v.Int64 < schemaVersion {
		for _, q := range []string{`DELETE FROM schema_version`, fmt.Sprintf(`INSERT INTO schema_version VALUES (%d)`, schemaVersion)} {
			if _, err := d.db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("write schema version: %w", err)
			}
		}
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	// Before external access is off: it writes a file with COPY.
	if err := d.migrateRollupsTable(ctx); err != nil {
		return err
	}
	// allowed_directories keeps the archive readable once external access
	// is off; lock_configuration stops any later SET. These are global:
	// every connection of the pool has them. The Parquet metadata cache
	// saves re-reading the rollup files' footers at every query.
	settings := []string{
		`SET autoinstall_known_extensions = false`,
		`SET autoload_known_extensions = false`,
		`SET allowed_directories = [` + quoteString(d.raw+string(filepath.Separator)) + `]`,
		`SET enable_external_access = false`,
		`SET parquet_metadata_cache = true`,
		`SET lock_configuration = true`,
	}
	for _, s := range settings {
		if _, err := d.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	// Files a crash left half written or written but not cataloged; we
	// hold the database, so no one else writes here.
	if left, err := os.ReadDir(d.tmp); err == nil {
		for _, f := range left {
			os.Remove(filepath.Join(d.tmp, f.Name()))
		}
	}
	if err := d.removeUnnamed(ctx); err != nil {
		return fmt.Errorf("remove files no catalog row names: %w", err)
	}
	if err := d.rebuildRollupsView(ctx); err != nil {
		return err
	}
	return d.rebuildView(ctx)
}

// quoteString returns s as an SQL string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteIdent returns s as an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// badQuery wraps a refusal or a database error for the user.
func badQuery(format string, args ...any) error {
	return fmt.Errorf("%w: %s", store.ErrBadQuery, fmt.Sprintf(format, args...))
}

// duckMessage is a DuckDB error's text without the driver's prefixes.
func duckMessage(err error) string {
	var de *duckdb.Error
	if errors.As(err, &de) {
		return de.Msg
	}
	return err.Error()
}

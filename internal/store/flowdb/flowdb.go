// Package flowdb is the embedded flows store: a DuckDB database in the data
// directory (flows.duckdb) holding per-minute rollups and a catalog of the
// flow-log objects, whose bodies are archived as they came under raw/ for
// SQL over the raw records (the view vpc_flow_logs, with Athena's column
// names). DuckDB runs with extension auto-install and auto-load off and
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
	// Parquet group; guarded by writeMu.
	formats map[string]string
	parquet bool

	compMu     sync.Mutex
	compLoaded time.Time
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
	d := &DB{db: sql.OpenDB(conn), dir: abs, raw: raw, tmp: tmp, opts: opts, formats: map[string]string{}}
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

// schema creates the tables. Addresses are kept as text for people and as
// 32 hex digits of their 16-byte form (IPv4 mapped into IPv6) so that a
// prefix is a range of keys: no inet extension needed.
const schema = `
CREATE TABLE IF NOT EXISTS flow_rollups (
	minute TIMESTAMP NOT NULL,
	account VARCHAR NOT NULL,
	region VARCHAR NOT NULL,
	interface_id VARCHAR NOT NULL,
	reporter VARCHAR NOT NULL,
	client VARCHAR NOT NULL,
	server VARCHAR NOT NULL,
	client_addr VARCHAR NOT NULL,
	server_addr VARCHAR NOT NULL,
	server_port USMALLINT NOT NULL,
	protocol UTINYINT NOT NULL,
	action VARCHAR NOT NULL,
	bytes_to_server UBIGINT NOT NULL,
	bytes_to_client UBIGINT NOT NULL,
	packets_to_server UBIGINT NOT NULL,
	packets_to_client UBIGINT NOT NULL,
	records UBIGINT NOT NULL,
	client_addr_key VARCHAR NOT NULL,
	server_addr_key VARCHAR NOT NULL
);
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
	UNIQUE (bucket, key, etag)
);
CREATE TABLE IF NOT EXISTS components (
	id VARCHAR, type VARCHAR, name VARCHAR, account VARCHAR, region VARCHAR,
	layer VARCHAR, environment VARCHAR, labels VARCHAR[], identifiers VARCHAR[], data JSON
);
`

// setup applies the settings that lock DuckDB down, creates the tables and
// the view.
func (d *DB) setup(ctx context.Context) error {
	// allowed_directories keeps the archive readable once external access
	// is off; lock_configuration stops any later SET. These are global:
	// every connection of the pool has them.
	settings := []string{
		`SET autoinstall_known_extensions = false`,
		`SET autoload_known_extensions = false`,
		`SET allowed_directories = [` + quoteString(d.raw+string(filepath.Separator)) + `]`,
		`SET enable_external_access = false`,
		`SET lock_configuration = true`,
	}
	for _, s := range settings {
		if _, err := d.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if _, err := d.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	// Bodies a crash left half written; we hold the database, so no one
	// else writes here.
	if left, err := filepath.Glob(filepath.Join(d.tmp, "body-*")); err == nil {
		for _, f := range left {
			os.Remove(f)
		}
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

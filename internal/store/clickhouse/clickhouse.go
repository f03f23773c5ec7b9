// Package clickhouse is the flows store of a cluster: ClickHouse tables
// that many skymap workers write and read over ClickHouse's HTTP
// interface. Raw records are parsed into the table flow_raw and
// per-minute rollups into flow_rollup_rows, each row tagged with its flow-log
// object and commit attempt; a commit ends by inserting the object's row
// into flow_objects, and the views vpc_flow_logs and flow_rollups show the
// rows of one committed attempt per object only. An object is so counted
// exactly once, whatever commits failed half-way or raced.
//
// flow_raw keeps the common fields (rawColumns) in plain columns and the
// others as text in two arrays, which ClickHouse inserts several times
// faster than a Nullable column per field. vpc_flow_logs still shows every
// field AWS defines as a Nullable column, then the arrays as extra_keys
// and extra_values: every field of a record but the common ones, named
// with underscores, known or not. A field vpc_flow_logs has no column for
// is extra_values[indexOf(extra_keys, 'name')], the empty string when a
// record lacks it.
//
// The DDL runs on ClickHouse 18.16 (Debian's, used in CI) and on current
// releases; the schema's version is kept in schema_migrations.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/store"
)

// Options say where the database is. URL is required.
type Options struct {
	// URL is the HTTP interface, e.g. http://127.0.0.1:8123.
	URL string
	// Database is the database holding the tables, created when missing;
	// "" means "skymap".
	Database string
	// User and Password authenticate; "" User means the server's default.
	User, Password string
	// HTTPClient sends the requests; nil means a client without timeout
	// (queries end with their context).
	HTTPClient *http.Client
	// QueryTimeout bounds FlowSQL queries on the server
	// (max_execution_time); 0 means 60 s.
	QueryTimeout time.Duration
	// QueryMemory bounds the memory of FlowSQL queries on the server, in
	// bytes (max_memory_usage); 0 means 1 GiB.
	QueryMemory int64
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// DB is the ClickHouse flows store. It is safe for concurrent use.
type DB struct {
	c    *client
	opts Options

	// objects are locked while this process commits them, so that two
	// commits of one object here do not both write it.
	objects store.KeyLock
}

var _ store.Flows = (*DB)(nil)

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer skymap than this one.
var ErrSchemaTooNew = errors.New("clickhouse: schema is newer than this skymap")

// Open connects to the server, creates the database when missing and
// migrates its schema to the current version. It refuses a database whose
// schema is newer than this skymap knows.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.URL == "" {
		return nil, errors.New("clickhouse: no URL")
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("clickhouse: URL %q: want http://host:port", opts.URL)
	}
	if opts.Database == "" {
		opts.Database = "skymap"
	}
	if !identRE.MatchString(opts.Database) {
		return nil, fmt.Errorf("clickhouse: database %q: want letters, digits and _", opts.Database)
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 60 * time.Second
	}
	if opts.QueryMemory <= 0 {
		opts.QueryMemory = 1 << 30
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	d := &DB{
		c:    &client{http: hc, base: strings.TrimRight(opts.URL, "/"), user: opts.User, password: opts.Password},
		opts: opts,
	}
	if err := d.c.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+opts.Database, nil); err != nil {
		return nil, fmt.Errorf("clickhouse: create database %s: %w", opts.Database, err)
	}
	d.c.database = opts.Database
	if err := d.migrate(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Close releases idle connections.
func (d *DB) Close() error {
	d.c.http.CloseIdleConnections()
	return nil
}

// badQuery wraps a refusal or a database error for the user.
func badQuery(format string, args ...any) error {
	return fmt.Errorf("%w: %s", store.ErrBadQuery, fmt.Sprintf(format, args...))
}

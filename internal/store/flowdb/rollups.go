package flowdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/store"
)

// Rollups are stored as one Parquet file per flow-log object under
// raw/rollups/yyyy/mm/dd/hh/r-<hash>.parquet (the hour of the object's
// first record, the hash of its name as for the archived body), written
// before the object's catalog row names it (flow_objects.rollups). The view
// flow_rollups reads them all.

// rollupColumns are flow_rollups' columns and types, in order.
var rollupColumns = []struct{ name, typ string }{
	{"minute", "TIMESTAMP"}, {"account", "VARCHAR"}, {"region", "VARCHAR"}, {"interface_id", "VARCHAR"},
	{"reporter", "VARCHAR"}, {"client", "VARCHAR"}, {"server", "VARCHAR"}, {"client_addr", "VARCHAR"},
	{"server_addr", "VARCHAR"}, {"server_port", "USMALLINT"}, {"protocol", "UTINYINT"}, {"action", "VARCHAR"},
	{"bytes_to_server", "UBIGINT"}, {"bytes_to_client", "UBIGINT"}, {"packets_to_server", "UBIGINT"},
	{"packets_to_client", "UBIGINT"}, {"records", "UBIGINT"}, {"client_addr_key", "VARCHAR"}, {"server_addr_key", "VARCHAR"},
}

// rollupsDir is the directory of the rollup files, relative to raw/.
const rollupsDir = "rollups"

// rollupsPath is where an object's rollups are stored, relative to raw/.
func rollupsPath(obj *store.FlowObject) string {
	t := obj.Start.UTC()
	if t.IsZero() {
		t = obj.End.UTC()
	}
	h := sha256.Sum256([]byte(obj.Bucket + "\x00" + obj.Key + "\x00" + obj.ETag))
	return filepath.Join(rollupsDir, t.Format("2006"), t.Format("01"), t.Format("02"), t.Format("15"),
		"r-"+hex.EncodeToString(h[:16])+".parquet")
}

// rollupsGlob matches every rollups file.
func (d *DB) rollupsGlob() string {
	return filepath.Join(d.raw, rollupsDir, "*", "*", "*", "*", "r-*.parquet")
}

// rebuildRollupsView (re)creates flow_rollups: the rollup files when the
// catalog names any, else an empty typed row set (read_parquet fails on a
// glob without files). The caller holds writeMu.
func (d *DB) rebuildRollupsView(ctx context.Context) error {
	var n int64
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM flow_objects WHERE rollups <> ''`).Scan(&n); err != nil {
		return fmt.Errorf("count rollup files: %w", err)
	}
	if _, err := d.db.ExecContext(ctx, rollupsViewSQL(d.rollupsGlob(), n > 0)); err != nil {
		return fmt.Errorf("create view flow_rollups: %w", err)
	}
	d.rollups = n > 0
	return nil
}

// rollupsViewSQL is the definition of flow_rollups.
func rollupsViewSQL(glob string, files bool) string {
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE VIEW flow_rollups AS\nSELECT ")
	for i, c := range rollupColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		if files {
			b.WriteString(quoteIdent(c.name))
		} else {
			fmt.Fprintf(&b, "CAST(NULL AS %s) AS %s", c.typ, quoteIdent(c.name))
		}
	}
	if files {
		fmt.Fprintf(&b, " FROM read_parquet(%s, union_by_name = true, hive_partitioning = false)", quoteString(glob))
	} else {
		b.WriteString(" WHERE false")
	}
	return b.String()
}

// removeUnnamed removes the files under raw/ that no catalog row names:
// bodies or rollups a crash left between their rename and the catalog
// insert, or between a prune's catalog update and its removals. The
// caller holds writeMu, and we hold the database: no one else writes here.
func (d *DB) removeUnnamed(ctx context.Context) error {
	rows, err := d.db.QueryContext(ctx, `SELECT path, rollups FROM flow_objects`)
	if err != nil {
		return fmt.Errorf("list files: %w", err)
	}
	named := map[string]bool{}
	for rows.Next() {
		var p, r string
		if err := rows.Scan(&p, &r); err != nil {
			rows.Close()
			return fmt.Errorf("list files: %w", err)
		}
		named[p], named[r] = true, true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list files: %w", err)
	}
	var errs []error
	filepath.WalkDir(d.raw, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(d.raw, p)
		if err != nil || named[rel] {
			return nil
		}
		if err := removeFile(d.raw, p); err != nil {
			errs = append(errs, err)
		}
		return nil
	})
	return errors.Join(errs...)
}

// removeFile removes the file abs under root, then its directories up to
// root as long as they are empty.
func removeFile(root, abs string) error {
	if err := os.Remove(abs); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for dir := filepath.Dir(abs); dir != root && len(dir) > len(root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// migrateRollupsTable moves the rows of a flow_rollups table (databases
// written before rollups were Parquet files) into one rollups file named
// by a catalog row of its own (empty bucket, key "flow_rollups table",
// pruned as a whole once its last minute is past the rollup retention),
// then drops the table. It runs before external access is switched off.
func (d *DB) migrateRollupsTable(ctx context.Context) error {
	var n int64
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'flow_rollups'`).Scan(&n); err != nil {
		return fmt.Errorf("look for a flow_rollups table: %w", err)
	}
	if n == 0 {
		return nil
	}
	var rows int64
	var first, last *time.Time
	if err := d.db.QueryRowContext(ctx, `SELECT count(*), min(minute), max(minute) FROM flow_rollups`).Scan(&rows, &first, &last); err != nil {
		return fmt.Errorf("migrate flow_rollups: %w", err)
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate flow_rollups: %w", err)
	}
	defer conn.Close()
	rel := ""
	if rows > 0 {
		now := d.opts.Now().UTC()
		obj := &store.FlowObject{Key: "flow_rollups table", ETag: now.Format(time.RFC3339Nano), Start: first.UTC()}
		rel = rollupsPath(obj)
		abs := filepath.Join(d.raw, rel)
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return fmt.Errorf("migrate flow_rollups: %w", err)
		}
		tmp := filepath.Join(d.tmp, "rollups-migrate.parquet")
		var cols []string
		for _, c := range rollupColumns {
			cols = append(cols, quoteIdent(c.name))
		}
		if _, err := conn.ExecContext(ctx, `COPY (SELECT `+strings.Join(cols, ", ")+` FROM flow_rollups ORDER BY minute) TO `+
			quoteString(tmp)+` (FORMAT parquet, COMPRESSION snappy)`); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("migrate flow_rollups: %w", err)
		}
		if err := os.Rename(tmp, abs); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("migrate flow_rollups: %w", err)
		}
		defer func() {
			if err != nil {
				os.Remove(abs)
			}
		}()
		if _, err = conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
			return fmt.Errorf("migrate flow_rollups: %w", err)
		}
		_, err = conn.ExecContext(ctx, `INSERT INTO flow_objects (bucket, key, etag, account, region, path, format, parquet,
			start, "end", records, malformed, committed_at, rollups, rollups_last) VALUES ('', ?, ?, '', '', '', '', false, ?, ?, 0, 0, ?, ?, ?)`,
			obj.Key, obj.ETag, first.UTC(), last.UTC().Add(time.Minute), now, rel, last.UTC())
		if err == nil {
			_, err = conn.ExecContext(ctx, `DROP TABLE flow_rollups`)
		}
		if err == nil {
			_, err = conn.ExecContext(ctx, `COMMIT`)
		}
		if err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
			return fmt.Errorf("migrate flow_rollups: %w", err)
		}
		return nil
	}
	if _, err := conn.ExecContext(ctx, `DROP TABLE flow_rollups`); err != nil {
		return fmt.Errorf("migrate flow_rollups: %w", err)
	}
	return nil
}

package flowdb

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/skymap/skymap/internal/model"
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

// rollupRow is a row of a rollups file: flow_rollups' columns, with
// Parquet types DuckDB reads back as those of rollupColumns (a timestamp
// not adjusted to UTC is a TIMESTAMP, unsigned integers keep their
// width). Addresses are kept as text for people and as 32 hex digits of
// their 16-byte form (IPv4 mapped into IPv6) so that a prefix is a range
// of keys: no inet extension needed.
type rollupRow struct {
	Minute          time.Time `parquet:"minute,timestamp(microsecond:local)"`
	Account         string    `parquet:"account,dict"`
	Region          string    `parquet:"region,dict"`
	InterfaceID     string    `parquet:"interface_id,dict"`
	Reporter        string    `parquet:"reporter,dict"`
	Client          string    `parquet:"client,dict"`
	Server          string    `parquet:"server,dict"`
	ClientAddr      string    `parquet:"client_addr"`
	ServerAddr      string    `parquet:"server_addr"`
	ServerPort      uint16    `parquet:"server_port"`
	Protocol        uint8     `parquet:"protocol"`
	Action          string    `parquet:"action,dict"`
	BytesToServer   uint64    `parquet:"bytes_to_server"`
	BytesToClient   uint64    `parquet:"bytes_to_client"`
	PacketsToServer uint64    `parquet:"packets_to_server"`
	PacketsToClient uint64    `parquet:"packets_to_client"`
	Records         uint64    `parquet:"records"`
	ClientAddrKey   string    `parquet:"client_addr_key"`
	ServerAddrKey   string    `parquet:"server_addr_key"`
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

// writeRollups writes rollups, sorted by minute, as one Parquet file (one
// row group, snappy) at path through a temporary file in flows.tmp, and
// returns the last minute. Each minute's and address's column values are
// converted once per file.
func (d *DB) writeRollups(path string, rollups []model.FlowRollup) (last time.Time, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	f, err := os.CreateTemp(d.tmp, "rollups-*")
	if err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// Sorted by minute so that DuckDB's min/max statistics prune well
	// (stable: rows of a minute keep the Processor's order).
	order := make([]int32, len(rollups))
	keys := make([]int64, len(rollups))
	sorted := true
	for i := range order {
		order[i] = int32(i)
		keys[i] = rollups[i].Minute.Unix()
		sorted = sorted && (i == 0 || keys[i-1] <= keys[i])
	}
	if !sorted {
		slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
	}
	w := parquet.NewGenericWriter[rollupRow](f, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(int64(len(rollups))+1))
	var c rowValues
	c.init()
	const chunk = 4096
	buf := make([]rollupRow, 0, min(chunk, len(rollups)))
	for n, i := range order {
		r := &rollups[i]
		ca, sa := c.addr(r.ClientAddr), c.addr(r.ServerAddr)
		m := c.minute(r.Minute)
		if n == len(order)-1 {
			last = m
		}
		reporter := model.FlowClient.String()
		if r.Reporter == model.FlowServer {
			reporter = model.FlowServer.String()
		}
		action := "REJECT"
		if r.Accepted {
			action = "ACCEPT"
		}
		buf = append(buf, rollupRow{Minute: m, Account: r.Account, Region: r.Region, InterfaceID: r.Interface,
			Reporter: reporter, Client: r.Client, Server: r.Server, ClientAddr: ca.text, ServerAddr: sa.text,
			ServerPort: r.ServerPort, Protocol: r.Protocol, Action: action,
			BytesToServer: r.BytesToServer, BytesToClient: r.BytesToClient, PacketsToServer: r.PacketsToServer,
			PacketsToClient: r.PacketsToClient, Records: r.Records, ClientAddrKey: ca.key, ServerAddrKey: sa.key})
		if len(buf) == cap(buf) || n == len(order)-1 {
			if _, err := w.Write(buf); err != nil {
				return last, fmt.Errorf("write rollups: %w", err)
			}
			buf = buf[:0]
		}
	}
	if err := w.Close(); err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	if err := f.Sync(); err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	if err := f.Close(); err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	return last, nil
}

// rowValues caches one file's minutes and addresses' column values.
type rowValues struct {
	minutes map[int64]time.Time
	addrs   map[netip.Addr]addrValues
}

// addrValues are an address's text and key columns.
type addrValues struct{ text, key string }

func (c *rowValues) init() {
	c.minutes = map[int64]time.Time{}
	c.addrs = map[netip.Addr]addrValues{}
}

// minute is t truncated to its minute, in UTC.
func (c *rowValues) minute(t time.Time) time.Time {
	m := t.Unix()
	m -= ((m % 60) + 60) % 60
	v, ok := c.minutes[m]
	if !ok {
		v = time.Unix(m, 0).UTC()
		c.minutes[m] = v
	}
	return v
}

func (c *rowValues) addr(a netip.Addr) addrValues {
	v, ok := c.addrs[a]
	if !ok {
		v = addrValues{addrText(a), addrKey(a)}
		c.addrs[a] = v
	}
	return v
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

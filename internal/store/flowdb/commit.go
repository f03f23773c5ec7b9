package flowdb

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// FlowObjectDone implements store.Flows.
func (d *DB) FlowObjectDone(ctx context.Context, bucket, key, etag string) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM flow_objects WHERE bucket = ? AND key = ? AND etag = ?`,
		bucket, key, etag).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("flowdb: look up object s3://%s/%s: %w", bucket, key, err)
	}
	return n > 0, nil
}

// CommitFlowObject implements store.Flows. The body is archived first
// (a temporary file renamed into raw/), then the catalog row and the
// rollups are inserted in one transaction; when that fails the archived
// file is removed again.
func (d *DB) CommitFlowObject(ctx context.Context, obj *store.FlowObject) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	done, err := d.FlowObjectDone(ctx, obj.Bucket, obj.Key, obj.ETag)
	if err != nil || done {
		return err
	}
	format := normFormat(obj.Format)
	if !obj.Parquet && format == "" {
		format = headerOf(obj.Body)
	}
	if !obj.Parquet && format == "" {
		return fmt.Errorf("flowdb: commit s3://%s/%s: text object without a format or header line", obj.Bucket, obj.Key)
	}
	if obj.Parquet {
		format = ""
	}
	// A body DuckDB could not read whole would break every query of
	// vpc_flow_logs: such an object keeps its rollups and catalog row but
	// is not archived (path ""). A text body the caller read whole is not
	// decompressed again.
	rel, abs := "", ""
	if (obj.ReadWhole && !obj.Parquet && len(obj.Body) > 0) || archivable(obj.Body, obj.Parquet) {
		rel = rawPath(obj, format)
		abs = filepath.Join(d.raw, rel)
		if err := d.writeRaw(abs, obj.Body); err != nil {
			return fmt.Errorf("flowdb: commit s3://%s/%s: %w", obj.Bucket, obj.Key, err)
		}
		if obj.Parquet {
			// DuckDB reads a Parquet file's metadata whenever the view is
			// bound: it must read this one.
			var n int64
			if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM read_parquet(`+quoteString(abs)+`)`).Scan(&n); err != nil {
				if ctx.Err() != nil {
					os.Remove(abs)
					return fmt.Errorf("flowdb: commit s3://%s/%s: %w", obj.Bucket, obj.Key, ctx.Err())
				}
				os.Remove(abs)
				rel, abs = "", ""
			}
		}
	}
	if err := d.insert(ctx, obj, format, rel); err != nil {
		if abs != "" {
			os.Remove(abs)
		}
		return fmt.Errorf("flowdb: commit s3://%s/%s: %w", obj.Bucket, obj.Key, err)
	}
	_, known := d.formats[formatID(format)]
	if rel != "" && ((obj.Parquet && !d.parquet) || (!obj.Parquet && !known)) {
		if err := d.rebuildView(ctx); err != nil {
			// The commit stands; the view catches up at the next new
			// format or at the next open.
			return fmt.Errorf("flowdb: commit s3://%s/%s: committed, but %w", obj.Bucket, obj.Key, err)
		}
	}
	return nil
}

// rawPath is where an object's body is archived, relative to raw/: the
// hour of its first record, then a name made of a hash of bucket, key and
// ETag (never the key itself), prefixed by its format's id for text
// objects.
func rawPath(obj *store.FlowObject, format string) string {
	t := obj.Start.UTC()
	if t.IsZero() {
		t = obj.End.UTC()
	}
	h := sha256.Sum256([]byte(obj.Bucket + "\x00" + obj.Key + "\x00" + obj.ETag))
	name := hex.EncodeToString(h[:16])
	switch {
	case obj.Parquet:
		name = "p-" + name + ".parquet"
	case isGzip(obj.Body):
		name = "t" + formatID(format) + "-" + name + ".log.gz"
	default:
		name = "t" + formatID(format) + "-" + name + ".log"
	}
	return filepath.Join(t.Format("2006"), t.Format("01"), t.Format("02"), t.Format("15"), name)
}

// archivable tells whether DuckDB can read body whole: a gzip stream that
// decompresses without error, plain text, or a file with Parquet's magic
// at both ends.
func archivable(body []byte, parquet bool) bool {
	switch {
	case len(body) == 0:
		return false
	case parquet:
		return len(body) >= 8 && string(body[:4]) == "PAR1" && string(body[len(body)-4:]) == "PAR1"
	case isGzip(body):
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return false
		}
		_, err = io.Copy(io.Discard, zr)
		return err == nil
	}
	return true
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// headerOf returns the header line of a text body, gzip or plain.
func headerOf(body []byte) string {
	var r *bufio.Reader
	if isGzip(body) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return ""
		}
		r = bufio.NewReader(zr)
	} else {
		r = bufio.NewReader(bytes.NewReader(body))
	}
	line, _ := r.ReadString('\n')
	return normFormat(line)
}

// writeRaw writes body to path through a temporary file in flows.tmp, so
// that the view never reads half a file.
func (d *DB) writeRaw(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("archive body: %w", err)
	}
	f, err := os.CreateTemp(d.tmp, "body-*")
	if err != nil {
		return fmt.Errorf("archive body: %w", err)
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("archive body: %w", err)
	}
	return nil
}

// insert adds the catalog row and the rollups in one transaction on one
// connection; the appender joins the connection's open transaction.
func (d *DB) insert(ctx context.Context, obj *store.FlowObject, format, rel string) (err error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	_, err = conn.ExecContext(ctx, `INSERT INTO flow_objects (bucket, key, etag, account, region, path, format, parquet,
		start, "end", records, malformed, committed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		obj.Bucket, obj.Key, obj.ETag, obj.Account, obj.Region, rel, format, obj.Parquet,
		obj.Start.UTC(), obj.End.UTC(), obj.Records, obj.Malformed, d.opts.Now().UTC())
	if err != nil {
		return fmt.Errorf("insert catalog row: %w", err)
	}
	if len(obj.Rollups) > 0 {
		if err = appendRollups(ctx, conn, obj.Rollups); err != nil {
			return fmt.Errorf("append rollups: %w", err)
		}
	}
	if _, err = conn.ExecContext(ctx, `COMMIT`); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// appendRollups appends rollups to flow_rollups through DuckDB's appender,
// in the transaction open on conn. An object's rollups are about as many
// as its records but share few distinct minutes and addresses: those
// columns' values are converted (and boxed for the driver) once per
// distinct value, not once per row.
func appendRollups(ctx context.Context, conn *sql.Conn, rollups []model.FlowRollup) error {
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "flow_rollups")
		if err != nil {
			return err
		}
		var c rowValues
		c.init()
		row := make([]driver.Value, 19)
		for i := range rollups {
			r := &rollups[i]
			ca, sa := c.addr(r.ClientAddr), c.addr(r.ServerAddr)
			row[0] = c.minute(r.Minute)
			row[1] = r.Account
			row[2] = r.Region
			row[3] = r.Interface
			row[4] = reporterValue[r.Reporter == model.FlowServer]
			row[5] = r.Client
			row[6] = r.Server
			row[7], row[8] = ca.text, sa.text
			row[9], row[10] = r.ServerPort, r.Protocol
			row[11] = actionValue[r.Accepted]
			row[12], row[13], row[14], row[15], row[16] = r.BytesToServer, r.BytesToClient, r.PacketsToServer, r.PacketsToClient, r.Records
			row[17], row[18] = ca.key, sa.key
			if err := a.AppendRow(row...); err != nil {
				a.Close()
				return err
			}
		}
		return a.CloseWithCancel(ctx)
	})
}

// The reporter and action columns' values, boxed once.
var (
	reporterValue = map[bool]driver.Value{false: model.FlowClient.String(), true: model.FlowServer.String()}
	actionValue   = map[bool]driver.Value{false: "REJECT", true: "ACCEPT"}
)

// rowValues caches the driver values of one append's minutes and
// addresses.
type rowValues struct {
	minutes map[int64]driver.Value
	addrs   map[netip.Addr]addrValues
}

// addrValues are an address's text and key columns.
type addrValues struct{ text, key driver.Value }

func (c *rowValues) init() {
	c.minutes = map[int64]driver.Value{}
	c.addrs = map[netip.Addr]addrValues{}
}

// minute is t truncated to its minute, in UTC.
func (c *rowValues) minute(t time.Time) driver.Value {
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

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().String()
}

// addrKey is an address as 32 hex digits of its 16-byte form; "" for none.
func addrKey(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	b := a.Unmap().As16()
	return hex.EncodeToString(b[:])
}

// prefixRange is the first and last key of a prefix's addresses.
func prefixRange(p netip.Prefix) (lo, hi string) {
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	first := p.Addr().As16()
	last := first
	for i := bits; i < 128; i++ {
		last[i/8] |= 1 << (7 - i%8)
	}
	return hex.EncodeToString(first[:]), hex.EncodeToString(last[:])
}

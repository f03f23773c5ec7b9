package flowdb

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"

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

// CommitFlowObject implements store.Flows. The body is archived (a
// temporary file renamed into raw/) and the rollups are written as a
// Parquet file (likewise, under raw/rollups/), then the catalog row naming
// both is inserted; when that fails the files are removed again. Only the
// catalog insert (and the views' rebuilds) take the write lock: the files
// of different objects are written concurrently. Commits of one object
// (bucket, key, ETag) are serialized, so the second finds it done.
func (d *DB) CommitFlowObject(ctx context.Context, obj *store.FlowObject) (err error) {
	defer d.objects.Lock(obj.Bucket + "\x00" + obj.Key + "\x00" + obj.ETag)()
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
	defer func() {
		if err != nil && abs != "" {
			os.Remove(abs)
		}
	}()
	if (obj.ReadWhole && !obj.Parquet && len(obj.Body) > 0) || archivable(obj.Body, obj.Parquet) {
		rel = rawPath(obj, format)
		abs = filepath.Join(d.raw, rel)
		if err := d.writeRaw(abs, obj.Body); err != nil {
			abs = ""
			return fmt.Errorf("flowdb: commit s3://%s/%s: %w", obj.Bucket, obj.Key, err)
		}
		if obj.Parquet {
			// DuckDB reads a Parquet file's metadata whenever the view is
			// bound: it must read this one.
			var n int64
			if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM read_parquet(`+quoteString(abs)+`)`).Scan(&n); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("flowdb: commit s3://%s/%s: %w", obj.Bucket, obj.Key, ctx.Err())
				}
				os.Remove(abs)
				rel, abs = "", ""
			}
		}
	}
	rollRel, rollAbs := "", ""
	var last time.Time
	defer func() {
		if err != nil && rollAbs != "" {
			os.Remove(rollAbs)
		}
	}()
	if obj.Rollups.Len() > 0 {
		rollRel = rollupsPath(obj)
		rollAbs = filepath.Join(d.raw, rollRel)
		if last, err = d.writeRollups(rollAbs, &obj.Rollups); err != nil {
			rollAbs = ""
			return fmt.Errorf("flowdb: commit s3://%s/%s: %w", obj.Bucket, obj.Key, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("flowdb: commit s3://%s/%s: %w", obj.Bucket, obj.Key, err)
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if err := d.insert(ctx, obj, format, rel, rollRel, last); err != nil {
		return fmt.Errorf("flowdb: commit s3://%s/%s: %w", obj.Bucket, obj.Key, err)
	}
	var errs []error
	_, known := d.formats[formatID(format)]
	if rel != "" && ((obj.Parquet && !d.parquet) || (!obj.Parquet && !known)) {
		if err := d.rebuildView(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if rollRel != "" && !d.rollups {
		if err := d.rebuildRollupsView(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// The commit stands (its files must stay); the views catch up at
		// the next new format or file, prune or open.
		rel, abs, rollRel, rollAbs = "", "", "", ""
		return fmt.Errorf("flowdb: commit s3://%s/%s: committed, but %w", obj.Bucket, obj.Key, errors.Join(errs...))
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

// insert adds the catalog row, which names the archived body (rel) and
// the rollups file (rollRel, whose last minute is last), in one
// transaction. The caller holds writeMu.
func (d *DB) insert(ctx context.Context, obj *store.FlowObject, format, rel, rollRel string, last time.Time) error {
	var rollLast any
	if rollRel != "" {
		rollLast = last.UTC()
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO flow_objects (bucket, key, etag, account, region, path, format, parquet,
		start, "end", records, malformed, committed_at, rollups, rollups_last) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		obj.Bucket, obj.Key, obj.ETag, obj.Account, obj.Region, rel, format, obj.Parquet,
		obj.Start.UTC(), obj.End.UTC(), obj.Records, obj.Malformed, d.opts.Now().UTC(), rollRel, rollLast)
	if err != nil {
		return fmt.Errorf("insert catalog row: %w", err)
	}
	return nil
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

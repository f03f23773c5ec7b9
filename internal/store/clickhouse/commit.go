package clickhouse

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/inflate"
	"github.com/skymap/skymap/internal/store"
)

// objectID names an object in the tables: a hash of bucket, key and ETag.
func objectID(bucket, key, etag string) string {
	h := sha256.Sum256([]byte(bucket + "\x00" + key + "\x00" + etag))
	return hex.EncodeToString(h[:16])
}

// FlowObjectDone implements store.Flows.
func (d *DB) FlowObjectDone(ctx context.Context, bucket, key, etag string) (bool, error) {
	r, err := d.c.query(ctx, `SELECT count() FROM flow_objects WHERE object = `+quote(objectID(bucket, key, etag))+
		` AND bucket = `+quote(bucket)+" AND `key` = "+quote(key)+` AND etag = `+quote(etag), nil)
	if err != nil {
		return false, fmt.Errorf("clickhouse: look up object s3://%s/%s: %w", bucket, key, err)
	}
	n, err := integer(r.Data[0][0])
	if err != nil {
		return false, fmt.Errorf("clickhouse: look up object s3://%s/%s: %w", bucket, key, err)
	}
	return n > 0, nil
}

// CommitFlowObject implements store.Flows. The records (of text objects:
// Parquet bodies are not parsed yet) and the rollups are inserted tagged
// with a new attempt number, then the catalog row naming the attempt; the
// views count the rows of one catalogued attempt per object, so an attempt
// that fails before its catalog row leaves rows nobody sees, and two
// workers committing one object at once count it once.
func (d *DB) CommitFlowObject(ctx context.Context, obj *store.FlowObject) error {
	defer d.objects.Lock(obj.Bucket + "\x00" + obj.Key + "\x00" + obj.ETag)()
	done, err := d.FlowObjectDone(ctx, obj.Bucket, obj.Key, obj.ETag)
	if err != nil || done {
		return err
	}
	fail := func(err error) error {
		return fmt.Errorf("clickhouse: commit s3://%s/%s: %w", obj.Bucket, obj.Key, err)
	}
	format := strings.Join(strings.Fields(obj.Format), " ")
	if !obj.Parquet && format == "" {
		format = headerOf(obj.Body)
		if format == "" {
			return fail(fmt.Errorf("text object without a format or header line"))
		}
	}
	attempt := newAttempt()
	id := objectID(obj.Bucket, obj.Key, obj.ETag)
	// The rollups are inserted while the records are, on another
	// connection: the server writes one while the other is parsed.
	type rollupsDone struct {
		last time.Time
		err  error
	}
	rolled := make(chan rollupsDone, 1)
	go func() {
		last, err := d.insertRollups(ctx, id, attempt, obj)
		rolled <- rollupsDone{last, err}
	}()
	var raw uint64
	var broken bool
	if !obj.Parquet && len(obj.Body) > 0 {
		raw, broken, err = d.insertRecords(ctx, id, attempt, obj, format)
	}
	r := <-rolled
	if err = cmp.Or(err, r.err); err != nil {
		return fail(err)
	}
	last := r.last
	if broken {
		// Rows of the body before its break may be in: catalog another
		// attempt, which has none, and its rollups.
		attempt = newAttempt()
		if last, err = d.insertRollups(ctx, id, attempt, obj); err != nil {
			return fail(err)
		}
	}
	parquet := 0
	if obj.Parquet {
		parquet, format = 1, ""
	}
	row := []string{id, strconv.FormatUint(attempt, 10), obj.Bucket, obj.Key, obj.ETag, obj.Account, obj.Region, format,
		strconv.Itoa(parquet), tsvTime(obj.Start), tsvTime(obj.End), strconv.FormatInt(obj.Records, 10),
		strconv.FormatInt(obj.Malformed, 10), strconv.FormatUint(raw, 10), strconv.Itoa(obj.Rollups.Len()), tsvTime(last),
		tsvTime(d.opts.Now())}
	var buf bytes.Buffer
	writeTSV(&buf, row)
	if err := d.c.insert(ctx, "flow_objects", objectColumns, "TabSeparated", buf.Bytes()); err != nil {
		return fail(fmt.Errorf("insert catalog row: %w", err))
	}
	return nil
}

// text returns a reader of body's text, and what closes it; false when
// body is gzip that does not decompress whole. A gzip body is inflated
// whole with libdeflate when skymap is built with it (several times
// faster), streamed otherwise or when its text would be too large.
func text(body []byte) (io.Reader, func() error, bool) {
	nop := func() error { return nil }
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return bytes.NewReader(body), nop, true
	}
	switch t, err := inflate.Gunzip(nil, body, maxWholeText); {
	case err == nil:
		return bytes.NewReader(t), nop, true
	case errors.Is(err, inflate.ErrCorrupt):
		return nil, nop, false
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, nop, false
	}
	return zr, zr.Close, true
}

// maxWholeText is the most text of a gzip body decompressed whole.
const maxWholeText = 1 << 30

// newAttempt is a random attempt number.
func newAttempt() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) >> 1
}

// insertRollups inserts obj's rollups, as RowBinary in one request, and
// returns their last minute.
func (d *DB) insertRollups(ctx context.Context, id string, attempt uint64, obj *store.FlowObject) (time.Time, error) {
	var last time.Time
	if obj.Rollups.Len() == 0 {
		return last, nil
	}
	cols := []string{"object", "attempt"}
	for _, c := range rollupColumns {
		cols = append(cols, "`"+c.name+"`")
	}
	str := func(b []byte, s string) []byte { return append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	u64 := binary.LittleEndian.AppendUint64
	prefix := u64(str(nil, id), attempt)
	buf := make([]byte, 0, obj.Rollups.Len()*200)
	for i := range obj.Rollups.Len() {
		r := obj.Rollups.At(i)
		if r.Minute.After(last) {
			last = r.Minute
		}
		action := "REJECT"
		if r.Accepted {
			action = "ACCEPT"
		}
		b := binary.LittleEndian.AppendUint32(append(buf, prefix...), dateTimeSeconds(r.Minute))
		for _, s := range []string{r.Account, r.Region, r.Interface, r.Reporter.String(), r.Client, r.Server,
			addrText(r.ClientAddr), addrText(r.ServerAddr)} {
			b = str(b, s)
		}
		b = binary.LittleEndian.AppendUint16(b, r.ServerPort)
		b = append(b, r.Protocol)
		b = str(b, action)
		b = u64(u64(u64(u64(u64(b, r.BytesToServer), r.BytesToClient), r.PacketsToServer), r.PacketsToClient), r.Records)
		buf = str(str(b, addrKey(r.ClientAddr)), addrKey(r.ServerAddr))
	}
	if err := d.c.insert(ctx, "flow_rollup_rows", cols, "RowBinary", buf); err != nil {
		return last, fmt.Errorf("insert rollups: %w", err)
	}
	return last, nil
}

// insertRecords parses a text body's records into flow_raw and returns
// how many it inserted. Like flowdb's view, it skips lines of the wrong
// field count or with a number field that is not one. A body that does
// not decompress whole counts no records: insertRecords then reports it
// broken, and the caller must not catalog this attempt, whose rows may be
// partly inserted.
func (d *DB) insertRecords(ctx context.Context, id string, attempt uint64, obj *store.FlowObject, format string) (n uint64, broken bool, err error) {
	r, closeBody, ok := text(obj.Body)
	if !ok {
		return 0, false, nil
	}
	defer closeBody()
	// rawOf[i] is the position in rawColumns of field i's column, -1 for
	// a field kept in the arrays (and for a repeated field, dropped).
	fields := strings.Fields(format)
	rawOf := make([]int, len(fields))
	types := make([]string, len(fields))
	var extra []string // the keys of the fields in the arrays
	seen := map[string]bool{}
	for i, f := range fields {
		name := strings.ReplaceAll(f, "-", "_")
		rawOf[i], types[i] = slices.Index(rawColumns, name), recordType(name)
		if seen[name] {
			rawOf[i], types[i] = -2, ""
		}
		seen[name] = true
		if rawOf[i] == -1 {
			extra = append(extra, name)
		}
	}
	cols := []string{"object", "attempt", "object_end", "nulls"}
	for _, c := range rawColumns {
		cols = append(cols, "`"+c+"`")
	}
	cols = append(cols, "extra_keys", "extra_values")
	// Rows are sent as RowBinary (ClickHouse parses text slowly), in one
	// request streamed while the body is parsed, so that the server's
	// insert overlaps the parsing.
	prefix := binary.AppendUvarint(nil, uint64(len(id)))
	prefix = append(prefix, id...)
	prefix = binary.LittleEndian.AppendUint64(prefix, attempt)
	prefix = binary.LittleEndian.AppendUint32(prefix, dateTimeSeconds(obj.End))
	var pw *io.PipeWriter
	var bw *bufio.Writer
	sent := make(chan error, 1)
	var buf []byte
	var total uint64
	vals := make([][]byte, len(rawColumns))
	var keys, extraVals [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	header := true
	parts := make([][]byte, 0, len(fields))
	for sc.Scan() {
		line := sc.Bytes()
		if header {
			header = false
			if strings.Join(strings.Fields(string(line)), " ") == format {
				continue
			}
		}
		parts = splitFields(parts[:0], line)
		if len(parts) != len(fields) {
			continue
		}
		clear(vals)
		keys, extraVals = keys[:0], extraVals[:0]
		ok := true
		e := 0
		for i, p := range parts {
			switch j := rawOf[i]; {
			case j == -2:
			case string(p) == "-":
				if j == -1 {
					e++
				}
			case !validNumber(types[i], p):
				ok = false
			case j >= 0:
				vals[j] = p
			default:
				keys = append(keys, []byte(extra[e]))
				extraVals = append(extraVals, p)
				e++
			}
		}
		if !ok {
			continue
		}
		if pw == nil {
			var pr *io.PipeReader
			pr, pw = io.Pipe()
			bw = bufio.NewWriterSize(pw, 1<<20)
			go func() {
				err := d.c.insertFrom(ctx, "flow_raw", cols, "RowBinary", pr)
				pr.CloseWithError(cmp.Or(err, io.ErrClosedPipe))
				sent <- err
			}()
		}
		buf = appendRawRecord(append(buf[:0], prefix...), vals, keys, extraVals)
		if _, err := bw.Write(buf); err != nil {
			// The insert failed: its error says why.
			break
		}
		total++
	}
	if pw == nil {
		return 0, false, nil
	}
	if sc.Err() != nil {
		// flowdb does not archive what it cannot read whole. The rows
		// sent may be inserted: the caller commits another attempt.
		pw.CloseWithError(sc.Err())
		<-sent
		return 0, true, nil
	}
	if err := bw.Flush(); err == nil {
		pw.Close()
	}
	if err := <-sent; err != nil {
		return 0, false, fmt.Errorf("insert records: %w", err)
	}
	return total, false, nil
}

// splitFields appends the space-separated fields of line to parts.
func splitFields(parts [][]byte, line []byte) [][]byte {
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' {
			j++
		}
		if j > i {
			parts = append(parts, line[i:j])
		}
		i = j
	}
	return parts
}

// validNumber reports whether v is a number of typ (as strconv.ParseInt
// reads one in base 10), or typ is not a number type.
func validNumber(typ string, v []byte) bool {
	switch typ {
	case "Int32":
		_, ok := parseInt(v, 32)
		return ok
	case "Int64":
		_, ok := parseInt(v, 64)
		return ok
	}
	return true
}

// parseInt is strconv.ParseInt(string(v), 10, bits) without allocating.
func parseInt(v []byte, bits uint) (int64, bool) {
	if len(v) > 19 {
		// Leading zeros, or out of range: leave it to strconv.
		n, err := strconv.ParseInt(string(v), 10, int(bits))
		return n, err == nil
	}
	neg := false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg, v = v[0] == '-', v[1:]
	}
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	limit := uint64(1) << (bits - 1)
	if neg {
		return -int64(u-1) - 1, u <= limit
	}
	return int64(u), u < limit
}

// rawTypes are the types of rawColumns.
var rawTypes = func() []string {
	t := make([]string, len(rawColumns))
	for i, c := range rawColumns {
		t[i] = recordType(c)
	}
	return t
}()

// appendRawRecord appends the RowBinary encoding of a record's nulls,
// rawColumns values (nil for NULL) and arrays, after its prefix; the
// numbers have been checked by validNumber.
func appendRawRecord(b []byte, vals, keys, extraVals [][]byte) []byte {
	var nulls uint32
	for j, v := range vals {
		if v == nil {
			nulls |= 1 << j
		}
	}
	b = binary.LittleEndian.AppendUint32(b, nulls)
	for j, v := range vals {
		switch rawTypes[j] {
		case "Int32":
			n, _ := parseInt(v, 32)
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(n)))
		case "Int64":
			n, _ := parseInt(v, 64)
			b = binary.LittleEndian.AppendUint64(b, uint64(n))
		default:
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	for _, arr := range [][][]byte{keys, extraVals} {
		b = binary.AppendUvarint(b, uint64(len(arr)))
		for _, v := range arr {
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	return b
}

// headerOf returns the header line of a text body, gzip or plain.
func headerOf(body []byte) string {
	var r io.Reader = bytes.NewReader(body)
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return ""
		}
		r = zr
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	return strings.Join(strings.Fields(line), " ")
}

// writeTSV writes one TabSeparated row of text values.
func writeTSV(w *bytes.Buffer, vals []string) {
	for i, v := range vals {
		if i > 0 {
			w.WriteByte('\t')
		}
		w.WriteString(quoteTSV(v))
	}
	w.WriteByte('\n')
}

func quoteTSV(s string) string { return tsvEscaper.Replace(s) }

// tsvTime is t as a DateTime in UTC; times before 1970 (the zero time)
// are 1970-01-01 00:00:00, DateTime's smallest.
func tsvTime(t time.Time) string {
	if t.Before(time.Unix(0, 0)) {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format(time.DateTime)
}

// dateTimeSeconds is t as a DateTime's seconds, clamped to its range.
func dateTimeSeconds(t time.Time) uint32 {
	switch u := t.Unix(); {
	case u < 0:
		return 0
	case u > math.MaxUint32:
		return math.MaxUint32
	default:
		return uint32(u)
	}
}

// dateTime is t as a DateTime literal.
func dateTime(t time.Time) string { return "toDateTime(" + quote(tsvTime(t)) + ", 'UTC')" }

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

// integer reads a JSON number ClickHouse returned, quoted or not.
func integer(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Int64()
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("not an integer: %v", v)
}

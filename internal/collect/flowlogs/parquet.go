package flowlogs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// parquetMagic starts (and ends) every Parquet file.
var parquetMagic = []byte("PAR1")

// maxParquetFooter bounds a Parquet file's metadata; a flow log's has a
// few kilobytes per row group.
const maxParquetFooter = 64 << 20

// IsParquet reports whether an object starting with head is Parquet.
func IsParquet(head []byte) bool { return bytes.HasPrefix(head, parquetMagic) }

// ParquetReader reads the records of a Parquet flow-log object, as AWS
// writes them to S3 with the Parquet file format: one column per field,
// named as the field with '_' for '-' (log_status, pkt_srcaddr), integers
// as INT32 or INT64, text as strings, a missing value as null (or "-").
// Columns skymap does not know are kept as unknown columns. Each row is
// read into the same Record type as text lines, with the same checks, so
// a row with an out-of-range port or a value that is no address is
// counted as malformed and skipped, with its row number (1-based) as its
// line; a string holding a space is malformed too.
//
// It has the methods of Reader that read records. It allocates per page
// and batch of rows (parquet-go does), not for each record; it is not
// tuned for speed like the text path.
type ParquetReader struct {
	name   string
	file   *parquet.File
	format *Format
	groups []parquet.RowGroup
	group  int
	rows   parquet.Rows
	batch  []parquet.Row
	n, i   int // rows in batch, next row of batch
	rowNo  int64
	line   []byte
	rec    Record
	err    error

	malformed int64
	lineErrs  []LineError
}

// NewParquetReader opens the Parquet object r of size bytes, called name
// in errors. It fails (ErrBadFormat) when the object is no Parquet file or
// its schema is not flat.
func NewParquetReader(r io.ReaderAt, size int64, name string) (*ParquetReader, error) {
	return newParquetReader(r, size, name)
}

func newParquetReader(r io.ReaderAt, size int64, name string) (_ *ParquetReader, err error) {
	// parquet-go panics on some corrupt files (fuzzing found slice bounds
	// out of range): such a file is one that cannot be read.
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("%s: %w: parquet: %v", name, ErrBadFormat, e)
		}
	}()
	// The footer's length comes from the file: parquet-go allocates it as
	// said (a 20-byte object asked for 2.7 GB when fuzzed), so check it
	// against the file's size and a bound first.
	var tail [8]byte
	if size < 12 {
		return nil, fmt.Errorf("%s: %w: parquet file of %d bytes", name, ErrBadFormat, size)
	}
	if _, err = r.ReadAt(tail[:], size-8); err != nil {
		return nil, fmt.Errorf("%s: read parquet footer: %w", name, err)
	}
	footer := int64(binary.LittleEndian.Uint32(tail[:4]))
	if !bytes.Equal(tail[4:], parquetMagic) || footer > size-12 || footer > maxParquetFooter {
		return nil, fmt.Errorf("%s: %w: parquet footer of %d bytes in a file of %d", name, ErrBadFormat, footer, size)
	}
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: parquet: %v", name, ErrBadFormat, err)
	}
	var names []string
	for _, path := range f.Schema().Columns() {
		if len(path) != 1 {
			return nil, fmt.Errorf("%s: %w: nested parquet column %s", name, ErrBadFormat, strings.Join(path, "."))
		}
		col := path[0]
		if fld, ok := LookupField(col); ok {
			col = fld.String()
		}
		names = append(names, col)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: %w: parquet file without columns", name, ErrBadFormat)
	}
	format, err := newFormat(names)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &ParquetReader{
		name:   name,
		file:   f,
		format: format,
		groups: f.RowGroups(),
		batch:  make([]parquet.Row, 256),
	}, nil
}

// Format returns the format the Parquet schema describes, in the names of
// the text format (log-status, not log_status).
func (p *ParquetReader) Format() *Format { return p.format }

// Next advances to the next record and reports whether there is one. It
// skips malformed rows.
func (p *ParquetReader) Next() bool {
	for p.err == nil {
		if p.i == p.n && !p.fill() {
			return false
		}
		row := p.batch[p.i]
		p.i++
		p.rowNo++
		if reason := p.render(row); reason != "" {
			p.bad(LineError{Line: p.rowNo, Reason: reason})
			continue
		}
		if err := p.format.ParseLine(p.line, &p.rec); err != nil {
			p.bad(LineError{Line: p.rowNo, Reason: err.Error()})
			continue
		}
		return true
	}
	return false
}

// fill reads the next batch of rows, moving to the next row group at the
// end of one. It returns false at the end of the file or on an error.
func (p *ParquetReader) fill() (ok bool) {
	defer func() {
		if e := recover(); e != nil {
			p.err = fmt.Errorf("%s: %w: parquet row group %d: %v", p.name, ErrCorrupt, p.group, e)
			p.rows, ok = nil, false
		}
	}()
	for {
		if p.rows == nil {
			if p.group == len(p.groups) {
				return false
			}
			p.rows = p.groups[p.group].Rows()
			p.group++
		}
		n, err := p.rows.ReadRows(p.batch)
		p.n, p.i = n, 0
		if err != nil && !errors.Is(err, io.EOF) {
			p.err = fmt.Errorf("%s: read parquet row group %d: %w", p.name, p.group, err)
			p.rows.Close()
			return false
		}
		if err != nil || n == 0 {
			p.rows.Close()
			p.rows = nil
		}
		if n > 0 {
			return true
		}
	}
}

// render writes row as a line of p's format into p.line, or says why it
// cannot.
func (p *ParquetReader) render(row parquet.Row) string {
	p.line = p.line[:0]
	if len(row) != p.format.Len() {
		return fmt.Sprintf("row of %d values, want %d", len(row), p.format.Len())
	}
	for i, v := range row {
		if i > 0 {
			p.line = append(p.line, ' ')
		}
		if v.IsNull() {
			p.line = append(p.line, '-')
			continue
		}
		switch v.Kind() {
		case parquet.Int32:
			p.line = strconv.AppendInt(p.line, int64(v.Int32()), 10)
		case parquet.Int64:
			p.line = strconv.AppendInt(p.line, v.Int64(), 10)
		case parquet.ByteArray, parquet.FixedLenByteArray:
			b := v.ByteArray()
			if len(b) == 0 {
				p.line = append(p.line, '-')
				continue
			}
			if bytes.IndexByte(b, ' ') >= 0 || bytes.IndexByte(b, '\t') >= 0 {
				return fmt.Sprintf("%s (column %d): value with a space", p.format.cols[i].name, i+1)
			}
			p.line = append(p.line, b...)
		default:
			return fmt.Sprintf("%s (column %d): parquet type %s", p.format.cols[i].name, i+1, v.Kind())
		}
	}
	return ""
}

func (p *ParquetReader) bad(e LineError) {
	p.malformed++
	if len(p.lineErrs) < maxLineErrors {
		p.lineErrs = append(p.lineErrs, e)
	}
}

// Record returns the current record. It and its text are valid until the
// next call to Next.
func (p *ParquetReader) Record() *Record { return &p.rec }

// Err returns what stopped the reader early: a row group that cannot be
// read (ErrCorrupt when parquet-go finds it corrupt). Malformed rows are
// not errors: see Malformed.
func (p *ParquetReader) Err() error { return p.err }

// Malformed returns how many rows were skipped as malformed, and the first
// 100 of them with their reasons (their Line is the row number).
func (p *ParquetReader) Malformed() (int64, []LineError) { return p.malformed, p.lineErrs }

package flowlogs

import (
	"bytes"
	"fmt"
	"io"

	"github.com/skymap/skymap/internal/lines"
)

// maxLineErrors is how many malformed lines a Reader describes; further
// ones are only counted.
const maxLineErrors = 100

// LineError is one malformed line of an object: its 1-based line number
// and why it is not a record. The line is skipped.
type LineError struct {
	Line   int64
	Reason string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// CorruptError says where a compressed object went bad (package lines):
// the records of the lines before it were delivered, but records decoded
// from a corrupt member may hold wrong values, so an object with a
// CorruptError must not be taken as fully processed. It unwraps to
// ErrCorrupt.
type CorruptError = lines.CorruptError

// Reader reads the records of one flow-log object: gzip-compressed (one or
// more concatenated members) or plain text, told apart by the gzip magic
// bytes. The first line is the header when it looks like one (S3 text
// objects always have it); otherwise the records are read with the
// fallback format given to NewReader. Malformed lines are counted, the
// first 100 described, and skipped.
//
//	rd := flowlogs.NewReader(f, key, nil)
//	for rd.Next() {
//		rec := rd.Record() // valid until the next call to Next
//	}
//	if err := rd.Err(); err != nil { ... }
type Reader struct {
	name     string
	fallback *Format
	lines    *lines.Reader

	format    *Format
	header    []byte // the header line of format, if it came from one
	rec       Record
	pending   bool // ReadHeader has read the current record
	err       error
	malformed int64
	lineErrs  []LineError
}

// NewReader returns a Reader of the object src, called name in errors.
// fallback is the format of objects without a header line; nil means the
// default version 2 format.
func NewReader(src io.Reader, name string, fallback *Format) *Reader {
	if fallback == nil {
		fallback = defaultFormat
	}
	return &Reader{name: name, fallback: fallback, lines: lines.NewReader(src, name)}
}

// Reset makes the Reader read src, keeping its buffers and decompressor.
func (rd *Reader) Reset(src io.Reader, name string, fallback *Format) {
	rd.reset(name, fallback)
	rd.lines.Reset(src, name)
}

// ResetBytes is Reset for an object held whole in memory, body: built
// with libdeflate (package inflate), a gzip body of up to inflate.Limit
// bytes of text is decompressed in one call, about three times faster
// than streamed. A body it refuses (corrupt, too large) is streamed as
// Reset does, which keeps the records before a corruption.
func (rd *Reader) ResetBytes(body []byte, name string, fallback *Format) {
	rd.reset(name, fallback)
	rd.lines.ResetBytes(body, name)
}

func (rd *Reader) reset(name string, fallback *Format) {
	if fallback == nil {
		fallback = defaultFormat
	}
	*rd = Reader{name: name, fallback: fallback, lines: rd.lines, rec: rd.rec, header: rd.header[:0]}
}

// Next advances to the next record and reports whether there is one. It
// skips empty and malformed lines.
func (rd *Reader) Next() bool {
	if rd.pending {
		rd.pending = false
		return true
	}
	if rd.err != nil {
		return false
	}
	for {
		l, ok := rd.lines.Next()
		if !ok {
			rd.err = rd.lines.Err()
			return false
		}
		if l == nil {
			rd.bad(LineError{Line: rd.lines.LineNo(), Reason: fmt.Sprintf("line longer than %d bytes", rd.lines.MaxLine())})
			continue
		}
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if rd.format == nil {
			if known, _ := headerFields(l); known > 0 {
				if !rd.setHeader(l) {
					return false
				}
				continue
			}
			rd.format = rd.fallback
		}
		if len(l) == len(rd.header) && bytes.Equal(l, rd.header) {
			continue // the header again: objects concatenated
		}
		if err := rd.format.ParseLine(l, &rd.rec); err != nil {
			// A header further down (objects of different formats
			// concatenated) names known fields only.
			if known, all := headerFields(l); known > 0 && known == all {
				if !rd.setHeader(l) {
					return false
				}
				continue
			}
			rd.bad(LineError{Line: rd.lines.LineNo(), Reason: err.Error()})
			continue
		}
		return true
	}
}

// setHeader makes header line l the format of the lines that follow.
func (rd *Reader) setHeader(l []byte) bool {
	f, err := ParseHeader(string(l))
	if err != nil {
		rd.err = fmt.Errorf("%s: header in line %d: %w", rd.name, rd.lines.LineNo(), err)
		return false
	}
	rd.format = f
	rd.header = append(rd.header[:0], l...)
	return true
}

func (rd *Reader) bad(e LineError) {
	rd.malformed++
	if len(rd.lineErrs) < maxLineErrors {
		rd.lineErrs = append(rd.lineErrs, e)
	}
}

// ReadHeader reads up to the first record and returns the object's format:
// its header's, or the fallback when it has none (an empty object too).
// Next then starts with that record. The error is Err's.
func (rd *Reader) ReadHeader() (*Format, error) {
	if rd.format != nil || rd.err != nil {
		return rd.format, rd.err
	}
	if rd.Next() {
		rd.pending = true
		return rd.format, nil
	}
	if rd.format == nil && rd.err == nil {
		return rd.fallback, nil
	}
	return rd.format, rd.err
}

// Record returns the current record. It and its text are valid until the
// next call to Next.
func (rd *Reader) Record() *Record { return &rd.rec }

// Format returns the object's format once the first line has been read;
// nil before.
func (rd *Reader) Format() *Format { return rd.format }

// Err returns what stopped the Reader early: a *CorruptError for a
// compressed object that is truncated or corrupt (the records before it
// were delivered), a header that is no format (ErrBadFormat), or a read
// error of the source. Malformed lines are not errors: see Malformed.
func (rd *Reader) Err() error { return rd.err }

// Malformed returns how many lines were skipped as malformed, and the
// first 100 of them with their reasons.
func (rd *Reader) Malformed() (int64, []LineError) { return rd.malformed, rd.lineErrs }

// Lines returns the number of lines read so far, header included.
func (rd *Reader) Lines() int64 { return rd.lines.LineNo() }

package flowlogs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/inflate"
)

// Buffer sizes: the compressed input and the decompressed text are read in
// large blocks. A line longer than the text buffer is reported malformed.
const (
	inputBufferSize = 256 << 10
	textBufferSize  = 512 << 10
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

// CorruptError says where a compressed object went bad: the byte offset in
// the compressed input at which decompression failed, and how much text it
// had produced. The records of the lines before Line were delivered; the
// incomplete line that was cut is not. gzip checks a member's CRC only at
// its end, so records decoded from a corrupt member before the fault was
// detected may hold wrong values: an object with a CorruptError must not
// be taken as fully processed.
type CorruptError struct {
	Name   string // the object, as given to NewReader
	Offset int64  // compressed bytes consumed when the error came
	Text   int64  // decompressed bytes produced before it
	Line   int64  // the line being read (1-based)
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s: corrupt gzip data at compressed byte %d (after %d bytes of text, in line %d): %v",
		e.Name, e.Offset, e.Text, e.Line, e.Err)
}

// Unwrap returns ErrCorrupt and the decompressor's error.
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

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

	src     *countingReader
	in      *bufio.Reader
	gz      *gzip.Reader
	text    io.Reader // in, gz, or whole
	started bool

	// body is the object when the Reader was given it whole
	// (ResetBytes), bodyRd reads it; a gzip body is then decompressed at
	// once into text, which whole reads (package inflate).
	body     []byte
	bodyRd   bytes.Reader
	inflated []byte
	whole    bytes.Reader

	buf    []byte
	pos    int // next unread byte of buf
	end    int // end of valid bytes in buf
	eof    bool
	rerr   error // read error, reported once buf is drained
	readN  int64 // decompressed bytes read
	lineNo int64

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
	cr := &countingReader{r: src}
	return &Reader{
		name:     name,
		fallback: fallback,
		src:      cr,
		in:       bufio.NewReaderSize(cr, inputBufferSize),
		buf:      make([]byte, textBufferSize),
	}
}

// Reset makes the Reader read src, keeping its buffers and decompressor.
func (rd *Reader) Reset(src io.Reader, name string, fallback *Format) {
	if fallback == nil {
		fallback = defaultFormat
	}
	rd.src.r, rd.src.n = src, 0
	rd.in.Reset(rd.src)
	inflated := rd.inflated[:0]
	if cap(inflated) > maxKeptText {
		inflated = nil
	}
	*rd = Reader{name: name, fallback: fallback, src: rd.src, in: rd.in, gz: rd.gz, buf: rd.buf, rec: rd.rec, header: rd.header[:0],
		inflated: inflated}
}

// ResetBytes is Reset for an object held whole in memory, body: built
// with libdeflate (package inflate), a gzip body of up to inflate.Limit
// bytes of text is decompressed in one call, about three times faster
// than streamed. A body it refuses (corrupt, too large) is streamed as
// Reset does, which keeps the records before a corruption.
func (rd *Reader) ResetBytes(body []byte, name string, fallback *Format) {
	rd.Reset(&rd.bodyRd, name, fallback) // zeroes bodyRd: reset it after
	rd.bodyRd.Reset(body)
	rd.body = body
}

// maxKeptText is the most decompressed text buffer a Reader keeps between
// objects.
const maxKeptText = 64 << 20

// countingReader counts the bytes read from the object.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// start detects compression.
func (rd *Reader) start() error {
	rd.started = true
	rd.text = rd.in
	magic, err := rd.in.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		if err != nil && err != io.EOF {
			return fmt.Errorf("read %s: %w", rd.name, err)
		}
		return nil
	}
	if rd.body != nil && inflate.Available {
		text, err := inflate.Gunzip(rd.inflated[:0], rd.body, inflate.Limit)
		rd.inflated = text
		if err == nil {
			rd.whole.Reset(text)
			rd.text = &rd.whole
			return nil
		}
		// Streamed below: it reads what precedes a corruption, and holds
		// no more than its buffers.
	}
	if rd.gz == nil {
		rd.gz, err = gzip.NewReader(rd.in)
	} else {
		err = rd.gz.Reset(rd.in)
	}
	if err != nil {
		return rd.corrupt(err)
	}
	rd.text = rd.gz
	return nil
}

func (rd *Reader) corrupt(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &CorruptError{Name: rd.name, Offset: rd.src.n - int64(rd.in.Buffered()), Text: rd.readN, Line: rd.lineNo + 1, Err: err}
}

// fill moves the unread bytes to the front of buf and reads more after
// them. It returns false when nothing more can be read.
func (rd *Reader) fill() bool {
	if rd.eof {
		return false
	}
	if rd.pos > 0 {
		rd.end = copy(rd.buf, rd.buf[rd.pos:rd.end])
		rd.pos = 0
	}
	for rd.end < len(rd.buf) {
		n, err := rd.text.Read(rd.buf[rd.end:])
		rd.end += n
		rd.readN += int64(n)
		if err != nil {
			rd.eof = true
			if err != io.EOF {
				if rd.text == io.Reader(rd.gz) {
					rd.rerr = rd.corrupt(err)
				} else {
					rd.rerr = fmt.Errorf("read %s: %w", rd.name, err)
				}
			}
			return true
		}
		if n > 0 {
			return true
		}
	}
	return true
}

// line returns the next line without its newline, or false at the end.
// A line longer than the buffer comes back as nil with true.
func (rd *Reader) line() ([]byte, bool) {
	for {
		if i := bytes.IndexByte(rd.buf[rd.pos:rd.end], '\n'); i >= 0 {
			l := rd.buf[rd.pos : rd.pos+i]
			rd.pos += i + 1
			rd.lineNo++
			return l, true
		}
		if rd.pos == 0 && rd.end == len(rd.buf) {
			// No newline in a full buffer: skip to the next one.
			rd.lineNo++
			for {
				rd.pos, rd.end = 0, 0
				if !rd.fill() {
					return nil, true
				}
				if i := bytes.IndexByte(rd.buf[:rd.end], '\n'); i >= 0 {
					rd.pos = i + 1
					return nil, true
				}
			}
		}
		if !rd.fill() {
			if rd.pos < rd.end && rd.rerr == nil {
				// The last line has no newline.
				l := rd.buf[rd.pos:rd.end]
				rd.pos = rd.end
				rd.lineNo++
				return l, true
			}
			// A line cut by a read error is not a record.
			return nil, false
		}
	}
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
	if !rd.started {
		if err := rd.start(); err != nil {
			rd.err = err
			return false
		}
	}
	for {
		l, ok := rd.line()
		if !ok {
			if ce, ok := rd.rerr.(*CorruptError); ok {
				ce.Line = rd.lineNo + 1 // the line that was cut
			}
			rd.err = rd.rerr
			return false
		}
		if l == nil {
			rd.bad(LineError{Line: rd.lineNo, Reason: fmt.Sprintf("line longer than %d bytes", len(rd.buf))})
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
			rd.bad(LineError{Line: rd.lineNo, Reason: err.Error()})
			continue
		}
		return true
	}
}

// setHeader makes header line l the format of the lines that follow.
func (rd *Reader) setHeader(l []byte) bool {
	f, err := ParseHeader(string(l))
	if err != nil {
		rd.err = fmt.Errorf("%s: header in line %d: %w", rd.name, rd.lineNo, err)
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
func (rd *Reader) Lines() int64 { return rd.lineNo }

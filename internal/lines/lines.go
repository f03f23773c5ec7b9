// Package lines reads the lines of a log object as AWS delivers them to
// S3 (VPC flow logs, load balancer access logs, CloudFront standard logs):
// gzip-compressed, in one or more members, or plain text, told apart by
// the gzip magic bytes. Memory is bounded by its buffers, whatever the
// object's size; a line longer than the text buffer is reported, skipped,
// and reading goes on with the next one. A gzip stream that is corrupt or
// truncated ends the object with a *CorruptError saying where, after the
// lines before the damage.
//
//	rd := lines.NewReader(body, key)
//	for {
//		l, ok := rd.Next() // l is valid until the next call
//		if !ok {
//			break
//		}
//		if l == nil {
//			// longer than rd.MaxLine(): skipped
//		}
//	}
//	if err := rd.Err(); err != nil { ... }
package lines

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/inflate"
)

// Buffer sizes: the compressed input and the decompressed text are read in
// large blocks. A line longer than the text buffer is skipped.
const (
	inputBufferSize = 256 << 10
	// TextBufferSize is the text buffer, and so the longest line read.
	TextBufferSize = 512 << 10
)

// maxKeptText is the most decompressed text a Reader keeps between objects
// (ResetBytes).
const maxKeptText = 64 << 20

// ErrCorrupt is what a *CorruptError unwraps to: the compressed stream is
// corrupt or truncated. Reading the object again does not help.
var ErrCorrupt = errors.New("corrupt compressed data")

// CorruptError says where a compressed object went bad: the byte offset in
// the compressed input at which decompression failed, and how much text it
// had produced. The lines before Line were delivered; the incomplete line
// that was cut is not. gzip checks a member's CRC only at its end, so lines
// decoded from a corrupt member before the fault was detected may hold
// wrong bytes: an object with a CorruptError must not be taken as fully
// read.
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

// Reader reads the lines of one object. Reset and ResetBytes make it read
// another, keeping its buffers and decompressor, so that reading many
// objects allocates per object, not per line. The zero value is not
// usable: use NewReader.
type Reader struct {
	name string

	src     *countingReader
	in      *bufio.Reader
	gz      *gzip.Reader
	text    io.Reader // in, gz, or whole
	started bool

	// body is the object when the Reader was given it whole (ResetBytes),
	// bodyRd reads it; a gzip body is then decompressed at once into
	// inflated, which whole reads (package inflate).
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
	err    error
}

// NewReader returns a Reader of the object src, called name in errors.
func NewReader(src io.Reader, name string) *Reader {
	cr := &countingReader{r: src}
	return &Reader{
		name: name,
		src:  cr,
		in:   bufio.NewReaderSize(cr, inputBufferSize),
		buf:  make([]byte, TextBufferSize),
	}
}

// Reset makes the Reader read src, keeping its buffers and decompressor.
func (rd *Reader) Reset(src io.Reader, name string) {
	rd.src.r, rd.src.n = src, 0
	rd.in.Reset(rd.src)
	inflated := rd.inflated[:0]
	if cap(inflated) > maxKeptText {
		inflated = nil
	}
	*rd = Reader{name: name, src: rd.src, in: rd.in, gz: rd.gz, buf: rd.buf, inflated: inflated}
}

// ResetBytes is Reset for an object held whole in memory, body: built
// with libdeflate (package inflate), a gzip body of up to inflate.Limit
// bytes of text is decompressed in one call, about three times faster
// than streamed. A body it refuses (corrupt, too large) is streamed as
// Reset does, which keeps the lines before a corruption.
func (rd *Reader) ResetBytes(body []byte, name string) {
	rd.Reset(&rd.bodyRd, name) // zeroes bodyRd: reset it after
	rd.bodyRd.Reset(body)
	rd.body = body
}

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
				if rd.gz != nil && rd.text == io.Reader(rd.gz) {
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
			// A line cut by a read error is not a line.
			return nil, false
		}
	}
}

// Next returns the next line, without its newline, and true; at the end of
// the object, or when it cannot be read further, nil and false (see Err).
// A line longer than MaxLine comes back as nil and true: it was skipped,
// LineNo is its number. The line is valid until the next call.
func (rd *Reader) Next() ([]byte, bool) {
	if rd.err != nil {
		return nil, false
	}
	if !rd.started {
		if err := rd.start(); err != nil {
			rd.err = err
			return nil, false
		}
	}
	l, ok := rd.line()
	if !ok {
		if ce, ok := rd.rerr.(*CorruptError); ok {
			ce.Line = rd.lineNo + 1 // the line that was cut
		}
		rd.err = rd.rerr
		return nil, false
	}
	return l, true
}

// Err returns what stopped the Reader before the end of the object: a
// *CorruptError for a compressed object that is truncated or corrupt
// (the lines before it were delivered), or a read error of the source;
// nil at the end of a whole object.
func (rd *Reader) Err() error { return rd.err }

// LineNo returns the number of the last line Next returned (1-based), so
// far the number of lines read.
func (rd *Reader) LineNo() int64 { return rd.lineNo }

// TextBytes returns the number of bytes of text read so far (after
// decompression).
func (rd *Reader) TextBytes() int64 { return rd.readN }

// MaxLine returns the length of the longest line the Reader returns,
// without its newline.
func (rd *Reader) MaxLine() int { return len(rd.buf) - 1 }

// Inflated tells whether the object's text was decompressed whole, in one
// call to package inflate, rather than streamed.
func (rd *Reader) Inflated() bool { return rd.text == io.Reader(&rd.whole) }

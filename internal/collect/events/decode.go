package events

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeError says where a stream of events went bad: which event (counted
// from 0) at which byte offset of the uncompressed stream. The events
// before it were delivered; the caller keeps the object and reports it.
type DecodeError struct {
	Index  int
	Offset int64
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("event %d at byte %d: %v", e.Index, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ErrTruncated reports a stream that ends inside an event or a gzip member.
var ErrTruncated = errors.New("stream ends in the middle")

// Decode reads a stream of events as Firehose writes them from EventBridge:
// JSON objects concatenated with no separator (white space between them is
// accepted too), gzip-compressed or not (a gzip stream of several members
// is read whole). It calls fn for each event in order and stops at the
// first error, returning fn's error as it is, and a *DecodeError for a
// stream that is not well-formed (invalid JSON, a value that is no event,
// a truncated gzip member or object). It returns how many events fn got.
func Decode(r io.Reader, fn func(Event) error) (int, error) {
	br := bufio.NewReader(r)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, &DecodeError{Err: fmt.Errorf("gzip: %w", err)}
		}
		defer zr.Close()
		in = zr
	}
	dec := json.NewDecoder(in)
	for n := 0; ; n++ {
		at := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		switch {
		case err == io.EOF:
			return n, nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			return n, &DecodeError{Index: n, Offset: at, Err: ErrTruncated}
		case err != nil:
			return n, &DecodeError{Index: n, Offset: at, Err: err}
		}
		if len(bytes.TrimSpace(raw)) == 0 || raw[0] != '{' {
			return n, &DecodeError{Index: n, Offset: at, Err: ErrNotAnEvent}
		}
		e, err := Parse(raw)
		if err != nil {
			return n, &DecodeError{Index: n, Offset: at, Err: err}
		}
		if err := fn(e); err != nil {
			return n, err
		}
	}
}

package lines

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/inflate"
)

func gz(t *testing.T, texts ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, text := range texts { // one member each
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// read returns the lines of rd ("<long>" for one skipped), their numbers
// and the error.
func read(rd *Reader) ([]string, []int64, error) {
	var out []string
	var nos []int64
	for {
		l, ok := rd.Next()
		if !ok {
			return out, nos, rd.Err()
		}
		if l == nil {
			out = append(out, "<long>")
		} else {
			out = append(out, string(l))
		}
		nos = append(nos, rd.LineNo())
	}
}

// Plain text, gzip in several members, streamed or whole: the same lines,
// a line past the buffer skipped and numbered, the last line without a
// newline kept.
func TestReader(t *testing.T) {
	long := strings.Repeat("x", TextBufferSize+10)
	text := "a\n\nb c\n" + long + "\nd\ne"
	want := []string{"a", "", "b c", "<long>", "d", "e"}
	rd := NewReader(nil, "first")
	for _, tt := range []struct {
		name  string
		reset func()
		whole bool
	}{
		{"plain", func() { rd.Reset(strings.NewReader(text), "obj") }, false},
		{"gzip members", func() { rd.Reset(bytes.NewReader(gz(t, text[:5], text[5:])), "obj") }, false},
		{"gzip whole", func() { rd.ResetBytes(gz(t, text[:5], text[5:]), "obj") }, inflate.Available},
		{"plain whole", func() { rd.ResetBytes([]byte(text), "obj") }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.reset()
			got, nos, err := read(rd)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("lines (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]int64{1, 2, 3, 4, 5, 6}, nos); d != "" {
				t.Errorf("line numbers (-want +got):\n%s", d)
			}
			if rd.Inflated() != tt.whole {
				t.Errorf("decompressed whole: %v, want %v", rd.Inflated(), tt.whole)
			}
			if rd.TextBytes() != int64(len(text)) {
				t.Errorf("%d bytes of text, want %d", rd.TextBytes(), len(text))
			}
		})
	}
	if rd.MaxLine() != TextBufferSize-1 {
		t.Errorf("MaxLine %d", rd.MaxLine())
	}
}

// A truncated gzip object gives the lines before the cut, then a
// *CorruptError naming the object and the line that was cut; streamed or
// given whole.
func TestReaderCorrupt(t *testing.T) {
	var text strings.Builder
	for range 2000 {
		text.WriteString("line of a log object that compresses\n")
	}
	body := gz(t, text.String())
	cut := body[:len(body)/2]
	for _, whole := range []bool{false, true} {
		rd := NewReader(bytes.NewReader(cut), "s3://b/k.gz")
		if whole {
			rd.ResetBytes(cut, "s3://b/k.gz")
		}
		got, _, err := read(rd)
		var ce *CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("whole %v: error %v, want a *CorruptError", whole, err)
		}
		if len(got) == 0 || len(got) >= 2000 || ce.Line != int64(len(got))+1 || ce.Name != "s3://b/k.gz" || ce.Offset == 0 {
			t.Errorf("whole %v: %d lines, %+v", whole, len(got), ce)
		}
		if !strings.Contains(err.Error(), "s3://b/k.gz: corrupt gzip data") {
			t.Errorf("message %q", err)
		}
	}
	// Not even a header.
	rd := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 8}), "tiny")
	if _, ok := rd.Next(); ok || !errors.Is(rd.Err(), ErrCorrupt) {
		t.Errorf("a three-byte gzip object: %v", rd.Err())
	}
}

// Reading objects one after another allocates per object, not per line.
func TestReaderAllocs(t *testing.T) {
	body := gz(t, strings.Repeat("some log line of moderate length\n", 10_000))
	rd := NewReader(nil, "obj")
	src := bytes.NewReader(body)
	allocs := testing.AllocsPerRun(10, func() {
		src.Reset(body)
		rd.Reset(src, "obj")
		n := 0
		for {
			if _, ok := rd.Next(); !ok {
				break
			}
			n++
		}
		if n != 10_000 || rd.Err() != nil {
			t.Fatal(n, rd.Err())
		}
	})
	if allocs > 10 {
		t.Errorf("%v allocations per object of 10,000 lines", allocs)
	}
}

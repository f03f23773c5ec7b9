package flowlogs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/inflate"
	"github.com/skymap/skymap/internal/lines"
)

func gz(t testing.TB, texts ...string) []byte {
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

// readAll reads every record of data and returns them as lines of their
// format (AppendLine), with the reader for its counts.
func readAll(t testing.TB, data []byte, fallback *Format) ([]string, *Reader) {
	t.Helper()
	rd := NewReader(bytes.NewReader(data), "obj", fallback)
	var out []string
	for rd.Next() {
		out = append(out, string(rd.Record().AppendLine(nil)))
	}
	return out, rd
}

const (
	hdr  = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	rec1 = "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1700000000 1700000060 ACCEPT OK"
	rec2 = "2 123456789012 eni-1 10.0.0.2 10.0.0.1 443 40000 6 8 5000 1700000000 1700000060 ACCEPT OK"
	rec3 = "2 123456789012 eni-2 - - - - - - - 1700000000 1700000060 - NODATA"
)

func TestReader(t *testing.T) {
	custom := "srcaddr dstaddr bytes action\n"
	tests := []struct {
		name      string
		data      []byte
		fallback  *Format
		want      []string
		format    string
		malformed []LineError
	}{
		{name: "plain with header", data: []byte(hdr + rec1 + "\n" + rec2 + "\n" + rec3 + "\n"), want: []string{rec1, rec2, rec3}},
		{name: "gzip with header", data: gz(t, hdr+rec1+"\n"+rec2+"\n"), want: []string{rec1, rec2}},
		{name: "no header: default format", data: []byte(rec1 + "\n"), want: []string{rec1}},
		{name: "no trailing newline", data: gz(t, hdr+rec1+"\n"+rec2), want: []string{rec1, rec2}},
		{name: "CRLF and blank lines", data: []byte(strings.ReplaceAll(hdr+"\n"+rec1+"\n\n  \n"+rec2+"\n", "\n", "\r\n")), want: []string{rec1, rec2}},
		{
			name: "custom header", data: []byte(custom + "10.0.0.1 10.0.0.2 99 REJECT\n"),
			want: []string{"10.0.0.1 10.0.0.2 99 REJECT"}, format: "srcaddr dstaddr bytes action",
		},
		{
			name: "no header: the LogFormat given", data: []byte("10.0.0.1 10.0.0.2 99 REJECT\n"),
			fallback: mustFormat(ParseLogFormat("${srcaddr} ${dstaddr} ${bytes} ${action}")),
			want:     []string{"10.0.0.1 10.0.0.2 99 REJECT"}, format: "srcaddr dstaddr bytes action",
		},
		{
			name: "the header wins over the LogFormat", data: []byte(hdr + rec1 + "\n"),
			fallback: mustFormat(ParseLogFormat("${srcaddr}")), want: []string{rec1},
		},
		{name: "concatenated gzip members", data: gz(t, hdr+rec1+"\n", rec2+"\n", rec3+"\n"), want: []string{rec1, rec2, rec3}},
		{name: "a member cut between lines", data: gz(t, hdr+rec1+"\n"+rec2[:20], rec2[20:]+"\n"), want: []string{rec1, rec2}},
		{name: "concatenated objects repeat the header", data: gz(t, hdr+rec1+"\n", hdr+rec2+"\n"), want: []string{rec1, rec2}},
		{
			name: "concatenated objects of other formats", data: []byte(hdr + rec1 + "\n" + custom + "10.0.0.1 10.0.0.2 99 REJECT\n"),
			want: []string{rec1, "10.0.0.1 10.0.0.2 99 REJECT"}, format: "srcaddr dstaddr bytes action",
		},
		{
			name: "malformed lines are skipped and counted",
			data: []byte(hdr + rec1 + "\n" +
				"2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10\n" +
				rec2 + "\n" +
				"2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 https 6 10 1000 1700000000 1700000060 ACCEPT OK\n" +
				rec3 + "\n"),
			want: []string{rec1, rec2, rec3},
			malformed: []LineError{
				{Line: 3, Reason: "wrong field count: 9, want 14"},
				{Line: 5, Reason: `dstport (column 7): not a number: "https"`},
			},
		},
		{name: "empty", data: nil},
		{name: "empty gzip", data: gz(t, "")},
		{name: "header only", data: gz(t, hdr), format: DefaultFormat().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rd := readAll(t, tt.data, tt.fallback)
			if err := rd.Err(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			n, errs := rd.Malformed()
			if diff := cmp.Diff(tt.malformed, errs); diff != "" || n != int64(len(tt.malformed)) {
				t.Errorf("malformed %d (-want +got):\n%s", n, diff)
			}
			if tt.format != "" && (rd.Format() == nil || rd.Format().String() != tt.format) {
				t.Errorf("format %v, want %s", rd.Format(), tt.format)
			}
		})
	}
}

// A gzip object cut short or corrupt keeps the records before the fault
// and says where it is.
func TestReaderCorruptGzip(t *testing.T) {
	var text strings.Builder
	text.WriteString(hdr)
	for i := range 3000 {
		fmt.Fprintf(&text, "2 123456789012 eni-1 10.0.%d.%d 10.0.0.2 40000 443 6 10 %d 1700000000 1700000060 ACCEPT OK\n", i/256, i%256, i)
	}
	whole := gz(t, text.String())
	second := gz(t, rec1+"\n")
	tests := []struct {
		name      string
		data      []byte
		atLeast   int // records delivered
		atMost    int
		offsetMin int64
		garbled   bool // records before the fault may be wrong: the CRC comes at the end
	}{
		{name: "truncated in the middle", data: whole[:len(whole)/2], atLeast: 1, atMost: 2999, offsetMin: int64(len(whole) / 4)},
		{name: "truncated in the trailer", data: whole[:len(whole)-4], atLeast: 3000, atMost: 3000},
		// The second member's line is whole: only its trailer is cut.
		{name: "second member truncated", data: append(append([]byte{}, whole...), second[:len(second)-6]...), atLeast: 3001, atMost: 3001, offsetMin: int64(len(whole))},
		{name: "second member cut in its data", data: append(append([]byte{}, whole...), second[:len(second)-20]...), atLeast: 3000, atMost: 3000, offsetMin: int64(len(whole))},
		{name: "garbage after a member", data: append(append([]byte{}, whole...), "this is not gzip"...), atLeast: 3000, atMost: 3000, offsetMin: int64(len(whole))},
		{name: "corrupt bytes", data: func() []byte {
			b := append([]byte{}, whole...)
			for i := len(b) / 2; i < len(b)/2+64; i++ {
				b[i] ^= 0x55
			}
			return b
		}(), atLeast: 1, atMost: 3000, garbled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rd := readAll(t, tt.data, nil)
			err := rd.Err()
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v, want a *CorruptError", err)
			}
			if len(got) < tt.atLeast || len(got) > tt.atMost {
				t.Errorf("%d records, want %d to %d", len(got), tt.atLeast, tt.atMost)
			}
			for i, l := range got { // every record delivered is whole and in order
				if tt.garbled {
					break
				}
				if want := fmt.Sprintf("2 123456789012 eni-1 10.0.%d.%d 10.0.0.2 40000 443 6 10 %d 1700000000 1700000060 ACCEPT OK", i/256, i%256, i); i < 3000 && l != want {
					t.Fatalf("record %d = %q", i, l)
				}
			}
			if n, _ := rd.Malformed(); n != 0 && !tt.garbled {
				t.Errorf("%d malformed lines: the cut line is not a malformed one", n)
			}
			if ce.Name != "obj" || ce.Offset < tt.offsetMin || ce.Offset > int64(len(tt.data)) || ce.Line < int64(len(got)) ||
				!strings.Contains(err.Error(), fmt.Sprintf("obj: corrupt gzip data at compressed byte %d", ce.Offset)) {
				t.Errorf("error %q: offset %d of %d, line %d", err, ce.Offset, len(tt.data), ce.Line)
			}
		})
	}
}

func TestReaderLongLine(t *testing.T) {
	long := strings.Repeat("x", lines.TextBufferSize+10)
	data := []byte(hdr + rec1 + "\n" + long + "\n" + rec2 + "\n" + long)
	got, rd := readAll(t, data, nil)
	if diff := cmp.Diff([]string{rec1, rec2}, got); diff != "" || rd.Err() != nil {
		t.Errorf("records (-want +got):\n%s\nerr %v", diff, rd.Err())
	}
	n, errs := rd.Malformed()
	if n != 2 || errs[0].Line != 3 || errs[1].Line != 5 || !strings.Contains(errs[0].Reason, "longer than") {
		t.Errorf("malformed %d: %v", n, errs)
	}
}

func TestReaderBadHeader(t *testing.T) {
	_, rd := readAll(t, []byte("srcaddr dstaddr srcaddr\n10.0.0.1 10.0.0.2 10.0.0.3\n"), nil)
	if err := rd.Err(); !errors.Is(err, ErrBadFormat) || !strings.Contains(err.Error(), "obj: header in line 1") {
		t.Errorf("error %v, want ErrBadFormat naming the object", err)
	}
}

func TestReaderReadHeader(t *testing.T) {
	rd := NewReader(bytes.NewReader(gz(t, "srcaddr dstaddr\n10.0.0.1 10.0.0.2\n10.0.0.3 10.0.0.4\n")), "obj", nil)
	f, err := rd.ReadHeader()
	if err != nil || f.String() != "srcaddr dstaddr" {
		t.Fatalf("ReadHeader: %v, %v", f, err)
	}
	var got []string
	for rd.Next() {
		got = append(got, rd.Record().SrcAddr.String())
	}
	if !cmp.Equal(got, []string{"10.0.0.1", "10.0.0.3"}) || rd.Lines() != 3 {
		t.Errorf("records after ReadHeader: %q, %d lines", got, rd.Lines())
	}
	// Without records the fallback is the format.
	rd.Reset(strings.NewReader(""), "empty", nil)
	if f, err := rd.ReadHeader(); err != nil || f != DefaultFormat() {
		t.Errorf("empty object: %v, %v", f, err)
	}
}

// Reset reuses a reader for the next object with nothing left over.
func TestReaderReset(t *testing.T) {
	rd := NewReader(bytes.NewReader(gz(t, "srcaddr dstaddr\n10.0.0.1 10.0.0.2\nbad\n")), "a", nil)
	for rd.Next() {
	}
	rd.Reset(bytes.NewReader([]byte(rec1+"\n")), "b", nil)
	var got []string
	for rd.Next() {
		got = append(got, string(rd.Record().AppendLine(nil)))
	}
	if n, _ := rd.Malformed(); !cmp.Equal(got, []string{rec1}) || n != 0 || rd.Err() != nil || rd.Lines() != 1 {
		t.Errorf("after Reset: %q, %d malformed, %v", got, n, rd.Err())
	}
}

type failingReader struct{ after []byte }

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.after) > 0 {
		n := copy(p, f.after)
		f.after = f.after[n:]
		return n, nil
	}
	return 0, io.ErrClosedPipe
}

func TestReaderSourceError(t *testing.T) {
	_, rd := readAll(t, nil, nil)
	rd.Reset(&failingReader{after: []byte(hdr + rec1 + "\n" + rec2[:10])}, "obj", nil)
	var n int
	for rd.Next() {
		n++
	}
	if err := rd.Err(); n != 1 || !errors.Is(err, io.ErrClosedPipe) || !strings.Contains(err.Error(), "read obj") {
		t.Errorf("%d records, error %v", n, err)
	}
}

// The object StackState's agent test suite recorded from a real account.
func TestReaderRecordedObject(t *testing.T) {
	raw, err := os.ReadFile("testdata/stackstate/get_object_e3f0ea6.json")
	if err != nil {
		t.Fatal(err)
	}
	var obj struct{ Body string }
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{[]byte(obj.Body), gz(t, obj.Body)} {
		rd := NewReader(bytes.NewReader(data), "recorded", nil)
		var n int
		for rd.Next() {
			n++
			r := rd.Record()
			want := Record{Version: 2, SrcAddr: addr("10.16.133.15"), DstAddr: addr("10.16.5.72"), SrcPort: 5432, DstPort: 60428,
				Protocol: 6, Packets: 1, Bytes: 52, Start: 1624348073, End: 1624348074, Action: ActionAccept, LogStatus: LogStatusOK}
			if diff := cmp.Diff(want, *r, recordOpts); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			if got := string(r.Text(FieldInterfaceID)); got != "eni-04be3f7132dd24e01" {
				t.Errorf("interface-id %q", got)
			}
		}
		if n != 1 || rd.Err() != nil || rd.Format().String() != DefaultFormat().String() {
			t.Errorf("%d records, %v, format %v", n, rd.Err(), rd.Format())
		}
		if err := rd.Format().CheckAttribution(); err != nil {
			t.Error(err)
		}
	}
}

// Reading a gzip object allocates per object, not per record.
func TestReaderAllocs(t *testing.T) {
	var text strings.Builder
	text.WriteString(hdr)
	for range 5000 {
		text.WriteString(rec1 + "\n" + rec3 + "\n")
	}
	data := gz(t, text.String())
	rd := NewReader(bytes.NewReader(data), "obj", nil)
	src := bytes.NewReader(data)
	allocs := testing.AllocsPerRun(10, func() {
		src.Reset(data)
		rd.Reset(src, "obj", nil)
		n := 0
		for rd.Next() {
			n++
		}
		if n != 10000 || rd.Err() != nil {
			t.Fatal(n, rd.Err())
		}
	})
	if allocs > 20 {
		t.Errorf("%v allocations per object of 10,000 records", allocs)
	}
}

// ResetBytes reads the same records as a stream: a gzip body of several
// members through libdeflate when built with it, a corrupt one streamed
// up to the damage, a plain one as it is.
func TestResetBytes(t *testing.T) {
	lines := []string{
		defaultNames,
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK",
		"2 123456789012 eni-2 10.0.0.3 10.0.0.4 40001 22 6 1 60 1795341600 1795341660 REJECT OK",
	}
	text := strings.Join(lines, "\n") + "\n"
	whole := gz(t, text, text[len(lines[0])+1:])
	corrupt := bytes.Clone(whole)
	corrupt = append(corrupt[:len(corrupt)-12], "damaged trailer"...)
	for _, tt := range []struct {
		name     string
		body     []byte
		inflated bool // read through libdeflate when built with it
	}{
		{"gzip members", whole, true},
		{"corrupt gzip", corrupt, false},
		{"plain", []byte(text), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want, wantRd := readAll(t, tt.body, nil)
			rd := NewReader(nil, "first", nil)
			rd.ResetBytes(tt.body, "obj", nil)
			var got []string
			for rd.Next() {
				got = append(got, string(rd.Record().AppendLine(nil)))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("records (-stream +whole):\n%s", diff)
			}
			if (rd.Err() == nil) != (wantRd.Err() == nil) || (rd.Err() != nil && rd.Err().Error() != wantRd.Err().Error()) {
				t.Errorf("error %v, streamed %v", rd.Err(), wantRd.Err())
			}
			if used := rd.lines.Inflated(); used != (tt.inflated && inflate.Available) {
				t.Errorf("decompressed whole: %v, built with libdeflate: %v", used, inflate.Available)
			}
		})
	}
}

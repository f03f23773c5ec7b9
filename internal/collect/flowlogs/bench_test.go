package flowlogs

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/skymap/skymap/internal/collect/flowlogs/flowlogstest"
	"github.com/skymap/skymap/internal/lines"
)

// benchCorpus returns 100,000 generated default-format records as text.
func benchCorpus(b testing.TB) []byte {
	var buf bytes.Buffer
	if err := flowlogstest.NewEstate(1, 3000).Write(&buf, 7, 100_000, 1767225600); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkParseLine parses default-format lines into one reused Record:
// the parse hot path. It must report 0 allocs/op.
func BenchmarkParseLine(b *testing.B) {
	text := benchCorpus(b)
	lines := bytes.Split(bytes.TrimSpace(text), []byte("\n"))[1:]
	f := DefaultFormat()
	var r Record
	b.ReportAllocs()
	b.SetBytes(int64(len(text)) / int64(len(lines)))
	b.ResetTimer()
	for i := range b.N {
		if err := f.ParseLine(lines[i%len(lines)], &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReaderGzip reads 100,000 records from a gzip object in memory.
func BenchmarkReaderGzip(b *testing.B) {
	text := benchCorpus(b)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(text)
	zw.Close()
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	var rd *Reader
	for range b.N {
		if rd == nil {
			rd = NewReader(bytes.NewReader(z.Bytes()), "bench", nil)
		} else {
			rd.Reset(bytes.NewReader(z.Bytes()), "bench", nil)
		}
		n := 0
		for rd.Next() {
			n++
		}
		if rd.Err() != nil || n != 100_000 {
			b.Fatal(n, rd.Err())
		}
	}
}

// BenchmarkGunzip is the decompression alone, for comparison.
func BenchmarkGunzip(b *testing.B) {
	text := benchCorpus(b)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(text)
	zw.Close()
	b.SetBytes(int64(len(text)))
	buf := make([]byte, lines.TextBufferSize)
	b.ResetTimer()
	for range b.N {
		zr, _ := gzip.NewReader(bufio.NewReaderSize(bytes.NewReader(z.Bytes()), 256<<10))
		for {
			_, err := zr.Read(buf)
			if err == io.EOF {
				break
			}
		}
	}
}

// BenchmarkTally adds parsed records to a summary's groups.
func BenchmarkTally(b *testing.B) {
	text := benchCorpus(b)
	lines := bytes.Split(bytes.TrimSpace(text), []byte("\n"))[1:]
	recs := make([]Record, len(lines))
	for i, l := range lines {
		if err := DefaultFormat().ParseLine(l, &recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	t := newTally()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t.add(&recs[i%len(recs)])
	}
}

// BenchmarkSummarizeTail merges two workers' tallies of 1,000,000 records
// each into a sorted summary: the serial end of Summarize.
func BenchmarkSummarizeTail(b *testing.B) {
	estate := flowlogstest.NewEstate(1, 3000)
	tallies := []*tally{newTally(), newTally()}
	var r Record
	for w, t := range tallies {
		var buf bytes.Buffer
		estate.Write(&buf, uint64(w), 1_000_000, 1767225600)
		rd := NewReader(&buf, "bench", nil)
		for rd.Next() {
			t.add(rd.Record())
		}
		_ = r
	}
	b.ResetTimer()
	for range b.N {
		s := summarize(tallies)
		b.ReportMetric(float64(len(s.Groups)), "groups")
	}
}

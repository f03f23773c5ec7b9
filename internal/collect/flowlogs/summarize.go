package flowlogs

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/skymap/skymap/internal/inflate"
)

// Summary totals the records of flow-log objects and groups their traffic
// by (interface-id, srcaddr, dstaddr, dstport, protocol, action).
type Summary struct {
	Records   int64 // records read (every log status)
	OK        int64 // records with log-status OK, or without a log-status field
	NoData    int64 // NODATA records: no traffic in the capture window
	SkipData  int64 // SKIPDATA records: records were lost in the capture window
	Malformed int64 // lines skipped as malformed
	Groups    []Group
}

// Group is the traffic of the OK records sharing one key. Records without
// traffic (NODATA, SKIPDATA) are in no group.
type Group struct {
	InterfaceID string     // "" when missing
	SrcAddr     netip.Addr // invalid when missing
	DstAddr     netip.Addr // invalid when missing
	DstPort     int32      // -1 when missing
	Protocol    int16      // -1 when missing
	Action      Action     // ActionNone when missing
	Packets     uint64
	Bytes       uint64
	Records     uint64
}

// FileResult is what Summarize made of one file.
type FileResult struct {
	Path       string
	Records    int64       // records counted
	Malformed  int64       // lines skipped
	LineErrors []LineError // the first 100 malformed lines
	// Err: the file could not be opened or read, is corrupt (a
	// *CorruptError: the records before the fault are counted), has a
	// header that is no format, or lacks fields needed for attribution
	// (a *MissingFieldsError: none of its records are counted).
	Err error
}

// Failed reports whether the file had any problem.
func (f FileResult) Failed() bool { return f.Err != nil || f.Malformed > 0 }

// SummarizeOptions tune Summarize. The zero value is usable.
type SummarizeOptions struct {
	// Workers is how many files are read at once; 0 means GOMAXPROCS.
	Workers int
	// Format is the format of files without a header line; nil means the
	// default version 2 format.
	Format *Format
}

// Summarize reads the flow-log files at paths (gzip or plain text, or
// Parquet), several at a time, and totals them. It returns the summary,
// with groups sorted by bytes (largest first) then by key, and one result
// per path in the order given. A problem with one file does not stop the
// others; the records read before it count. It stops early when ctx is
// cancelled, and says so in the results of the files it did not finish.
func Summarize(ctx context.Context, paths []string, opts SummarizeOptions) (Summary, []FileResult) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(len(paths), 1))
	results := make([]FileResult, len(paths))
	tallies := make([]*tally, workers)
	next := make(chan int)
	var wg sync.WaitGroup
	groups := expectedGroups(paths, workers)
	for w := range workers {
		t := newTallyFor(groups)
		tallies[w] = t
		wg.Go(func() {
			var rd *Reader
			for i := range next {
				rd = t.file(ctx, paths[i], opts.Format, rd, &results[i])
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	return summarize(tallies), results
}

// expectedGroups guesses how many groups each of workers tallies will
// hold, from the files' sizes: at most one per record, and a gzip record
// of the default format takes about 32 bytes. The guess is bounded, so a
// wrong one costs one growth more or a few MiB unused.
func expectedGroups(paths []string, workers int) int {
	var size int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			size += fi.Size()
		}
	}
	return int(min(max(size/int64(workers)/32, 1<<12), 1<<17))
}

// records is what reads the records of one object: a Reader (text) or a
// ParquetReader.
type records interface {
	Next() bool
	Record() *Record
	Err() error
	Malformed() (int64, []LineError)
}

// maxWholeFile is the largest gzip file read whole.
const maxWholeFile = 32 << 20

// file reads one file into t, reusing rd when not nil, and returns the
// reader for the next file. Parquet files are told by their magic bytes.
func (t *tally) file(ctx context.Context, path string, fallback *Format, rd *Reader, res *FileResult) *Reader {
	res.Path = path
	if err := ctx.Err(); err != nil {
		res.Err = err
		return rd
	}
	f, err := os.Open(path)
	if err != nil {
		res.Err = err
		return rd
	}
	defer f.Close()
	var recs records
	var format *Format
	head := make([]byte, 4)
	if readFull(f, head) && IsParquet(head) {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			var p *ParquetReader
			if p, err = NewParquetReader(f, st.Size(), path); err == nil {
				recs, format = p, p.Format()
			}
		}
	} else if _, err = f.Seek(0, io.SeekStart); err == nil {
		if rd == nil {
			rd = NewReader(nil, path, fallback)
		}
		// A gzip file is decompressed whole when that is faster (see
		// Reader.ResetBytes), else streamed.
		whole := false
		if inflate.Available && head[0] == 0x1f && head[1] == 0x8b {
			var st os.FileInfo
			if st, err = f.Stat(); err == nil && st.Size() <= maxWholeFile {
				t.body = slices.Grow(t.body[:0], int(st.Size()))[:st.Size()]
				if _, err = io.ReadFull(f, t.body); err == nil {
					rd.ResetBytes(t.body, path, fallback)
					whole = true
				}
			}
		}
		if err == nil && !whole {
			rd.Reset(f, path, fallback)
		}
		if err == nil {
			recs = rd
			format, err = rd.ReadHeader()
		}
	}
	if err == nil && format != nil {
		if err = format.CheckAttribution(); err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
	}
	if err != nil {
		res.Err = err
		if recs != nil {
			res.Malformed, res.LineErrors = recs.Malformed()
			t.malformed += res.Malformed
		}
		return rd
	}
	var n int64
	for recs.Next() {
		t.add(recs.Record())
		n++
		if n&(1<<16-1) == 0 && ctx.Err() != nil {
			res.Err = fmt.Errorf("%s: %w", path, ctx.Err())
			break
		}
	}
	res.Records = n
	if res.Err == nil {
		res.Err = recs.Err()
	}
	res.Malformed, res.LineErrors = recs.Malformed()
	t.malformed += res.Malformed
	return rd
}

// readFull reads len(b) bytes from f, reporting whether it could.
func readFull(f io.Reader, b []byte) bool {
	_, err := io.ReadFull(f, b)
	return err == nil
}

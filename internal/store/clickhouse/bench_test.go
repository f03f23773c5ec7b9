package clickhouse

import (
	"testing"
	"time"

	"github.com/skymap/skymap/internal/collect/flowlogs/flowlogstest"
	"github.com/skymap/skymap/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// BenchmarkCommitRecords: storetest.BenchmarkCommitRecords, parsing and
// inserting raw records; set beside flowdb's of that name.
func BenchmarkCommitRecords(b *testing.B) {
	storetest.BenchmarkCommitRecords(b, open(b))
}

// BenchmarkCommitFlowObject commits objects of 10,000 rollups each, as
// flowdb's benchmark of that name; the figure is rollups/s.
func BenchmarkCommitFlowObject(b *testing.B) {
	storetest.BenchmarkCommitRollups(b, open(b), flowlogstest.Header, nil)
}

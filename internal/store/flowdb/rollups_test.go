package flowdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// files lists the regular files under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func TestRollupsViewTypes(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	q := `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'flow_rollups' ORDER BY ordinal_position`
	empty := mustSQL(t, d, q).Rows
	var want [][]any
	for _, c := range rollupColumns {
		want = append(want, []any{c.name, c.typ})
	}
	if diff := cmp.Diff(want, empty); diff != "" {
		t.Errorf("empty view (-want +got):\n%s", diff)
	}
	o := textObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(at(rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10), 3), rollup("urn:host:/203.0.113.9", "db", 5432, model.FlowClient, false, 5, 1))
	if err := d.CommitFlowObject(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, mustSQL(t, d, q).Rows); diff != "" {
		t.Errorf("view over files (-want +got):\n%s", diff)
	}
	// Sorted by minute; every column as the table held it.
	got := mustSQL(t, d, `SELECT * FROM flow_rollups`).Rows
	wantRows := [][]any{
		{"2026-11-22T10:00:00Z", "123456789012", "eu-west-1", "eni-urn:host:/203.0.113.9", "client", "urn:host:/203.0.113.9", "db",
			"203.0.113.9", "2001:db8::5", uint16(5432), uint8(6), "REJECT", uint64(5), uint64(2), uint64(0), uint64(0), uint64(1),
			"00000000000000000000ffffcb007109", "20010db8000000000000000000000005"},
		{"2026-11-22T10:03:00Z", "123456789012", "eu-west-1", "eni-i-b", "server", "i-a", "i-b",
			"10.0.0.1", "10.0.0.2", uint16(443), uint8(6), "ACCEPT", uint64(1000), uint64(500), uint64(100), uint64(50), uint64(10),
			"00000000000000000000ffff0a000001", "00000000000000000000ffff0a000002"},
	}
	if diff := cmp.Diff(wantRows, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func at(r model.FlowRollup, minutes int) model.FlowRollup {
	r.Minute = t0.Add(time.Duration(minutes) * time.Minute)
	return r
}

// The traffic queries' filters reach the Parquet scan, where DuckDB skips
// files (row groups) by their min/max statistics.
func TestMinuteFilterPushedDown(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	ctx := context.Background()
	for h := range 3 {
		o := textObject(t, fmt.Sprintf("k%d", h))
		o.Start, o.End = t0.Add(time.Duration(h)*time.Hour), t0.Add(time.Duration(h)*time.Hour+time.Minute)
		o.Rollups = model.NewFlowRollups(at(rollup("i-a", "i-b", 443, model.FlowServer, true, uint64(h+1), 1), 60*h))
		if err := d.CommitFlowObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	q := store.FlowQuery{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)}
	from, args, err := deduped(q)
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	rows, err := d.db.QueryContext(ctx, `EXPLAIN SELECT sum(bytes_to_server) FROM `+from+` AS f`, args...)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(v)
	}
	rows.Close()
	p := plan.String()
	scan := strings.Index(p, "READ_PARQUET")
	if scan < 0 || !strings.Contains(p[scan:], "Filters:") || !strings.Contains(p[scan:], "minute>=") {
		t.Errorf("minute filters not in the Parquet scan:\n%s", p)
	}
	pts, err := d.FlowTraffic(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1 || pts[0].BytesOut != 2 {
		t.Errorf("points %+v", pts)
	}
}

// A commit whose catalog insert fails leaves no files and no rollups.
func TestCommitFailureRemovesFiles(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var fail sync.Once
	d := open(t, dir, Options{Now: func() time.Time {
		fail.Do(cancel) // the insert is the first to ask the time
		return t0
	}})
	o := textObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	if err := d.CommitFlowObject(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("commit: %v, want canceled", err)
	}
	if got := files(t, filepath.Join(dir, "raw")); len(got) != 0 {
		t.Errorf("files left: %v", got)
	}
	if got := mustSQL(t, d, `SELECT (SELECT count(*) FROM flow_rollups), (SELECT count(*) FROM flow_objects)`).Rows; got[0][0] != int64(0) || got[0][1] != int64(0) {
		t.Errorf("after a failed commit: %v", got)
	}
	if err := d.CommitFlowObject(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := mustSQL(t, d, `SELECT sum(bytes_to_server) FROM flow_rollups`).Rows; got[0][0] == nil {
		t.Errorf("after a second commit: %v", got)
	}
}

// Concurrent commits of one object store it once, and leave only its files.
func TestConcurrentCommitsOfOneObject(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, Options{})
	ctx := context.Background()
	o := textObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := d.CommitFlowObject(ctx, o); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := mustSQL(t, d, `SELECT (SELECT count(*) FROM vpc_flow_logs), (SELECT sum(bytes_to_server) FROM flow_rollups), (SELECT count(*) FROM flow_objects)`).Rows
	if diff := cmp.Diff([][]any{{float64(1), float64(1000), float64(1)}}, toFloat(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := files(t, filepath.Join(dir, "raw")); len(got) != 2 {
		t.Errorf("files %v", got)
	}
}

// Files a crash left (renamed but not cataloged, or half written) are
// removed at open; cataloged ones stay.
func TestLeftoversRemovedAtOpen(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := textObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	if err := d.CommitFlowObject(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	kept := files(t, filepath.Join(dir, "raw"))
	d.Close()
	stray := o
	stray.Key = "crashed"
	for _, p := range []string{rollupsPath(stray), rawPath(stray, defaultHeader), filepath.Join("rollups", "2026", "12", "01", "00", "r-x.parquet")} {
		abs := filepath.Join(dir, "raw", p)
		os.MkdirAll(filepath.Dir(abs), 0o700)
		if err := os.WriteFile(abs, []byte("PAR1 junk PAR1"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "flows.tmp", "rollups-123"), []byte("half"), 0o600)
	d = open(t, dir, Options{})
	if diff := cmp.Diff(kept, files(t, filepath.Join(dir, "raw"))); diff != "" {
		t.Errorf("files after open (-want +got):\n%s", diff)
	}
	if got := files(t, filepath.Join(dir, "flows.tmp")); len(got) != 0 {
		t.Errorf("flows.tmp: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "raw", "rollups", "2026", "12")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty directories stay: %v", err)
	}
	got := mustSQL(t, d, `SELECT (SELECT count(*) FROM vpc_flow_logs), (SELECT sum(bytes_to_server) FROM flow_rollups)`).Rows
	if diff := cmp.Diff([][]any{{float64(1), float64(1000)}}, toFloat(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A database written when flow_rollups was a table is migrated at open:
// its rows move to a rollups file, pruned as a whole.
func TestMigrateRollupsTable(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("duckdb", filepath.Join(dir, "flows.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`CREATE TABLE flow_rollups (minute TIMESTAMP NOT NULL, account VARCHAR NOT NULL, region VARCHAR NOT NULL, interface_id VARCHAR NOT NULL,
			reporter VARCHAR NOT NULL, client VARCHAR NOT NULL, server VARCHAR NOT NULL, client_addr VARCHAR NOT NULL, server_addr VARCHAR NOT NULL,
			server_port USMALLINT NOT NULL, protocol UTINYINT NOT NULL, action VARCHAR NOT NULL, bytes_to_server UBIGINT NOT NULL,
			bytes_to_client UBIGINT NOT NULL, packets_to_server UBIGINT NOT NULL, packets_to_client UBIGINT NOT NULL, records UBIGINT NOT NULL,
			client_addr_key VARCHAR NOT NULL, server_addr_key VARCHAR NOT NULL)`,
		`CREATE TABLE flow_objects (bucket VARCHAR NOT NULL, key VARCHAR NOT NULL, etag VARCHAR NOT NULL, account VARCHAR NOT NULL,
			region VARCHAR NOT NULL, path VARCHAR NOT NULL, format VARCHAR NOT NULL, parquet BOOLEAN NOT NULL, start TIMESTAMP NOT NULL,
			"end" TIMESTAMP NOT NULL, records BIGINT NOT NULL, malformed BIGINT NOT NULL, committed_at TIMESTAMP NOT NULL, UNIQUE (bucket, key, etag))`,
		`INSERT INTO flow_rollups VALUES (TIMESTAMP '2026-11-22 10:00:00', '1', 'r', 'eni-b', 'server', 'i-a', 'i-b', '10.0.0.1', '10.0.0.2',
			443, 6, 'ACCEPT', 1000, 500, 100, 50, 10, 'ka', 'kb'),
			(TIMESTAMP '2026-11-22 10:05:00', '1', 'r', 'eni-b', 'server', 'i-a', 'i-b', '10.0.0.1', '10.0.0.2', 443, 6, 'ACCEPT', 7, 3, 1, 1, 1, 'ka', 'kb')`,
		`INSERT INTO flow_objects VALUES ('logs', 'old', 'e', '1', 'r', '', 'f', false, TIMESTAMP '2026-11-22 10:00:00',
			TIMESTAMP '2026-11-22 10:06:00', 2, 0, TIMESTAMP '2026-11-22 11:00:00')`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	d := open(t, dir, Options{})
	ctx := context.Background()
	got := mustSQL(t, d, `SELECT count(*), sum(bytes_to_server), min(minute), max(minute) FROM flow_rollups`).Rows
	if diff := cmp.Diff([][]any{{int64(2), float64(1007), "2026-11-22T10:00:00Z", "2026-11-22T10:05:00Z"}},
		[][]any{{got[0][0], toFloat([][]any{{got[0][1]}})[0][0], got[0][2], got[0][3]}}); diff != "" {
		t.Errorf("migrated (-want +got):\n%s", diff)
	}
	if done, _ := d.FlowObjectDone(ctx, "logs", "old", "e"); !done {
		t.Error("old object not done after migration")
	}
	o := textObject(t, "k1")
	o.Rollups = model.NewFlowRollups(at(rollup("i-a", "i-b", 443, model.FlowServer, true, 1, 1), 10))
	if err := d.CommitFlowObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := d.PruneFlows(ctx, time.Time{}, t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := mustSQL(t, d, `SELECT list(bytes_to_server) FROM flow_rollups`).Rows; !cmp.Equal([][]any{{[]any{uint64(1)}}}, got) {
		t.Errorf("after pruning the migrated rows: %v", got)
	}
}

// Pruning raw bodies only keeps the catalog rows whose rollups stay: the
// objects stay done, and their rollups are not counted twice if they come
// again.
func TestPruneRawKeepsRollups(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, Options{})
	ctx := context.Background()
	o := textObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	if err := d.CommitFlowObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := d.PruneFlows(ctx, t0.Add(time.Hour), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if done, _ := d.FlowObjectDone(ctx, "logs", "k1", "e1"); !done {
		t.Error("not done with its rollups kept")
	}
	if err := d.CommitFlowObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	got := mustSQL(t, d, `SELECT (SELECT count(*) FROM vpc_flow_logs), (SELECT sum(bytes_to_server) FROM flow_rollups)`).Rows
	if diff := cmp.Diff([][]any{{float64(0), float64(1000)}}, toFloat(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := files(t, filepath.Join(dir, "raw")); len(got) != 1 || !strings.HasPrefix(got[0], "rollups/") {
		t.Errorf("files %v", got)
	}
	if err := d.PruneFlows(ctx, t0.Add(time.Hour), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if done, _ := d.FlowObjectDone(ctx, "logs", "k1", "e1"); done {
		t.Error("done with nothing left")
	}
	if got := files(t, filepath.Join(dir, "raw")); len(got) != 0 {
		t.Errorf("files %v", got)
	}
}

package flowdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/storetest"
)

const defaultHeader = storetest.DefaultHeader

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// gz and textObject are storetest's: gzip text bodies, and default-format
// objects starting at t0.
var (
	gz         = storetest.GzipText
	textObject = storetest.TextObject
)

func open(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	d, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func mustSQL(t *testing.T, d *DB, q string) *store.SQLResult {
	t.Helper()
	res, err := d.FlowSQL(context.Background(), q, 0)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

func TestEmptyView(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	res := mustSQL(t, d, `SELECT * FROM vpc_flow_logs`)
	if len(res.Rows) != 0 || res.Truncated {
		t.Errorf("rows %v", res.Rows)
	}
	want := []string{"version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
		"packets", "bytes", "start", "end", "action", "log_status", "vpc_id"}
	if diff := cmp.Diff(want, res.Columns[:len(want)]); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	for _, c := range []string{"pkt_dst_aws_service", "flow_direction", "traffic_path", "ecs_task_arn", "reject_reason"} {
		if !strings.Contains(strings.Join(res.Columns, " "), c) {
			t.Errorf("no column %s", c)
		}
	}
}

func TestUnreadableBodiesNotArchived(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	ctx := context.Background()
	good := textObject(t, "good", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	truncated := textObject(t, "truncated", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 5 1795341600 1795341660 ACCEPT OK")
	truncated.Body = truncated.Body[:len(truncated.Body)-6]
	truncated.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 5, 1))
	empty := textObject(t, "empty")
	empty.Body = nil
	badParquet := &store.FlowObject{Bucket: "logs", Key: "p", ETag: "e", Parquet: true, Body: []byte("PAR1 not really"), Start: t0, End: t0}
	badParquet2 := &store.FlowObject{Bucket: "logs", Key: "p2", ETag: "e", Parquet: true, Body: []byte("PAR1 magic at both ends, junk between PAR1"), Start: t0, End: t0}
	otherFormat := textObject(t, "other")
	otherFormat.Format = defaultHeader + " vpc-id"
	otherFormat.Body = otherFormat.Body[:10]
	for _, o := range []*store.FlowObject{good, truncated, empty, badParquet, badParquet2, otherFormat} {
		if err := d.CommitFlowObject(ctx, o); err != nil {
			t.Fatal(err)
		}
		if done, _ := d.FlowObjectDone(ctx, o.Bucket, o.Key, o.ETag); !done {
			t.Errorf("%s not done", o.Key)
		}
	}
	res := mustSQL(t, d, `SELECT (SELECT sum(bytes) FROM vpc_flow_logs), (SELECT sum(bytes_to_server) FROM flow_rollups),
		(SELECT count(*) FROM flow_objects WHERE path = '')`)
	if diff := cmp.Diff([][]any{{float64(1000), float64(5), float64(5)}}, toFloat(res.Rows)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := d.PruneFlows(ctx, t0.Add(time.Hour), time.Time{}); err != nil {
		t.Fatal(err)
	}
}

func TestRawSQLTwoFormats(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, Options{})
	ctx := context.Background()
	a := textObject(t, "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/22/a.log.gz",
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK",
		"2 123456789012 eni-1 - - - - - - - 1795341600 1795341660 - NODATA",
		"this line is malformed",
		"2 123456789012 eni-1 10.0.0.9 10.0.0.2 40001 22 6 1 40 1795341600 1795341660 REJECT OK")
	v5 := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction pkt-dst-aws-service"
	b := &store.FlowObject{Bucket: "logs", Key: "../../etc/b.log.gz", ETag: "e2", Account: "210987654321", Region: "us-east-1",
		Body:   gz(t, v5, "5 210987654321 eni-2 10.1.0.1 52.94.0.1 50000 443 6 5 500 1795341600 1795341660 ACCEPT OK egress S3"),
		Format: v5, Start: t0.Add(2 * time.Hour), End: t0.Add(2*time.Hour + time.Minute), Records: 1}
	for _, o := range []*store.FlowObject{a, b} {
		if err := d.CommitFlowObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	res := mustSQL(t, d, `SELECT account_id, interface_id, srcaddr, dstport, bytes, action, log_status, flow_direction, pkt_dst_aws_service, "end"
		FROM vpc_flow_logs ORDER BY account_id, bytes NULLS FIRST`)
	want := [][]any{
		{"123456789012", "eni-1", nil, nil, nil, nil, "NODATA", nil, nil, int64(1795341660)},
		{"123456789012", "eni-1", "10.0.0.9", int32(22), int64(40), "REJECT", "OK", nil, nil, int64(1795341660)},
		{"123456789012", "eni-1", "10.0.0.1", int32(443), int64(1000), "ACCEPT", "OK", nil, nil, int64(1795341660)},
		{"210987654321", "eni-2", "10.1.0.1", int32(443), int64(500), "ACCEPT", "OK", "egress", "S3", int64(1795341660)},
	}
	if diff := cmp.Diff(want, res.Rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// The archive: one file per object under raw/yyyy/mm/dd/hh, named by
	// hash, never by key.
	var files []string
	filepath.WalkDir(filepath.Join(dir, "raw"), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if len(files) != 2 || !strings.HasPrefix(files[0], "raw/2026/11/22/10/t") || !strings.HasPrefix(files[1], "raw/2026/11/22/12/t") {
		t.Errorf("archived files %v", files)
	}
	for _, f := range files {
		if strings.Contains(f, "etc") || strings.Contains(f, "..") {
			t.Errorf("file name %s from the key", f)
		}
	}
}

func TestCommitIdempotentAndRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := textObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	// Done before and after a commit, and commits twice: storetest's
	// CommitOnce. Here: the catalog, and what a restart keeps.
	for range 2 {
		if err := d.CommitFlowObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	check := func(d *DB) {
		t.Helper()
		res := mustSQL(t, d, `SELECT (SELECT count(*) FROM vpc_flow_logs), (SELECT sum(bytes_to_server) FROM flow_rollups), (SELECT count(*) FROM flow_objects)`)
		if diff := cmp.Diff([][]any{{int64(1), int64(1000), int64(1)}}, res.Rows); diff != "" {
			t.Errorf("after two commits (-want +got):\n%s", diff)
		}
	}
	check(d)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := open(t, dir, Options{})
	check(d2)
	if done, _ := d2.FlowObjectDone(ctx, "logs", "k1", "e1"); !done {
		t.Error("not done after restart")
	}
	if err := d2.CommitFlowObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	check(d2)
}

func TestOpenLocked(t *testing.T) {
	if dir := os.Getenv("FLOWDB_OPEN_DIR"); dir != "" {
		// The child process of the test below.
		_, err := Open(dir, Options{})
		fmt.Printf("locked=%v err=%v\n", errors.Is(err, store.ErrLocked), err)
		return
	}
	dir := t.TempDir()
	d := open(t, dir, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second open in the process: %v, want ErrLocked", err)
	}
	mustSQL(t, d, `SELECT count(*) FROM vpc_flow_logs`) // the first stays usable
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenLocked$")
	cmd.Env = append(os.Environ(), "FLOWDB_OPEN_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "locked=true") {
		t.Errorf("open from another process: %v\n%s", err, out)
	}
}

func TestComponentsTable(t *testing.T) {
	now := t0
	calls := 0
	var mu sync.Mutex
	comps := []model.Component{{ID: "i-a", Type: "aws.ec2.instance", Name: "web", Account: "123456789012", Region: "eu-west-1",
		Labels: []string{"env:prod"}, Identifiers: []string{"arn:aws:ec2:eu-west-1:123456789012:instance/i-a"}, Data: map[string]any{"InstanceType": "t3.micro"}}}
	d := open(t, t.TempDir(), Options{
		Components: func(context.Context) ([]model.Component, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return comps, nil
		},
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	})
	res := mustSQL(t, d, `SELECT id, name, labels, identifiers[1], data->>'InstanceType' FROM components`)
	want := [][]any{{"i-a", "web", []any{"env:prod"}, "arn:aws:ec2:eu-west-1:123456789012:instance/i-a", "t3.micro"}}
	if diff := cmp.Diff(want, res.Rows); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
	mu.Lock()
	comps = append(comps, model.Component{ID: "i-b"})
	mu.Unlock()
	mustSQL(t, d, `SELECT 1`)
	if calls != 1 {
		t.Errorf("%d loads within the max age", calls)
	}
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	res = mustSQL(t, d, `SELECT count(*) FROM components`)
	if calls != 2 || res.Rows[0][0] != int64(2) {
		t.Errorf("%d loads, %v components after the max age", calls, res.Rows)
	}
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, Options{})
	ctx := context.Background()
	old := textObject(t, "old", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	old.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	v3 := defaultHeader + " vpc-id"
	recent := &store.FlowObject{Bucket: "logs", Key: "new", ETag: "e", Body: gz(t, v3,
		"3 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 7 1795345200 1795345260 ACCEPT OK vpc-1"),
		Format: v3, Start: t0.Add(time.Hour), End: t0.Add(time.Hour + time.Minute)}
	r := rollup("i-a", "i-b", 443, model.FlowServer, true, 7, 1)
	r.Minute = t0.Add(time.Hour)
	recent.Rollups = model.NewFlowRollups(r)
	for _, o := range []*store.FlowObject{old, recent} {
		if err := d.CommitFlowObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.PruneFlows(ctx, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := mustSQL(t, d, `SELECT (SELECT count(*) FROM vpc_flow_logs), (SELECT count(*) FROM flow_rollups)`).Rows; got[0][0] != int64(2) || got[0][1] != int64(2) {
		t.Errorf("zero times pruned: %v", got)
	}
	if err := d.PruneFlows(ctx, t0.Add(30*time.Minute), t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got := mustSQL(t, d, `SELECT (SELECT list(bytes) FROM vpc_flow_logs), (SELECT list(bytes_to_server) FROM flow_rollups), (SELECT list(key) FROM flow_objects)`).Rows
	if diff := cmp.Diff([][]any{{[]any{int64(7)}, []any{uint64(7)}, []any{"new"}}}, got); diff != "" {
		t.Errorf("after prune (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "raw", "2026", "11", "22", "10")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old hour's directory stays: %v", err)
	}
	if done, _ := d.FlowObjectDone(ctx, "logs", "old", "e1"); done {
		t.Error("pruned object still done")
	}
	// Prune everything: the view still answers, with no rows.
	if err := d.PruneFlows(ctx, t0.Add(24*time.Hour), t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := mustSQL(t, d, `SELECT count(*) FROM vpc_flow_logs`).Rows; got[0][0] != int64(0) {
		t.Errorf("after pruning all: %v", got)
	}
}

func TestConcurrentCommitAndQuery(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 20 {
			o := textObject(t, fmt.Sprintf("k%d", i), "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1 1795341600 1795341660 ACCEPT OK")
			if i%2 == 1 { // a second format now and then
				h := defaultHeader + " flow-direction"
				o.Format, o.Body = h, gz(t, h, "5 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1 1795341600 1795341660 ACCEPT OK ingress")
			}
			o.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 1, 1))
			if err := d.CommitFlowObject(ctx, o); err != nil {
				errs <- err
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 20 {
			if _, err := d.FlowSQL(ctx, `SELECT count(*), sum(bytes) FROM vpc_flow_logs`, 1); err != nil {
				errs <- err
			}
			if _, err := d.FlowConversations(ctx, store.FlowQuery{}); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := mustSQL(t, d, `SELECT (SELECT sum(bytes) FROM vpc_flow_logs), (SELECT sum(records) FROM flow_rollups)`).Rows
	if diff := cmp.Diff([][]any{{float64(20), float64(20)}}, toFloat(got)); diff != "" {
		t.Errorf("after concurrent commits (-want +got):\n%s", diff)
	}
}

func toFloat(rows [][]any) [][]any {
	for _, r := range rows {
		for i, v := range r {
			r[i] = float64(0)
			switch x := v.(type) {
			case int64:
				r[i] = float64(x)
			case uint64:
				r[i] = float64(x)
			case float64:
				r[i] = x
			}
		}
	}
	return rows
}

// A database a newer skymap wrote is refused with both versions named; an
// up-to-date one opens again.
func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, Options{})
	var v int
	if err := d.db.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("schema_version = %d, %v; want %d", v, err, schemaVersion)
	}
	if _, err := d.db.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "schema version 99, this skymap knows up to 1") {
		t.Errorf("Open of a newer schema: %v, want ErrNewerSchema naming 99 and 1", err)
	}
}

package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/clickhouse/chtest"
	"github.com/skymap/skymap/internal/store/storetest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

func open(t testing.TB) *DB {
	t.Helper()
	u, db := chtest.Database(t)
	d, err := Open(context.Background(), Options{URL: u, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestFlows(t *testing.T) {
	storetest.Flows(t, func(t *testing.T) store.Flows { return open(t) })
}

// TestQuote sends hostile strings as literals and reads them back.
func TestQuote(t *testing.T) {
	d := open(t)
	hostile := []string{"", "plain", "it's", `back\slash`, `\'`, `\\'`, "'; DROP TABLE flow_objects; --", "\x00nul", "tab\tnew\nline\r",
		"\xff\xfe invalid utf-8", "ünïcødé ✓", `"double"`, "`back`", "?{x:String}", `\x41`, "'||'", "\\", "'"}
	for _, s := range hostile {
		r, err := d.c.query(context.Background(), "SELECT "+quote(s)+" AS s, length(s)", nil)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		// JSON carries strings as UTF-8: compare the lengths in bytes too.
		n, _ := integer(r.Data[0][1])
		if got, _ := r.Data[0][0].(string); (got != s && strings.ToValidUTF8(s, "\ufffd") != got) || int(n) != len(s) {
			t.Errorf("%q: got %q, length %d", s, got, n)
		}
	}
}

func TestSQLRefusesOtherDatabases(t *testing.T) {
	d := open(t)
	for _, q := range []string{
		`SELECT * FROM system.tables`,
		`SELECT * FROM "system"."one"`,
		"SELECT * FROM `SYSTEM`.one",
		`SELECT * FROM default.t`,
		`SELECT * FROM vpc_flow_logs; SELECT 1`,
		`SHOW DATABASES`,
		`SELECT 1 FORMAT TSV`,
		`SELECT 1 SETTINGS readonly = 0`,
		`SELECT * FROM file('/etc/passwd', 'TSV', 'a String')`,
		`SELECT * FROM url('http://127.0.0.1/', 'TSV', 'a String')`,
		`SELECT * FROM numbers(10)`,
		`SELECT 1 INTO OUTFILE '/tmp/x'`,
		`SELECT 1 /*`,
		`SELECT count() FROM flow_raw`,
		"SELECT * FROM `flow_rollup_rows`",
		`SELECT * FROM "FLOW_RAW"`,
		`SELECT version FROM schema_migrations`,
		`SELECT 1 FROM vpc_flow_logs WHERE 1 IN (SELECT attempt FROM flow_raw)`,
	} {
		if _, err := d.FlowSQL(context.Background(), q, 10); !errors.Is(err, store.ErrBadQuery) {
			t.Errorf("%q: got %v, want ErrBadQuery", q, err)
		}
	}
	for _, q := range []string{`SELECT count() FROM vpc_flow_logs`, `SELECT count() FROM flow_rollups`,
		`SELECT count() FROM flow_objects`, `SELECT count() FROM components`, `SELECT 'flow_raw'`} {
		if _, err := d.FlowSQL(context.Background(), q, 10); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
	res, err := d.FlowSQL(context.Background(), "SELECT 'system.one' AS s -- system.one\n", 10)
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != "system.one" {
		t.Errorf("a string naming system: %v %v", res, err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	if err := d.c.exec(ctx, fmt.Sprintf(`INSERT INTO schema_migrations VALUES (%d, now())`, len(migrations)+1), nil); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, Options{URL: d.opts.URL, Database: d.opts.Database})
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "upgrade skymap") {
		t.Errorf("got %v, want ErrSchemaTooNew", err)
	}
	// Opening again at the current version migrates nothing.
	if err := d.c.exec(ctx, fmt.Sprintf(`ALTER TABLE schema_migrations DELETE WHERE version > %d`, len(migrations)), nil); err != nil {
		t.Fatal(err)
	}
	if err := d.waitMutations(ctx, "schema_migrations"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, Options{URL: d.opts.URL, Database: d.opts.Database}); err != nil {
		t.Fatal(err)
	}
	if v, err := d.schemaVersion(ctx); err != nil || v != len(migrations) {
		t.Errorf("version %d %v", v, err)
	}
}

// TestCommitRaces commits one object from two stores (two workers) at
// once, after an attempt that failed before its catalog row: the object's
// rows count once.
func TestCommitRaces(t *testing.T) {
	a := open(t)
	ctx := context.Background()
	b, err := Open(ctx, Options{URL: a.opts.URL, Database: a.opts.Database})
	if err != nil {
		t.Fatal(err)
	}
	o := storetest.TextObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(storetest.Rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	// A failed attempt: rows without a catalog row.
	id := objectID(o.Bucket, o.Key, o.ETag)
	if _, _, err := a.insertRecords(ctx, id, 7, o, storetest.DefaultHeader); err != nil {
		t.Fatal(err)
	}
	if _, err := a.insertRollups(ctx, id, 7, o); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		d := a
		if i%2 == 1 {
			d = b
		}
		wg.Go(func() { errs[i] = d.CommitFlowObject(ctx, o) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	res, err := a.FlowSQL(ctx, `SELECT (SELECT count() FROM vpc_flow_logs), (SELECT sum(bytes_to_server) FROM flow_rollups)`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]any{{int64(1), int64(1000)}}, res.Rows); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The failed attempt's rows are there, unseen.
	r, err := a.c.query(ctx, `SELECT count() FROM flow_raw`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := integer(r.Data[0][0]); n < 2 {
		t.Errorf("flow_raw has %d rows, want the failed attempt's too", n)
	}
	convs, err := b.FlowConversations(ctx, store.FlowQuery{})
	if err != nil || len(convs) != 1 || convs[0].BytesToServer != 1000 {
		t.Errorf("conversations %+v %v", convs, err)
	}
}

// TestRecords checks the parsing of text records: lines of the wrong field
// count or with a number field that is not one of its type are skipped,
// text keeps every byte, and fields without a column are in extra_keys
// and extra_values.
func TestRecords(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	header := storetest.DefaultHeader + " vpc-id no-such-field"
	o := &store.FlowObject{Bucket: "logs", Key: "k", ETag: "e", Format: header, Body: storetest.GzipText(t, header,
		`2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK vpc-'\"x\\ y`,
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 forty 443 6 10 1000 1795341600 1795341660 ACCEPT OK vpc-1 y",
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 4294967296 443 6 10 1000 1795341600 1795341660 ACCEPT OK vpc-1 y",
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK vpc-1",
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 9223372036854775807 1795341600 1795341660 ACCEPT OK - y"),
		Start: t0, End: t0.Add(time.Minute)}
	if err := d.CommitFlowObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	res, err := d.FlowSQL(ctx, `SELECT srcport, bytes, vpc_id, extra_keys, extra_values[indexOf(extra_keys, 'no_such_field')]
		FROM vpc_flow_logs ORDER BY bytes`, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{int64(40000), int64(1000), `vpc-'\"x\\`, []any{"no_such_field"}, "y"},
		{int64(40000), int64(9223372036854775807), nil, []any{"no_such_field"}, "y"}}
	if diff := cmp.Diff(want, res.Rows); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestBrokenBody commits a gzip body cut short after enough records that
// some were sent: the object is done and counts none of them.
func TestBrokenBody(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	lines := []string{storetest.DefaultHeader}
	for i := range 50000 {
		lines = append(lines, fmt.Sprintf("2 123456789012 eni-1 10.0.0.1 10.0.0.2 %d 443 6 10 1000 1795341600 1795341660 ACCEPT OK", i))
	}
	body := storetest.GzipText(t, lines...)
	o := &store.FlowObject{Bucket: "logs", Key: "k", ETag: "e", Format: storetest.DefaultHeader, Body: body[:len(body)*9/10],
		Start: t0, End: t0.Add(time.Minute)}
	if err := d.CommitFlowObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	res, err := d.FlowSQL(ctx, `SELECT (SELECT count() FROM vpc_flow_logs), (SELECT raw_records FROM flow_objects)`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]any{{int64(0), int64(0)}}, res.Rows); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if done, err := d.FlowObjectDone(ctx, "logs", "k", "e"); err != nil || !done {
		t.Errorf("done %v %v", done, err)
	}
}

// TestSQLMemory runs a query needing ~8 MB under a limit of 1 MB, then
// under the default limit.
func TestSQLMemory(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	const q = `SELECT length(arrayMap(x -> x * 2, range(1000000)))`
	small, err := Open(ctx, Options{URL: d.opts.URL, Database: d.opts.Database, QueryMemory: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.FlowSQL(ctx, q, 1); !errors.Is(err, store.ErrBadQuery) || !strings.Contains(err.Error(), "emory limit") {
		t.Errorf("under 1 MB: got %v, want a memory limit exceeded", err)
	}
	if res, err := d.FlowSQL(ctx, q, 1); err != nil || res.Rows[0][0] != int64(1000000) {
		t.Errorf("under the default: %v %v", res, err)
	}
}

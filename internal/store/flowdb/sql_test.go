package flowdb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

func TestLockedDown(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	res := mustSQL(t, d, `SELECT current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions'),
		current_setting('enable_external_access'), current_setting('lock_configuration')`)
	if diff := cmp.Diff([][]any{{false, false, false, true}}, res.Rows); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	// Behind the query checks, DuckDB itself refuses files outside raw/.
	if _, err := d.db.Exec(`SELECT * FROM read_csv('/etc/passwd')`); err == nil || !strings.Contains(err.Error(), "disabled by configuration") {
		t.Errorf("read_csv('/etc/passwd') through the driver: %v", err)
	}
	if _, err := d.db.Exec(`SET enable_external_access = true`); err == nil {
		t.Error("configuration not locked")
	}
}

func TestRefusals(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	ctx := context.Background()
	o := textObject(t, "k1", "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK")
	o.Rollups = model.NewFlowRollups(rollup("i-a", "i-b", 443, model.FlowServer, true, 1000, 10))
	if err := d.CommitFlowObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT * FROM read_csv('/etc/passwd')`,
		`SELECT * FROM '/etc/passwd'`,
		`SELECT * FROM read_text('/etc/hostname')`,
		`SELECT * FROM flow_rollups JOIN read_csv_auto('/etc/passwd') ON true`,
		`SELECT (SELECT count(*) FROM read_parquet('x.parquet'))`,
		`WITH x AS (SELECT * FROM glob('/*')) SELECT * FROM x`,
		`SELECT * FROM query('DELETE FROM flow_rollups')`,
		`DELETE FROM flow_rollups`,
		`DROP TABLE flow_rollups`,
		`INSERT INTO flow_objects SELECT * FROM flow_objects`,
		`UPDATE flow_rollups SET bytes_to_server = 0`,
		`CREATE TABLE x AS SELECT 1`,
		`ATTACH '/tmp/x.db' AS x`,
		`COPY flow_rollups TO '/tmp/x.csv'`,
		`PRAGMA database_list`,
		`SET threads = 1`,
		`SELECT 1; DELETE FROM flow_rollups`,
		`SELECT 1; SELECT 2`,
		`SELECT 1) AS q; DELETE FROM flow_rollups; SELECT * FROM (SELECT 1`,
		`SELECT * FROM other.main.flow_rollups`,
		`SELECT * FROM duckdb_settings()`,
		`SELECT getenv('HOME')`,
		`SELECT * FROM no_such_table`,
		`SELECT no_such_column FROM flow_rollups`,
		`SELEC 1`,
		`EXPLAIN ANALYZE SELECT 1`,
		`INSTALL httpfs`,
		`LOAD httpfs`,
		``,
	} {
		_, err := d.FlowSQL(ctx, q, 10)
		if !errors.Is(err, store.ErrBadQuery) {
			t.Errorf("%q: got %v, want ErrBadQuery", q, err)
		} else {
			t.Logf("%q: %v", q, err)
		}
	}
	res := mustSQL(t, d, `SELECT (SELECT count(*) FROM flow_rollups), (SELECT count(*) FROM vpc_flow_logs)`)
	if diff := cmp.Diff([][]any{{int64(1), int64(1)}}, res.Rows); diff != "" {
		t.Errorf("after refusals (-want +got):\n%s", diff)
	}
	// Still allowed: CTEs, information_schema, subqueries, trailing ';'.
	for _, q := range []string{
		`WITH r AS (SELECT * FROM flow_rollups) SELECT count(*) FROM r;`,
		`SELECT table_name FROM information_schema.tables ORDER BY 1`,
		`FROM vpc_flow_logs SELECT count(*) -- a comment`,
		`SELECT * FROM main.components`,
	} {
		if _, err := d.FlowSQL(ctx, q, 10); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
}

func TestSQLValuesAndTruncation(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	res := mustSQL(t, d, `SELECT 1::HUGEINT AS h, 2::UBIGINT AS u, 1.5::DECIMAL(5,2) AS dec, 'NaN'::DOUBLE AS nan, DATE '2026-01-02' AS d,
		TIMESTAMP '2026-01-02 03:04:05' AS ts, INTERVAL 1 DAY AS i, MAP {'a': 1} AS m, {'x': [1, 2]} AS s,
		'00000000-0000-0000-0000-000000000001'::UUID AS id, '{"a":1}'::JSON AS j, NULL AS n`)
	want := [][]any{{int64(1), uint64(2), 1.5, "NaN", "2026-01-02", "2026-01-02T03:04:05Z", "0 months 1 days 0 microseconds",
		map[string]any{"a": int32(1)}, map[string]any{"x": []any{int32(1), int32(2)}},
		"00000000-0000-0000-0000-000000000001", map[string]any{"a": float64(1)}, nil}}
	if diff := cmp.Diff(want, res.Rows); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	res, err := d.FlowSQL(context.Background(), `SELECT * FROM range(10) ORDER BY 1 DESC`, 3)
	if err == nil {
		t.Errorf("range() is a table function, got %v", res)
	}
	res, err = d.FlowSQL(context.Background(), `SELECT x FROM (VALUES (1), (3), (2), (5), (4)) AS v(x) ORDER BY x DESC`, 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]any{{int32(5)}, {int32(4)}, {int32(3)}}, res.Rows); diff != "" || !res.Truncated {
		t.Errorf("truncated %v, rows (-want +got):\n%s", res.Truncated, diff)
	}
}

func TestSQLCancel(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	// A cross join of a few billion rows: only the deadline ends it.
	_, err := d.FlowSQL(ctx, `WITH a AS (SELECT * FROM (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10)) v(x)),
		b AS (SELECT a1.x FROM a a1, a a2, a a3, a a4, a a5) SELECT count(*) FROM b b1, b b2`, 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the deadline", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %s after a 200ms deadline", el)
	}
}

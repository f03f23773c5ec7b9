package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

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
	} {
		if _, err := d.FlowSQL(context.Background(), q, 10); !errors.Is(err, store.ErrBadQuery) {
			t.Errorf("%q: got %v, want ErrBadQuery", q, err)
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
	if err := d.c.exec(ctx, `ALTER TABLE schema_migrations DELETE WHERE version > 1`, nil); err != nil {
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

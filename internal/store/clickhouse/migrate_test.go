package clickhouse

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/store/clickhouse/chtest"
)

// TestMigrateFromVersion1 opens a database that a skymap of schema
// version 1 wrote, with committed and uncommitted records in
// flow_records: vpc_flow_logs shows the same rows, NULLs included, and
// the object stays done.
func TestMigrateFromVersion1(t *testing.T) {
	u, db := chtest.Database(t)
	ctx := context.Background()
	for _, stmt := range append(migrations[0](db),
		`CREATE TABLE `+db+`.schema_migrations (version UInt32, applied_at DateTime('UTC')) ENGINE = MergeTree ORDER BY version`,
		`INSERT INTO `+db+`.schema_migrations VALUES (1, now())`,
		// An object committed by attempt 1; attempt 2 failed before its
		// catalog row.
		`INSERT INTO `+db+`.flow_objects (object, attempt, bucket, `+"`key`"+`, etag, records, raw_records)
			VALUES ('o1', 1, 'logs', 'k1', 'e', 2, 2)`,
		`INSERT INTO `+db+`.flow_records (object, attempt, object_end, version, account_id, srcport, bytes, vpc_id,
			traffic_path, region, tcp_flags) VALUES
			('o1', 1, now(), 5, '123456789012', 443, 1000, 'vpc-1', 2, 'eu-west-1', 0),
			('o1', 1, now(), 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
			('o1', 2, now(), 5, '123456789012', 443, 1000, 'vpc-1', 2, 'eu-west-1', 0)`,
	) {
		if err := chtest.Exec(u, stmt); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Open(ctx, Options{URL: u, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, err := d.schemaVersion(ctx); err != nil || v != len(migrations) {
		t.Errorf("version %d %v, want %d", v, err, len(migrations))
	}
	res, err := d.FlowSQL(ctx, `SELECT version, account_id, srcport, bytes, vpc_id, traffic_path, region, tcp_flags, reject_reason,
		extra_values[indexOf(extra_keys, 'region')] FROM vpc_flow_logs ORDER BY account_id NULLS LAST`, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{
		{int64(5), "123456789012", int64(443), int64(1000), "vpc-1", int64(2), "eu-west-1", int64(0), nil, "eu-west-1"},
		{int64(5), nil, nil, nil, nil, nil, nil, nil, nil, ""},
	}
	if diff := cmp.Diff(want, res.Rows); diff != "" {
		t.Errorf("vpc_flow_logs (-want +got):\n%s", diff)
	}
	// flow_records is gone, its rows in flow_raw (the failed attempt's too).
	r, err := d.c.query(ctx, `SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'flow_records'),
		(SELECT count() FROM flow_raw)`, nil)
	if err != nil {
		t.Fatal(err)
	}
	tables, _ := integer(r.Data[0][0])
	rows, _ := integer(r.Data[0][1])
	if tables != 0 || rows != 3 {
		t.Errorf("%d tables flow_records, %d rows in flow_raw; want 0 and 3", tables, rows)
	}
	// Opening again migrates nothing and copies nothing twice.
	if _, err := Open(ctx, Options{URL: u, Database: db}); err != nil {
		t.Fatal(err)
	}
}

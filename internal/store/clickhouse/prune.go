package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// PruneFlows implements store.Flows with ALTER TABLE ... DELETE, waiting
// until the mutations are done. Raw records go once their object's
// records all ended before rawBefore (every row of such objects, committed
// or not). An object's rollups go once its last minute is before
// rollupsBefore, as in flowdb. A catalog row goes once its object's
// records ended before rawBefore and it has no rollups left, so an object
// stays done as long as its rollups are counted. Rows are deleted before
// catalog rows, so that an interrupted prune leaves nothing uncounted
// behind a catalog row.
func (d *DB) PruneFlows(ctx context.Context, rawBefore, rollupsBefore time.Time) error {
	if rawBefore.IsZero() && rollupsBefore.IsZero() {
		return nil
	}
	if !rollupsBefore.IsZero() {
		cond := `object IN (SELECT object FROM flow_objects WHERE rollups > 0 AND rollups_last < ` + dateTime(rollupsBefore) + `)`
		if err := d.deleteWhere(ctx, "flow_rollup_rows", cond); err != nil {
			return fmt.Errorf("clickhouse: prune rollups: %w", err)
		}
	}
	if !rawBefore.IsZero() {
		if err := d.deleteWhere(ctx, "flow_raw", `object_end < `+dateTime(rawBefore)); err != nil {
			return fmt.Errorf("clickhouse: prune raw records: %w", err)
		}
		cond := "`end` < " + dateTime(rawBefore) + ` AND rollups = 0`
		if !rollupsBefore.IsZero() {
			cond = "`end` < " + dateTime(rawBefore) + ` AND (rollups = 0 OR rollups_last < ` + dateTime(rollupsBefore) + `)`
		}
		if err := d.deleteWhere(ctx, "flow_objects", cond); err != nil {
			return fmt.Errorf("clickhouse: prune catalog: %w", err)
		}
	}
	return nil
}

// deleteWhere deletes table's rows matching cond, when there are any, and
// waits until the mutation is done.
func (d *DB) deleteWhere(ctx context.Context, table, cond string) error {
	r, err := d.c.query(ctx, `SELECT count() FROM `+table+` WHERE `+cond, nil)
	if err != nil {
		return err
	}
	if n, err := integer(r.Data[0][0]); err != nil || n == 0 {
		return err
	}
	if err := d.c.exec(ctx, `ALTER TABLE `+table+` DELETE WHERE `+cond, nil); err != nil {
		return err
	}
	return d.waitMutations(ctx, table)
}

// waitMutations waits until table has no mutation left to do. ClickHouse
// 18.16 has no mutations_sync setting.
func (d *DB) waitMutations(ctx context.Context, table string) error {
	q := `SELECT count() FROM system.mutations WHERE database = ` + quote(d.opts.Database) + ` AND table = ` + quote(table) +
		` AND is_done = 0`
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		r, err := d.c.query(ctx, q, nil)
		if err != nil {
			return fmt.Errorf("wait for mutations of %s: %w", table, err)
		}
		if n, err := integer(r.Data[0][0]); err != nil || n == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for mutations of %s: %w", table, ctx.Err())
		case <-time.After(delay):
		}
	}
}

package flowdb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// PruneFlows implements store.Flows. Rollups are kept and pruned per
// flow-log object: an object's rollups file goes once its last minute is
// before rollupsBefore, so a minute older than rollupsBefore stays while
// the object that reported it also reported a later one (an object spans
// a few minutes). Raw bodies go once their object's records all ended
// before rawBefore. A catalog row goes once its body is pruned (or was
// never archived) and it has no rollups file left, so an object stays
// done as long as its rollups are counted. Catalog rows are updated first
// and the views rebuilt, so that they never name a format or glob without
// files; the files are removed last.
func (d *DB) PruneFlows(ctx context.Context, rawBefore, rollupsBefore time.Time) error {
	if rawBefore.IsZero() && rollupsBefore.IsZero() {
		return nil
	}
	// One writer at a time: no transaction conflicts with commits.
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	var files []string
	if !rollupsBefore.IsZero() {
		paths, err := d.column(ctx, `SELECT rollups FROM flow_objects WHERE rollups <> '' AND rollups_last < ?`, rollupsBefore.UTC())
		if err != nil {
			return fmt.Errorf("flowdb: prune rollups: %w", err)
		}
		if len(paths) > 0 {
			if _, err := d.db.ExecContext(ctx, `UPDATE flow_objects SET rollups = '', rollups_last = NULL WHERE rollups <> '' AND rollups_last < ?`,
				rollupsBefore.UTC()); err != nil {
				return fmt.Errorf("flowdb: prune rollups: %w", err)
			}
			if err := d.rebuildRollupsView(ctx); err != nil {
				return fmt.Errorf("flowdb: prune rollups: %w", err)
			}
			files = append(files, paths...)
		}
	}
	if !rawBefore.IsZero() {
		paths, err := d.column(ctx, `SELECT path FROM flow_objects WHERE "end" < ? AND path <> ''`, rawBefore.UTC())
		if err != nil {
			return fmt.Errorf("flowdb: prune raw objects: %w", err)
		}
		if len(paths) > 0 {
			if _, err := d.db.ExecContext(ctx, `UPDATE flow_objects SET path = '' WHERE "end" < ? AND path <> ''`, rawBefore.UTC()); err != nil {
				return fmt.Errorf("flowdb: prune raw objects: %w", err)
			}
			if err := d.rebuildView(ctx); err != nil {
				return fmt.Errorf("flowdb: prune raw objects: %w", err)
			}
			files = append(files, paths...)
		}
		if _, err := d.db.ExecContext(ctx, `DELETE FROM flow_objects WHERE "end" < ? AND path = '' AND rollups = ''`, rawBefore.UTC()); err != nil {
			return fmt.Errorf("flowdb: prune catalog: %w", err)
		}
	}
	var errs []error
	for _, p := range files {
		// Empty hour, day, month and year directories go too.
		if err := removeFile(d.raw, filepath.Join(d.raw, p)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("flowdb: prune: %w", err)
	}
	return nil
}

// column returns the strings of a one-column query.
func (d *DB) column(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

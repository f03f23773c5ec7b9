package flowdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// PruneFlows implements store.Flows. Catalog rows go first and the view is
// rebuilt without the formats that no object has any more; the files are
// removed last, so the view never names a format without files.
func (d *DB) PruneFlows(ctx context.Context, rawBefore, rollupsBefore time.Time) error {
	// One writer at a time: no transaction conflicts with commits.
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if !rollupsBefore.IsZero() {
		if _, err := d.db.ExecContext(ctx, `DELETE FROM flow_rollups WHERE minute < ?`, rollupsBefore.UTC()); err != nil {
			return fmt.Errorf("flowdb: prune rollups: %w", err)
		}
	}
	if rawBefore.IsZero() {
		return nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT path FROM flow_objects WHERE "end" < ?`, rawBefore.UTC())
	if err != nil {
		return fmt.Errorf("flowdb: prune raw objects: %w", err)
	}
	var paths []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return fmt.Errorf("flowdb: prune raw objects: %w", err)
		}
		paths = append(paths, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("flowdb: prune raw objects: %w", err)
	}
	if len(paths) == 0 {
		return nil
	}
	if _, err := d.db.ExecContext(ctx, `DELETE FROM flow_objects WHERE "end" < ?`, rawBefore.UTC()); err != nil {
		return fmt.Errorf("flowdb: prune raw objects: %w", err)
	}
	if err := d.rebuildView(ctx); err != nil {
		return fmt.Errorf("flowdb: prune raw objects: %w", err)
	}
	var errs []error
	for _, p := range paths {
		if p == "" { // never archived
			continue
		}
		abs := filepath.Join(d.raw, p)
		if err := os.Remove(abs); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		// Empty hour, day, month and year directories go too.
		for dir := filepath.Dir(abs); dir != d.raw && len(dir) > len(d.raw); dir = filepath.Dir(dir) {
			if os.Remove(dir) != nil {
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("flowdb: prune raw objects: %w", err)
	}
	return nil
}

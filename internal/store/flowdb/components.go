package flowdb

import (
	"context"
	"database/sql/driver"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// refreshComponents reloads the components table from Options.Components
// when it is older than Options.ComponentsMaxAge, in one transaction, so
// that queries see the old set or the new one.
func (d *DB) refreshComponents(ctx context.Context) error {
	if d.opts.Components == nil {
		return nil
	}
	d.compMu.Lock()
	defer d.compMu.Unlock()
	now := d.opts.Now()
	if !d.compLoaded.IsZero() && now.Sub(d.compLoaded) < d.opts.ComponentsMaxAge {
		return nil
	}
	comps, err := d.opts.Components(ctx)
	if err != nil {
		return fmt.Errorf("flowdb: load components: %w", err)
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("flowdb: load components: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return fmt.Errorf("flowdb: load components: %w", err)
	}
	err = func() error {
		if _, err := conn.ExecContext(ctx, `DELETE FROM components`); err != nil {
			return err
		}
		return conn.Raw(func(dc any) error {
			a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "components")
			if err != nil {
				return err
			}
			// The appender writes a JSON column's value as JSON.
			for _, c := range comps {
				if err := a.AppendRow(c.ID, c.Type, c.Name, c.Account, c.Region, c.Layer, c.Environment,
					list(c.Labels), list(c.Identifiers), c.Data); err != nil {
					a.Close()
					return err
				}
			}
			return a.CloseWithCancel(ctx)
		})
	}()
	if err == nil {
		_, err = conn.ExecContext(ctx, `COMMIT`)
	}
	if err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return fmt.Errorf("flowdb: load components: %w", err)
	}
	d.compLoaded = now
	return nil
}

// list is a list for the appender: never nil.
func list(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

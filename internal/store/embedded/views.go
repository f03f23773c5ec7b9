package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ store.Views = (*Store)(nil)

// ListViews implements store.Views.
func (s *Store) ListViews(ctx context.Context) ([]model.View, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT doc FROM views ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	defer rows.Close()
	out := []model.View{}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list views: %w", err)
		}
		var v model.View
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, fmt.Errorf("list views: stored view: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	return out, nil
}

// PutView implements store.Views.
func (s *Store) PutView(ctx context.Context, v model.View) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("put view %q: %w", v.ID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO views(id, name, doc) VALUES(?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name = excluded.name, doc = excluded.doc`, v.ID, v.Name, doc)
	var serr *sqlite.Error
	if errors.As(err, &serr) && serr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return fmt.Errorf("put view %q: name %q: %w", v.ID, v.Name, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("put view %q: %w", v.ID, err)
	}
	return nil
}

// DeleteView implements store.Views.
func (s *Store) DeleteView(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM views WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete view %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete view %q: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("view %q: %w", id, store.ErrNotFound)
	}
	return nil
}

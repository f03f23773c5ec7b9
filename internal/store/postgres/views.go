package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// uniqueViolation is PostgreSQL's SQLSTATE for a unique index refusing a
// row.
const uniqueViolation = "23505"

// ListViews implements store.Views.
func (s *Store) ListViews(ctx context.Context) ([]model.View, error) {
	var out []model.View
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.listViews(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	return out, nil
}

func (s *Store) listViews(ctx context.Context) ([]model.View, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM views ORDER BY lower(name) COLLATE "C", id`)
	if err != nil {
		return nil, err
	}
	out := []model.View{}
	var doc []byte
	_, err = pgx.ForEachRow(rows, []any{&doc}, func() error {
		var v model.View
		if err := json.Unmarshal(doc, &v); err != nil {
			return fmt.Errorf("stored view: %w", err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// PutView implements store.Views.
func (s *Store) PutView(ctx context.Context, v model.View) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("put view %q: %w", v.ID, err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO views(id, name, doc) VALUES($1, $2, $3)
			ON CONFLICT(id) DO UPDATE SET name = excluded.name, doc = excluded.doc`, v.ID, v.Name, string(doc))
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation && pgErr.ConstraintName == "views_name" {
		return fmt.Errorf("put view %q: name %q: %w", v.ID, v.Name, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("put view %q: %w", v.ID, err)
	}
	return nil
}

// DeleteView implements store.Views. When the acknowledgment of its
// deletion is lost with the connection, the retry finds no view and it
// fails with store.ErrNotFound, though it deleted the view.
func (s *Store) DeleteView(ctx context.Context, id string) error {
	var deleted int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM views WHERE id = $1`, id)
		deleted = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete view %q: %w", id, err)
	}
	if deleted == 0 {
		return fmt.Errorf("view %q: %w", id, store.ErrNotFound)
	}
	return nil
}

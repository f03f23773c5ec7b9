package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/topology"
)

var _ store.Topology = (*Store)(nil)
var _ store.State = (*Store)(nil)

// Commit implements topology.Store: the whole change in one transaction.
func (s *Store) Commit(ctx context.Context, c topology.Change) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	upsert, err := tx.PrepareContext(ctx, `INSERT INTO components(id, scope_account, scope_region, scope_type, doc)
		VALUES(?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET
		scope_account = excluded.scope_account, scope_region = excluded.scope_region,
		scope_type = excluded.scope_type, doc = excluded.doc`)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer upsert.Close()
	for _, o := range c.Upserted {
		doc, err := json.Marshal(o.Component)
		if err != nil {
			return fmt.Errorf("encode component %s: %w", o.Component.ID, err)
		}
		if _, err := upsert.ExecContext(ctx, o.Component.ID, o.Scope.Account, o.Scope.Region, o.Scope.Type, doc); err != nil {
			return fmt.Errorf("upsert component %s: %w", o.Component.ID, err)
		}
	}
	for _, id := range c.Deleted {
		if _, err := tx.ExecContext(ctx, `DELETE FROM components WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete component %s: %w", id, err)
		}
	}
	putRel, err := tx.PrepareContext(ctx, `INSERT INTO relations(scope_account, scope_region, scope_type, source, type, target, doc)
		VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET doc = excluded.doc`)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer putRel.Close()
	dropRel, err := tx.PrepareContext(ctx, `DELETE FROM relations WHERE scope_account = ? AND scope_region = ? AND scope_type = ?
		AND source = ? AND type = ? AND target = ?`)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer dropRel.Close()
	for sc, d := range c.Relations {
		for _, k := range d.Gone {
			if _, err := dropRel.ExecContext(ctx, sc.Account, sc.Region, sc.Type, k.Source, k.Type, k.Target); err != nil {
				return fmt.Errorf("delete relation %s -> %s of %s: %w", k.Source, k.Target, sc, err)
			}
		}
		for _, r := range d.Put {
			doc, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("encode relation %s -> %s: %w", r.Source, r.Target, err)
			}
			if _, err := putRel.ExecContext(ctx, sc.Account, sc.Region, sc.Type, r.Source, r.Type, r.Target, doc); err != nil {
				return fmt.Errorf("write relation %s -> %s of %s: %w", r.Source, r.Target, sc, err)
			}
		}
	}
	insVersion, err := tx.PrepareContext(ctx, `INSERT INTO versions(time, entity, id, change, diff, state, cause, actor, source_ip)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer insVersion.Close()
	for _, v := range c.Versions {
		if _, err := insVersion.ExecContext(ctx, v.Time.UnixNano(), v.Entity, v.ID, v.Change, nullJSON(v.Diff), nullJSON(v.State), v.Cause, v.Actor, v.SourceIP); err != nil {
			return fmt.Errorf("insert version of %s: %w", v.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// LoadTopology implements store.Topology.
func (s *Store) LoadTopology(ctx context.Context) (*topology.State, error) {
	st := &topology.State{Relations: map[model.Scope][]model.Relation{}}
	rows, err := s.db.QueryContext(ctx, `SELECT scope_account, scope_region, scope_type, doc FROM components ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("load components: %w", err)
	}
	for rows.Next() {
		var o topology.Owned
		var doc []byte
		if err := rows.Scan(&o.Scope.Account, &o.Scope.Region, &o.Scope.Type, &doc); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load components: %w", err)
		}
		if err := json.Unmarshal(doc, &o.Component); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode stored component: %w", err)
		}
		st.Components = append(st.Components, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load components: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT scope_account, scope_region, scope_type, doc FROM relations
		ORDER BY scope_account, scope_region, scope_type, source, type, target`)
	if err != nil {
		return nil, fmt.Errorf("load relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sc model.Scope
		var doc []byte
		var r model.Relation
		if err := rows.Scan(&sc.Account, &sc.Region, &sc.Type, &doc); err != nil {
			return nil, fmt.Errorf("load relations: %w", err)
		}
		if err := json.Unmarshal(doc, &r); err != nil {
			return nil, fmt.Errorf("decode stored relation: %w", err)
		}
		st.Relations[sc] = append(st.Relations[sc], r)
	}
	return st, rows.Err()
}

// Versions implements store.Topology.
func (s *Store) Versions(ctx context.Context, q store.VersionQuery) ([]model.Version, error) {
	query := `SELECT seq, time, entity, id, change, diff, state, cause, actor, source_ip FROM versions WHERE seq > ?`
	args := []any{q.AfterSeq}
	if q.ID != "" {
		query += ` AND id = ?`
		args = append(args, q.ID)
	}
	if !q.Since.IsZero() {
		query += ` AND time >= ?`
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		query += ` AND time < ?`
		args = append(args, q.Until.UnixNano())
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	if q.Latest {
		query = `SELECT * FROM (` + query + ` ORDER BY seq DESC LIMIT ?) ORDER BY seq`
	} else {
		query += ` ORDER BY seq LIMIT ?`
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query versions: %w", err)
	}
	defer rows.Close()
	out := []model.Version{}
	for rows.Next() {
		var v model.Version
		var ns int64
		var diff, state sql.NullString
		if err := rows.Scan(&v.Seq, &ns, &v.Entity, &v.ID, &v.Change, &diff, &state, &v.Cause, &v.Actor, &v.SourceIP); err != nil {
			return nil, fmt.Errorf("query versions: %w", err)
		}
		v.Time = time.Unix(0, ns).UTC()
		if diff.Valid {
			v.Diff = json.RawMessage(diff.String)
		}
		if state.Valid {
			v.State = json.RawMessage(state.String)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// TopologyAt returns the components and relations as they were at a time:
// for every component and relation, its newest version at or before at,
// unless that version deleted it. Before the history's start it fails with
// store.ErrPruned.
func (s *Store) TopologyAt(ctx context.Context, at time.Time) ([]model.Component, []model.Relation, error) {
	// One transaction, so that no prune runs between the check and the read.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	start, err := historyStart(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	if at.Before(start) {
		return nil, nil, fmt.Errorf("topology at %s: %w: the history starts at %s",
			at.UTC().Format(time.RFC3339Nano), store.ErrPruned, start.Format(time.RFC3339Nano))
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT v.entity, v.state FROM versions v
		JOIN (SELECT MAX(seq) AS seq FROM versions WHERE time <= ? GROUP BY entity, id) m ON v.seq = m.seq
		WHERE v.change != ? AND v.state IS NOT NULL ORDER BY v.id`, at.UnixNano(), model.Deleted)
	if err != nil {
		return nil, nil, fmt.Errorf("query topology at %s: %w", at.Format(time.RFC3339), err)
	}
	defer rows.Close()
	comps, rels := []model.Component{}, []model.Relation{}
	for rows.Next() {
		var entity, state string
		if err := rows.Scan(&entity, &state); err != nil {
			return nil, nil, fmt.Errorf("query topology at %s: %w", at.Format(time.RFC3339), err)
		}
		switch entity {
		case topology.EntityComponent:
			var c model.Component
			if err := json.Unmarshal([]byte(state), &c); err != nil {
				return nil, nil, fmt.Errorf("decode stored component: %w", err)
			}
			comps = append(comps, c)
		case topology.EntityRelation:
			var r model.Relation
			if err := json.Unmarshal([]byte(state), &r); err != nil {
				return nil, nil, fmt.Errorf("decode stored relation: %w", err)
			}
			rels = append(rels, r)
		}
	}
	return comps, rels, rows.Err()
}

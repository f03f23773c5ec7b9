package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/topology"
)

// errCommitted ends an attempt of Commit that finds its commit id stored:
// an earlier attempt committed, though its acknowledgment was lost.
var errCommitted = errors.New("committed already")

// commitIDsEvery is how many Commits go between deletions of commit ids
// older than an hour.
const commitIDsEvery = 1000

// Commit implements topology.Store: the whole change in one transaction,
// its statements sent in one batch. The batch starts by storing a random
// id of this call; an attempt retried after a lost connection that finds
// the id stored (the previous attempt committed, but its acknowledgment
// was lost with the connection) rolls back and succeeds.
func (s *Store) Commit(ctx context.Context, c topology.Change) error {
	id := make([]byte, 16)
	rand.Read(id)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO commits(id) VALUES($1) ON CONFLICT(id) DO NOTHING`, id)
	if s.commits.Add(1)%commitIDsEvery == 1 {
		b.Queue(`DELETE FROM commits WHERE at < now() - interval '1 hour'`)
	}
	empty := b.Len()
	for _, o := range c.Upserted {
		doc, err := json.Marshal(o.Component)
		if err != nil {
			return fmt.Errorf("encode component %s: %w", o.Component.ID, err)
		}
		b.Queue(`INSERT INTO components(id, scope_account, scope_region, scope_type, doc)
			VALUES($1, $2, $3, $4, $5) ON CONFLICT(id) DO UPDATE SET
			scope_account = excluded.scope_account, scope_region = excluded.scope_region,
			scope_type = excluded.scope_type, doc = excluded.doc`,
			o.Component.ID, o.Scope.Account, o.Scope.Region, o.Scope.Type, string(doc))
	}
	if len(c.Deleted) > 0 {
		b.Queue(`DELETE FROM components WHERE id = ANY($1)`, c.Deleted)
	}
	for sc, d := range c.Relations {
		for _, k := range d.Gone {
			b.Queue(`DELETE FROM relations WHERE scope_account = $1 AND scope_region = $2 AND scope_type = $3
				AND source = $4 AND type = $5 AND target = $6`, sc.Account, sc.Region, sc.Type, k.Source, k.Type, k.Target)
		}
		for _, r := range d.Put {
			doc, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("encode relation %s -> %s: %w", r.Source, r.Target, err)
			}
			b.Queue(`INSERT INTO relations(scope_account, scope_region, scope_type, source, type, target, doc)
				VALUES($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT(scope_account, scope_region, scope_type, source, type, target) DO UPDATE SET doc = excluded.doc`,
				sc.Account, sc.Region, sc.Type, r.Source, r.Type, r.Target, string(doc))
		}
	}
	for _, v := range c.Versions {
		b.Queue(`INSERT INTO versions(time, entity, id, change, diff, state, cause, actor, source_ip)
			VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			v.Time.UnixNano(), v.Entity, v.ID, v.Change, nullJSON(v.Diff), nullJSON(v.State), v.Cause, v.Actor, v.SourceIP)
	}
	if b.Len() == empty {
		return nil
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		br := tx.SendBatch(ctx, b)
		tag, err := br.Exec()
		if err == nil && tag.RowsAffected() == 0 {
			err = errCommitted
		}
		if err != nil {
			br.Close()
			return err
		}
		return br.Close()
	})
	if errors.Is(err, errCommitted) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("commit topology change: %w", err)
	}
	return nil
}

func nullJSON(b json.RawMessage) *string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	return &s
}

// LoadTopology implements store.Topology. It reads in one snapshot, so
// that components and relations are of the same commits.
func (s *Store) LoadTopology(ctx context.Context) (*topology.State, error) {
	var st *topology.State
	err := s.retry(ctx, func(ctx context.Context) error {
		st = &topology.State{Relations: map[model.Scope][]model.Relation{}}
		return s.loadTopology(ctx, st)
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (s *Store) loadTopology(ctx context.Context, st *topology.State) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT scope_account, scope_region, scope_type, doc FROM components ORDER BY id`)
		if err != nil {
			return fmt.Errorf("load components: %w", err)
		}
		var o topology.Owned
		var doc []byte
		_, err = pgx.ForEachRow(rows, []any{&o.Scope.Account, &o.Scope.Region, &o.Scope.Type, &doc}, func() error {
			o.Component = model.Component{}
			if err := json.Unmarshal(doc, &o.Component); err != nil {
				return fmt.Errorf("decode stored component: %w", err)
			}
			st.Components = append(st.Components, o)
			return nil
		})
		if err != nil {
			return fmt.Errorf("load components: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT scope_account, scope_region, scope_type, doc FROM relations
			ORDER BY scope_account, scope_region, scope_type, source, type, target`)
		if err != nil {
			return fmt.Errorf("load relations: %w", err)
		}
		var sc model.Scope
		_, err = pgx.ForEachRow(rows, []any{&sc.Account, &sc.Region, &sc.Type, &doc}, func() error {
			var r model.Relation
			if err := json.Unmarshal(doc, &r); err != nil {
				return fmt.Errorf("decode stored relation: %w", err)
			}
			st.Relations[sc] = append(st.Relations[sc], r)
			return nil
		})
		if err != nil {
			return fmt.Errorf("load relations: %w", err)
		}
		return nil
	})
}

// Versions implements store.Topology.
func (s *Store) Versions(ctx context.Context, q store.VersionQuery) ([]model.Version, error) {
	query := `SELECT seq, time, entity, id, change, diff, state, cause, actor, source_ip FROM versions WHERE seq > $1`
	args := []any{q.AfterSeq}
	if q.ID != "" {
		args = append(args, q.ID)
		query += fmt.Sprintf(` AND id = $%d`, len(args))
	}
	if !q.Since.IsZero() {
		args = append(args, q.Since.UnixNano())
		query += fmt.Sprintf(` AND time >= $%d`, len(args))
	}
	if !q.Until.IsZero() {
		args = append(args, q.Until.UnixNano())
		query += fmt.Sprintf(` AND time < $%d`, len(args))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	if q.Latest {
		query = fmt.Sprintf(`SELECT * FROM (%s ORDER BY seq DESC LIMIT $%d) latest ORDER BY seq`, query, len(args))
	} else {
		query += fmt.Sprintf(` ORDER BY seq LIMIT $%d`, len(args))
	}
	var out []model.Version
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.versions(ctx, query, args)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("query versions: %w", err)
	}
	return out, nil
}

func (s *Store) versions(ctx context.Context, query string, args []any) ([]model.Version, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out := []model.Version{}
	var v model.Version
	var ns int64
	var diff, state *string
	_, err = pgx.ForEachRow(rows, []any{&v.Seq, &ns, &v.Entity, &v.ID, &v.Change, &diff, &state, &v.Cause, &v.Actor, &v.SourceIP}, func() error {
		w := v
		w.Time = time.Unix(0, ns).UTC()
		if diff != nil {
			w.Diff = json.RawMessage(*diff)
		}
		if state != nil {
			w.State = json.RawMessage(*state)
		}
		out = append(out, w)
		return nil
	})
	return out, err
}

// TopologyAt implements store.Topology: for every component and relation,
// its newest version at or before at, unless that version deleted it.
func (s *Store) TopologyAt(ctx context.Context, at time.Time) ([]model.Component, []model.Relation, error) {
	var comps []model.Component
	var rels []model.Relation
	err := s.retry(ctx, func(ctx context.Context) error {
		comps, rels = []model.Component{}, []model.Relation{}
		return s.topologyAt(ctx, at, &comps, &rels)
	})
	if err != nil {
		return nil, nil, err
	}
	return comps, rels, nil
}

func (s *Store) topologyAt(ctx context.Context, at time.Time, comps *[]model.Component, rels *[]model.Relation) error {
	// One snapshot, so that no prune commits between the check and the read.
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		start, err := historyStart(ctx, tx)
		if err != nil {
			return err
		}
		if at.Before(start) {
			return fmt.Errorf("topology at %s: %w: the history starts at %s",
				at.UTC().Format(time.RFC3339Nano), store.ErrPruned, start.Format(time.RFC3339Nano))
		}
		rows, err := tx.Query(ctx, `
			SELECT entity, state FROM (
				SELECT DISTINCT ON (entity, id) entity, id, change, state FROM versions
				WHERE time <= $1 ORDER BY entity, id, seq DESC) newest
			WHERE change != $2 AND state IS NOT NULL ORDER BY id`, at.UnixNano(), model.Deleted)
		if err != nil {
			return fmt.Errorf("query topology at %s: %w", at.Format(time.RFC3339), err)
		}
		var entity, state string
		_, err = pgx.ForEachRow(rows, []any{&entity, &state}, func() error {
			switch entity {
			case topology.EntityComponent:
				var c model.Component
				if err := json.Unmarshal([]byte(state), &c); err != nil {
					return fmt.Errorf("decode stored component: %w", err)
				}
				*comps = append(*comps, c)
			case topology.EntityRelation:
				var r model.Relation
				if err := json.Unmarshal([]byte(state), &r); err != nil {
					return fmt.Errorf("decode stored relation: %w", err)
				}
				*rels = append(*rels, r)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("query topology at %s: %w", at.Format(time.RFC3339), err)
		}
		return nil
	})
}

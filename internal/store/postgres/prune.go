package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skymap/skymap/internal/model"
)

// State keys of history pruning, both unix nanoseconds in decimal, as the
// embedded store keeps them.
const (
	// keyPrunedBefore is the cutoff of the latest prune: TopologyAt refuses
	// earlier times. It is written with the prune's first deletions.
	keyPrunedBefore = "history.pruned_before"
	// keyPrunedThrough is the cutoff of the latest prune that finished.
	// Versions older than it are pruned already, so the next prune looks
	// only at versions from there on.
	keyPrunedThrough = "history.pruned_through"
)

// defaultPruneBatch is the most versions one transaction of PruneHistory
// looks at and the most it deletes.
const defaultPruneBatch = 1000

// pruneLock is the advisory lock key each prune transaction holds, so that
// the prunes of several processes take turns ("skymap" in ASCII, then 2).
const pruneLock = 0x736b796d6170_02

// PruneHistory implements store.Topology, as the embedded store does: it
// walks the versions from the previous finished prune's cutoff up to
// before, oldest first, a page at a time, and in one short transaction per
// page prunes the histories of the components and relations on it.
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	cut := before.UnixNano()
	var from int64
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		from, err = stateNanos(ctx, s.pool, keyPrunedThrough)
		return err
	})
	if err != nil {
		return 0, err
	}
	if from >= cut {
		return 0, nil // pruned that far already
	}
	var deleted int64
	w := &pruneWalk{cut: cut, after: position{time: from}} // seq 0: every version at from or later
	for first := true; ; first = false {
		n, more, err := s.pruneStep(ctx, w, first)
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("prune history before %s: %w", before.UTC().Format(time.RFC3339), err)
		}
		if !more {
			break
		}
	}
	err = s.write(ctx, func(tx pgx.Tx) error { return putStateNanos(ctx, tx, keyPrunedThrough, cut) })
	if err != nil {
		return deleted, err
	}
	return deleted, nil
}

// pruneWalk is where PruneHistory stands in its walk of the versions
// before cut, in (time, seq) order.
type pruneWalk struct {
	cut int64
	// after is the last version walked whose page is pruned.
	after position
	// unfinished holds the histories of a page the last step ran out of
	// room in; next is the last version of that page.
	unfinished []history
	next       position
}

// position is a version's place in (time, seq) order.
type position struct{ time, seq int64 }

// history names the versions of one component or relation.
type history struct{ entity, id string }

// pruneStep, in one transaction, prunes the histories on the next page of
// w's walk (or those it left unfinished) until it has deleted s.pruneBatch
// versions, and moves w on. It returns how many versions it deleted and
// whether the walk goes on. With mark it first records w.cut as the start
// of the history.
func (s *Store) pruneStep(ctx context.Context, w *pruneWalk, mark bool) (n int64, more bool, err error) {
	var keys []history
	var last position
	// A retried attempt starts again from w, which moves only once one
	// committed; redoing a committed one deletes nothing more than what
	// was prunable, though n then leaves out what the lost one deleted.
	err = s.write(ctx, func(tx pgx.Tx) error {
		keys, last, more = w.unfinished, w.next, false
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pruneLock)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if mark {
			start, err := stateNanos(ctx, tx, keyPrunedBefore)
			if err != nil {
				return err
			}
			if w.cut > start {
				if err := putStateNanos(ctx, tx, keyPrunedBefore, w.cut); err != nil {
					return err
				}
			}
		}
		if len(keys) == 0 {
			var err error
			keys, last, err = walkPage(ctx, tx, w.after, w.cut, s.pruneBatch)
			if err != nil || len(keys) == 0 {
				return err // the walk is over
			}
		}
		more = true
		n, err = pruneHistories(ctx, tx, keys, w.cut, int64(s.pruneBatch))
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if !more {
		return 0, false, nil
	}
	if n < int64(s.pruneBatch) {
		w.after, w.unfinished = last, nil
	} else {
		w.unfinished, w.next = keys, last // more may be left: the version that led to it may be gone
	}
	return n, true, nil
}

// walkPage returns the histories of the next limit versions after after
// and before cut, in (time, seq) order, and the last of those versions;
// none when there are none.
func walkPage(ctx context.Context, tx pgx.Tx, after position, cut int64, limit int) ([]history, position, error) {
	rows, err := tx.Query(ctx, `SELECT time, seq, entity, id FROM versions
		WHERE (time, seq) > ($1, $2) AND time < $3 ORDER BY time, seq LIMIT $4`, after.time, after.seq, cut, limit)
	if err != nil {
		return nil, after, fmt.Errorf("walk versions: %w", err)
	}
	var keys []history
	seen := map[history]bool{}
	last := after
	var p position
	var k history
	_, err = pgx.ForEachRow(rows, []any{&p.time, &p.seq, &k.entity, &k.id}, func() error {
		last = p
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, after, fmt.Errorf("walk versions: %w", err)
	}
	return keys, last, nil
}

// pruneHistories deletes, oldest first and at most limit of them, the
// versions older than cut of the histories keys names but the newest of
// each, and that one too when it is a deletion. Oldest first, a deletion
// goes only after every older version of its history: one left behind
// would become the newest and bring the deleted thing back.
//
// A deletion stays when a version with an older seq but a time at or after
// cut exists (the clock went back between the two): TopologyAt picks the
// highest seq, so without the deletion it would pick that version instead.
func pruneHistories(ctx context.Context, tx pgx.Tx, keys []history, cut, limit int64) (int64, error) {
	entities, ids := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		entities[i], ids[i] = k.entity, k.id
	}
	tag, err := tx.Exec(ctx, `DELETE FROM versions WHERE seq IN (
		SELECT v.seq FROM unnest($1::text[], $2::text[]) AS k(entity, id)
		JOIN versions v ON v.id = k.id AND v.entity = k.entity
		WHERE v.time < $3 AND (
			v.seq < (SELECT MAX(seq) FROM versions m WHERE m.id = v.id AND m.entity = v.entity AND m.time < $3)
			OR v.change = $4 AND NOT EXISTS (SELECT 1 FROM versions u
				WHERE u.id = v.id AND u.entity = v.entity AND u.time >= $3 AND u.seq < v.seq))
		ORDER BY v.seq LIMIT $5)`, entities, ids, cut, model.Deleted, limit)
	if err != nil {
		return 0, fmt.Errorf("prune versions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// HistoryStart implements store.Topology.
func (s *Store) HistoryStart(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		t, err = historyStart(ctx, s.pool)
		return err
	})
	return t, err
}

func historyStart(ctx context.Context, q querier) (time.Time, error) {
	ns, err := stateNanos(ctx, q, keyPrunedBefore)
	if err != nil || ns == 0 {
		return time.Time{}, err
	}
	return time.Unix(0, ns).UTC(), nil
}

// stateNanos reads a time in unix nanoseconds from the state table, 0 when
// it is not there.
func stateNanos(ctx context.Context, q querier, key string) (int64, error) {
	var v []byte
	err := q.QueryRow(ctx, `SELECT value FROM state WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get state %q: %w", key, err)
	}
	ns, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decode state %q: %w", key, err)
	}
	return ns, nil
}

// putStateNanos writes a time in unix nanoseconds to the state table.
func putStateNanos(ctx context.Context, q querier, key string, ns int64) error {
	if err := putState(ctx, q, key, []byte(strconv.FormatInt(ns, 10))); err != nil {
		return fmt.Errorf("put state %q: %w", key, err)
	}
	return nil
}

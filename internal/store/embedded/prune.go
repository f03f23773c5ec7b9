package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// State keys of history pruning, both unix nanoseconds in decimal.
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
// looks at and the most it deletes: some tens of milliseconds of the single
// connection, that Commit waits for.
const defaultPruneBatch = 1000

// PruneHistory implements store.Topology. It walks the versions from the
// previous finished prune's cutoff up to before, oldest first, a page at a
// time, and prunes the histories of the components and relations on each
// page. A history with no version there was pruned as far by earlier
// prunes: its only version before their cutoff is its newest, and no
// deletion. (Versions written after a prune with times before its cutoff,
// when the clock went back, may stay; TopologyAt is right all the same.)
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	cut := before.UnixNano()
	from, err := stateNanos(ctx, s.db, keyPrunedThrough)
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
	if err := putStateNanos(ctx, s.db, keyPrunedThrough, cut); err != nil {
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
	// unfinished lists, as for pruneHistories, the histories of a page the
	// last step ran out of room in; next is the last version of that page.
	unfinished string
	next       position
}

// position is a version's place in (time, seq) order.
type position struct{ time, seq int64 }

// pruneStep, in one transaction, prunes the histories on the next page of
// w's walk (or those it left unfinished) until it has deleted s.pruneBatch
// versions, and moves w on. It returns how many versions it deleted and
// whether the walk goes on. With mark it first records w.cut as the start
// of the history.
func (s *Store) pruneStep(ctx context.Context, w *pruneWalk, mark bool) (int64, bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if mark {
		start, err := stateNanos(ctx, tx, keyPrunedBefore)
		if err != nil {
			return 0, false, err
		}
		if w.cut > start {
			if err := putStateNanos(ctx, tx, keyPrunedBefore, w.cut); err != nil {
				return 0, false, err
			}
		}
	}
	keys, last := w.unfinished, w.next
	if keys == "" {
		keys, last, err = walkPage(ctx, tx, w.after, w.cut, s.pruneBatch)
		if err != nil {
			return 0, false, err
		}
		if keys == "" {
			return 0, false, commit(tx) // the walk is over
		}
	}
	room := int64(s.pruneBatch)
	n, err := pruneHistories(ctx, tx, keys, w.cut, room)
	if err != nil {
		return 0, false, err
	}
	if err := commit(tx); err != nil {
		return 0, false, err
	}
	if n < room {
		w.after, w.unfinished = last, ""
	} else {
		w.unfinished, w.next = keys, last // more may be left: the version that led to it may be gone
	}
	return n, true, nil
}

// walkPage returns the histories of the next limit versions after after
// and before cut, in (time, seq) order, as for pruneHistories, and the
// last of those versions; "" when there are none.
func walkPage(ctx context.Context, tx *sql.Tx, after position, cut int64, limit int) (string, position, error) {
	rows, err := tx.QueryContext(ctx, `SELECT time, seq, entity, id FROM versions
		WHERE (time, seq) > (?, ?) AND time < ? ORDER BY time, seq LIMIT ?`, after.time, after.seq, cut, limit)
	if err != nil {
		return "", after, fmt.Errorf("walk versions: %w", err)
	}
	defer rows.Close()
	var keys [][2]string
	seen := map[[2]string]bool{}
	last := after
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&last.time, &last.seq, &k[0], &k[1]); err != nil {
			return "", after, fmt.Errorf("walk versions: %w", err)
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if err := rows.Err(); err != nil || len(keys) == 0 {
		return "", after, err
	}
	b, err := json.Marshal(keys)
	return string(b), last, err
}

func commit(tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// pruneHistories deletes, oldest first and at most limit of them, the
// versions older than cut of the histories keys names (a JSON list of
// [entity, id] pairs) but the newest of each, and that one too when it is
// a deletion. Oldest first, a deletion goes only after every older version
// of its history: one left behind would become the newest and bring the
// deleted thing back.
//
// A deletion stays when a version with an older seq but a time at or after
// cut exists (the clock went back between the two): TopologyAt picks the
// highest seq, so without the deletion it would pick that version instead.
func pruneHistories(ctx context.Context, tx *sql.Tx, keys string, cut, limit int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM versions WHERE seq IN (
		SELECT v.seq FROM json_each(?1) k
		JOIN versions v ON v.id = k.value ->> 1 AND v.entity = k.value ->> 0
		WHERE v.time < ?2 AND (
			v.seq < (SELECT MAX(seq) FROM versions m WHERE m.id = v.id AND m.entity = v.entity AND m.time < ?2)
			OR v.change = ?3 AND NOT EXISTS (SELECT 1 FROM versions u
				WHERE u.id = v.id AND u.entity = v.entity AND u.time >= ?2 AND u.seq < v.seq))
		ORDER BY v.seq LIMIT ?4)`, keys, cut, model.Deleted, limit)
	if err != nil {
		return 0, fmt.Errorf("prune versions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune versions: %w", err)
	}
	return n, nil
}

// HistoryStart implements store.Topology.
func (s *Store) HistoryStart(ctx context.Context) (time.Time, error) {
	return historyStart(ctx, s.db)
}

func historyStart(ctx context.Context, q querier) (time.Time, error) {
	ns, err := stateNanos(ctx, q, keyPrunedBefore)
	if err != nil || ns == 0 {
		return time.Time{}, err
	}
	return time.Unix(0, ns).UTC(), nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// stateNanos reads a time in unix nanoseconds from the state table, 0 when
// it is not there.
func stateNanos(ctx context.Context, q querier, key string) (int64, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
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
	_, err := q.ExecContext(ctx, `INSERT INTO state(key, value) VALUES(?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, []byte(strconv.FormatInt(ns, 10)))
	if err != nil {
		return fmt.Errorf("put state %q: %w", key, err)
	}
	return nil
}

// Package store defines the storage contracts of skymap. Each backend
// (embedded: SQLite and DuckDB; cluster: PostgreSQL, and ClickHouse later)
// implements them and must pass the same conformance tests, storetest.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// ErrNotFound is returned when a requested item does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when a name that must be unique is taken.
var ErrExists = errors.New("already exists")

// ErrLocked is returned when another process already holds a data directory.
var ErrLocked = errors.New("data directory in use")

// ErrPruned is returned when asked for history older than what is kept:
// see Topology.HistoryStart.
var ErrPruned = errors.New("history pruned")

// Topology persists the topology graph and its history.
type Topology interface {
	topology.Store
	// LoadTopology returns everything Commit stored, for a graph to start from.
	LoadTopology(ctx context.Context) (*topology.State, error)
	// Versions returns history entries matching q, oldest first.
	Versions(ctx context.Context, q VersionQuery) ([]model.Version, error)
	// TopologyAt returns the components and relations as they were at a
	// time (relations with both ends written as component ids). It fails
	// with ErrPruned for a time before HistoryStart.
	TopologyAt(ctx context.Context, at time.Time) ([]model.Component, []model.Relation, error)
	// PruneHistory deletes the versions that TopologyAt no longer needs
	// for times at or after before: of each component and relation, every
	// version older than before but the newest of them, and that one too
	// when it is a deletion. Versions at or after before stay. It returns
	// how many versions it deleted. It deletes in small transactions, so
	// that writers wait briefly; after an error or a cancellation what it
	// deleted stays deleted, and calling it again finishes the work. From
	// its first deletion on, HistoryStart is at least before. A zero before
	// deletes nothing.
	PruneHistory(ctx context.Context, before time.Time) (int64, error)
	// HistoryStart returns the earliest time TopologyAt answers for: the
	// latest cutoff given to PruneHistory, or zero when the history was
	// never pruned. Versions before it may be missing.
	HistoryStart(ctx context.Context) (time.Time, error)
}

// VersionQuery selects history entries. Zero fields do not filter.
type VersionQuery struct {
	ID       string    // component id or relation id
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	AfterSeq int64
	Limit    int // 0 means 1000
	// Latest selects the newest Limit entries instead of the oldest; they
	// are still returned oldest first.
	Latest bool
}

// State keeps small values collectors and the scheduler need across
// restarts: cursors, last scan times, call statuses.
type State interface {
	// GetState returns the value under key, or ErrNotFound.
	GetState(ctx context.Context, key string) ([]byte, error)
	// PutState stores value under key, replacing any previous value.
	PutState(ctx context.Context, key string, value []byte) error
}

// Views keeps the views users define (built-in views come from the
// configuration and are not stored).
type Views interface {
	// ListViews returns every stored view, by name.
	ListViews(ctx context.Context) ([]model.View, error)
	// PutView stores v under v.ID, replacing the view stored there. It
	// fails with ErrExists when another view has v's name, ignoring case.
	PutView(ctx context.Context, v model.View) error
	// DeleteView deletes the view id, or fails with ErrNotFound.
	DeleteView(ctx context.Context, id string) error
}

package app

import (
	"context"

	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/embedded"
	"github.com/skymap/skymap/internal/store/postgres"
)

// mapStore is where serve keeps the map, its history, the collectors'
// state and the views.
type mapStore interface {
	store.Topology
	store.State
	store.Views
	Close() error
}

var (
	_ mapStore = (*embedded.Store)(nil)
	_ mapStore = (*postgres.Store)(nil)
)

// openMapStore opens the PostgreSQL database of storage.postgres.dsn, or
// else the data dir's SQLite, and makes this process its only writer. It
// returns which it opened, for the log: "postgres" or "sqlite".
func openMapStore(ctx context.Context, s config.Storage, dir string) (mapStore, string, error) {
	if s.PostgresDSN == "" {
		st, err := embedded.Open(ctx, dir)
		if err != nil {
			return nil, "", err
		}
		return st, "sqlite", nil
	}
	st, err := postgres.Open(ctx, s.PostgresDSN.Reveal())
	if err != nil {
		return nil, "", err
	}
	if err := st.LockWriter(ctx); err != nil {
		st.Close()
		return nil, "", err
	}
	return st, "postgres", nil
}

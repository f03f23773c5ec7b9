package embedded

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/storetest"
)

// open opens a store in a new data dir, with prune transactions of batch
// versions (0: the default), and returns it with a func that closes and
// opens it again. What is open is closed at the test's cleanup.
func open(t *testing.T, batch int) (*Store, func() *Store) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if batch > 0 {
		s.pruneBatch = batch
	}
	t.Cleanup(func() { s.Close() })
	return s, func() *Store {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if s, err = Open(context.Background(), dir); err != nil {
			t.Fatal(err)
		}
		if batch > 0 {
			s.pruneBatch = batch
		}
		return s
	}
}

func openTopology(batch int) storetest.OpenTopology {
	return func(t *testing.T) (store.Topology, func() store.Topology) {
		s, reopen := open(t, batch)
		return s, func() store.Topology { return reopen() }
	}
}

func TestTopology(t *testing.T) {
	storetest.Topology(t, openTopology(0))
}

func TestState(t *testing.T) {
	storetest.State(t, func(t *testing.T) (store.State, func() store.State) {
		s, reopen := open(t, 0)
		return s, func() store.State { return reopen() }
	})
}

func TestViews(t *testing.T) {
	storetest.Views(t, func(t *testing.T) (store.Views, func() store.Views) {
		s, reopen := open(t, 0)
		return s, func() store.Views { return reopen() }
	})
}

func TestOneProcessPerDataDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir)
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	s.Close()
	s3, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}

// TestRelationsMigrateToKeyedTable opens a data directory written by a
// skymap whose relations table was keyed by position, and finds its
// relations (a duplicate among them kept once, the later one).
func TestRelationsMigrateToKeyedTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "skymap.db"))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{migrations[0], `PRAGMA user_version = 1`,
		`INSERT INTO relations VALUES ('1', 'r', 'a', 0, '{"source":"x","target":"y","type":"uses-service","data":{"v":1}}')`,
		`INSERT INTO relations VALUES ('1', 'r', 'a', 1, '{"source":"x","target":"z","type":"uses-service","data":{}}')`,
		`INSERT INTO relations VALUES ('1', 'r', 'a', 2, '{"source":"x","target":"y","type":"uses-service","data":{"v":2}}')`,
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.LoadTopology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[model.Scope][]model.Relation{{Account: "1", Region: "r", Type: "a"}: {
		{Source: "x", Target: "y", Type: "uses-service", Data: map[string]any{"v": float64(2)}},
		{Source: "x", Target: "z", Type: "uses-service", Data: map[string]any{}},
	}}
	if d := cmp.Diff(want, st.Relations); d != "" {
		t.Errorf("relations after migration (-want +got):\n%s", d)
	}
}

// TestNewerSchemaRefused opens a database a newer skymap migrated.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "skymap.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := Open(ctx, dir); err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer skymap succeeded")
	}
}

func BenchmarkTopology(b *testing.B) {
	storetest.BenchmarkTopology(b, storetest.BenchSize(b, 20000), func(b *testing.B) store.Topology {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/postgres/pgtest"
	"github.com/skymap/skymap/internal/store/storetest"
	"github.com/skymap/skymap/internal/topology"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open opens a store on a new database, with prune transactions of batch
// versions (0: the default), and returns it with a func that closes and
// opens it again. What is open is closed at the test's cleanup.
func open(t *testing.T, batch int) (*Store, func() *Store) {
	t.Helper()
	dsn := pgtest.DSN(t)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if batch > 0 {
		s.pruneBatch = batch
	}
	t.Cleanup(func() { s.Close() })
	return s, func() *Store {
		s.Close()
		if s, err = Open(context.Background(), dsn); err != nil {
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
	t.Parallel()
	storetest.Topology(t, openTopology(0))
}

// TestPruneHistoryBatches prunes in transactions of 1 and 2 versions,
// which cut histories in the middle.
func TestPruneHistoryBatches(t *testing.T) {
	t.Parallel()
	for _, batch := range []int{1, 2} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			storetest.PruneHistory(t, openTopology(batch))
		})
	}
}

func TestState(t *testing.T) {
	t.Parallel()
	storetest.State(t, func(t *testing.T) (store.State, func() store.State) {
		s, reopen := open(t, 0)
		return s, func() store.State { return reopen() }
	})
}

func TestViews(t *testing.T) {
	t.Parallel()
	storetest.Views(t, func(t *testing.T) (store.Views, func() store.Views) {
		s, reopen := open(t, 0)
		return s, func() store.Views { return reopen() }
	})
}

// TestPruneHistoryInterrupted stops a prune after its first transaction,
// as when the process dies, and runs it again.
func TestPruneHistoryInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := open(t, 2)
	check := storetest.WritePruneHistory(t, s)
	w := &pruneWalk{cut: storetest.PruneCut.UnixNano()}
	if n, _, err := s.pruneStep(ctx, w, true); n != 2 || err != nil {
		t.Fatalf("first step: %d, %v; want 2 versions deleted", n, err)
	}
	if start, err := s.HistoryStart(ctx); err != nil || !start.Equal(storetest.PruneCut) {
		t.Errorf("HistoryStart once versions are gone = %v, %v; want %v", start, err, storetest.PruneCut)
	}
	if _, _, err := s.TopologyAt(ctx, storetest.PruneCut.Add(-1)); !errors.Is(err, store.ErrPruned) {
		t.Errorf("TopologyAt before the cut once versions are gone: %v, want ErrPruned", err)
	}
	if _, err := s.PruneHistory(ctx, storetest.PruneCut); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestNewerSchemaRefused opens a database a newer skymap migrated.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE schema_version SET version = 999`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer skymap succeeded")
	}
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "999") ||
		!strings.Contains(err.Error(), fmt.Sprint(len(migrations))) {
		t.Errorf("Open of a newer schema: %v; want ErrSchemaTooNew naming both versions", err)
	}
}

// TestOpenTogether opens one new database from several processes at once
// (as workers starting together do): one migrates, the others wait.
func TestOpenTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(ctx, dsn)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil || v != len(migrations) {
		t.Errorf("schema version = %d, %v; want %d", v, err, len(migrations))
	}
}

// TestOpenErrorHidesPassword checks that a failed Open does not print the
// connection string's password.
func TestOpenErrorHidesPassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, dsn := range []string{
		"postgres://skymap:s3cret-pw@127.0.0.1:1/skymap?connect_timeout=1",
		"host=127.0.0.1 port=1 user=skymap password=s3cret-pw connect_timeout=1",
		"postgres://skymap:s3cret-pw@[bad",
	} {
		s, err := Open(ctx, dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

// TestCommitIsAtomic commits a change whose last statement fails, and
// finds nothing of it stored.
func TestCommitIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := open(t, 0)
	sc := model.Scope{Account: "1", Region: "r", Type: "a"}
	c := topology.Change{
		Upserted: []topology.Owned{{Scope: sc, Component: model.Component{ID: "c1", Type: "a"}}},
		Versions: []model.Version{{Entity: topology.EntityComponent, ID: "c1", Change: model.Created, Cause: "scan",
			State: []byte(`{"id":"c1"}`)}},
	}
	// A NUL byte is valid in Go strings but refused by PostgreSQL's text.
	c.Versions[0].Cause = "scan\x00"
	err := s.Commit(ctx, c)
	if err == nil {
		t.Fatal("Commit of a version PostgreSQL refuses succeeded")
	}
	t.Logf("Commit: %v", err)
	st, err := s.LoadTopology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Components) != 0 {
		t.Errorf("components after a failed commit = %v, want none", st.Components)
	}
}

// TestLockWriter takes the writer lock from two stores of one database:
// the second fails until the first closes.
func TestLockWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	var stores []*Store
	for range 2 {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	if err := stores[0].LockWriter(ctx); err != nil {
		t.Fatal(err)
	}
	err := stores[1].LockWriter(ctx)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "another skymap serve") {
		t.Fatalf("second LockWriter: %v, want ErrLocked", err)
	}
	stores[0].Close()
	if err := stores[1].LockWriter(ctx); err != nil {
		t.Errorf("LockWriter once the first closed: %v", err)
	}
}

func BenchmarkTopology(b *testing.B) {
	storetest.BenchmarkTopology(b, storetest.BenchSize(b, 20000), func(b *testing.B) store.Topology {
		s, err := Open(context.Background(), pgtest.DSN(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

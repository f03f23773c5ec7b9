package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/postgres"
	"github.com/skymap/skymap/internal/store/postgres/pgtest"
	"github.com/skymap/skymap/internal/topology"
)

// TestServeOnPostgres serves the history stored in PostgreSQL
// (storage.postgres), refuses a second serve on the same database, and
// never logs the connection string's password.
func TestServeOnPostgres(t *testing.T) {
	// The server trusts loopback, so it ignores the password: the test
	// only looks for it in the log.
	const password = "pg-test-s3cret"
	dsn := pgtest.DSN(t)
	switch {
	case !strings.HasPrefix(dsn, "postgres"):
		dsn += " password=" + password
	case strings.Contains(dsn, "@"):
		t.Skip("SKYMAP_TEST_POSTGRES has credentials of its own")
	case strings.Contains(dsn, "?"):
		dsn += "&password=" + password
	default:
		dsn += "?password=" + password
	}
	ctx := context.Background()
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	err = pg.Commit(ctx, topology.Change{Versions: []model.Version{
		{Time: at, Entity: topology.EntityComponent, ID: "i-1", Change: model.Created, State: []byte(`{"id":"i-1"}`), Cause: "test"},
	}})
	pg.Close()
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	// Nothing to scan: every AWS call fails at once.
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
init_config: {aws_access_key_id: AKIAEXAMPLE, aws_secret_access_key: example}
instances: [{regions: [eu-west-1]}]
aws: {endpoint_url: 'http://%s', max_attempts: 1}
storage: {postgres: {dsn: '%s'}}
`, closed, dsn)))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	serve := func(ctx context.Context, ready func(string)) error {
		return Serve(ctx, cfg, ServeOptions{Options: Options{Logger: log}, DataDir: t.TempDir(), Listen: "127.0.0.1:0",
			Ready: ready, EventInterval: time.Hour})
	}
	ctx, cancel := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, func(a string) { ready <- a }) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}

	var changes struct {
		Versions []model.Version `json:"versions"`
	}
	getJSON(t, "http://"+addr+"/api/changes", &changes)
	got := []string{}
	for _, v := range changes.Versions {
		got = append(got, v.ID+" "+v.Change+" "+v.Time.UTC().Format(time.RFC3339))
	}
	if d := cmp.Diff([]string{"i-1 created " + at.Format(time.RFC3339)}, got); d != "" {
		t.Errorf("changes served from PostgreSQL (-want +got):\n%s", d)
	}

	err = serve(context.Background(), func(string) { t.Error("a second serve on the database started") })
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Serve on the database: %v, want ErrLocked", err)
	}
	if err != nil && strings.Contains(err.Error(), password) {
		t.Errorf("second Serve's error shows the password: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if !strings.Contains(logs.String(), "storage=postgres") {
		t.Errorf("the log does not say the storage is postgres:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), password) {
		t.Errorf("the log shows the password:\n%s", logs.String())
	}
}

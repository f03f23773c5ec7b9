package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"host=127.0.0.1 port=5432 user=postgres dbname=postgres", "host=127.0.0.1 port=5432 user=postgres dbname=postgres dbname=t1"},
		{"postgres://u:pw@db:5432/postgres?sslmode=disable", "postgres://u:pw@db:5432/t1?sslmode=disable"},
		{"postgresql://db", "postgresql://db/t1"},
	} {
		got, err := withDatabase(tc.dsn, "t1")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
		}
	}
}

// TestServerRestart stops and starts a server of the test's own: its data
// stays, and connections are refused while it is down.
func TestServerRestart(t *testing.T) {
	ctx := context.Background()
	srv := NewServer(t)
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, srv.DSN()+" connect_timeout=2")
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(`CREATE TABLE kept (x int); INSERT INTO kept VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := exec(`SELECT 1`); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := exec(`SELECT x FROM kept`); err != nil {
		t.Errorf("after a restart: %v", err)
	}
}

package pgtest

import "testing"

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

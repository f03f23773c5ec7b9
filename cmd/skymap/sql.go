package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/flowdb"
)

// runSQL runs one read-only SELECT over the flow tables (vpc_flow_logs,
// flow_rollups, components), asked of a running `skymap serve` (which
// holds the flows database) or, with --data, of a data directory no
// server has open.
func runSQL(ctx context.Context, m *Main, args []string) int {
	fs := m.flags("sql", `sql [--server URL | --data DIR] [--output table|json|csv] [--max-rows N] "SELECT ..." (or - to read it from stdin)`)
	server := fs.String("server", "http://127.0.0.1:8080", "URL of a running `skymap serve`")
	data := fs.String("data", "", "data directory to open directly (holding flows.duckdb), when no server runs")
	output := fs.String("output", "table", "table, json or csv")
	maxRows := fs.Int("max-rows", 1000, "most rows to return (1 to 100000)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	serverSet := false
	fs.Visit(func(f *flag.Flag) { serverSet = serverSet || f.Name == "server" })
	switch {
	case fs.NArg() != 1, *output != "table" && *output != "json" && *output != "csv", *maxRows < 1 || *maxRows > 100000:
		fs.Usage()
		return exitUsage
	case serverSet && *data != "":
		fmt.Fprintln(m.Stderr, "skymap sql: give --server or --data, not both")
		return exitUsage
	}
	query := fs.Arg(0)
	if query == "-" {
		b, err := io.ReadAll(io.LimitReader(m.Stdin, 1<<20))
		if err != nil {
			fmt.Fprintf(m.Stderr, "skymap sql: read query from stdin: %v\n", err)
			return exitFailure
		}
		query = string(b)
	}
	var res *store.SQLResult
	var raw []byte
	var err error
	if *data != "" {
		res, err = sqlFromDir(ctx, *data, query, *maxRows)
	} else {
		res, raw, err = sqlFromServer(ctx, m, *server, query, *maxRows)
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "skymap sql: %s\n", safe(err.Error()))
		return exitFailure
	}
	switch *output {
	case "json":
		if raw == nil {
			raw, _ = json.MarshalIndent(res, "", "  ")
			raw = append(raw, '\n')
		}
		m.Stdout.Write(raw)
	case "csv":
		w := csv.NewWriter(m.Stdout)
		w.Write(res.Columns)
		for _, row := range res.Rows {
			rec := make([]string, len(row))
			for i, v := range row {
				rec[i] = cell(v, "")
			}
			w.Write(rec)
		}
		w.Flush()
	default:
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		heads := make([]string, len(res.Columns))
		for i, c := range res.Columns {
			heads[i] = safe(c)
		}
		fmt.Fprintln(tw, strings.Join(heads, "\t"))
		for _, row := range res.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				// Tabs and newlines in values would break the alignment.
				cells[i] = safe(cell(v, "NULL"))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		tw.Flush()
	}
	if res.Truncated {
		fmt.Fprintf(m.Stderr, "skymap sql: only the first %d rows shown; raise --max-rows or narrow the query\n", len(res.Rows))
	}
	return exitOK
}

// cell is a value as text: strings as they are, null as null, numbers and
// the rest as JSON.
func cell(v any, null string) string {
	switch x := v.(type) {
	case nil:
		return null
	case string:
		return x
	case json.Number:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// sqlFromServer asks a running server; it returns the answer decoded and
// as sent.
func sqlFromServer(ctx context.Context, m *Main, server, query string, maxRows int) (*store.SQLResult, []byte, error) {
	reqBody, _ := json.Marshal(map[string]any{"query": query, "max_rows": maxRows})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(server, "/")+"/api/sql", bytes.NewReader(reqBody))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	m.authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("ask %s: %w (is `skymap serve` running? --data DIR reads a data directory no server holds)", server, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error struct{ Message string } }
		json.Unmarshal(body, &e)
		return nil, nil, fmt.Errorf("%s: %s", resp.Status, e.Error.Message)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // keep 64-bit counters exact
	var res store.SQLResult
	if err := dec.Decode(&res); err != nil {
		return nil, nil, fmt.Errorf("answer is not a query result: %w", err)
	}
	return &res, body, nil
}

// sqlFromDir opens the flows database of a data directory.
func sqlFromDir(ctx context.Context, dir, query string, maxRows int) (*store.SQLResult, error) {
	// Open would create a database: a mistyped directory must not look
	// like an empty one.
	if _, err := os.Stat(filepath.Join(dir, "flows.duckdb")); err != nil {
		return nil, fmt.Errorf("no flows database in %s: %w", dir, err)
	}
	db, err := flowdb.Open(dir, flowdb.Options{})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: a running `skymap serve` holds it: ask it with --server", err)
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.FlowSQL(ctx, query, maxRows)
}

package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/skymap/skymap/internal/store"
)

// DefaultMaxRows is what FlowSQL returns at most when asked for 0 rows.
const DefaultMaxRows = 1000

// FlowSQL implements store.Flows. The query must be one SELECT (or WITH)
// statement; it runs with readonly=1, which refuses writes, settings and
// table functions (file, url, remote...), and within the QueryTimeout and
// QueryMemory. It may name the views and tables of the store's database
// meant for users only (vpc_flow_logs, flow_rollups, flow_objects,
// components): a name qualified by another database, system's included,
// and the internal tables (internalTables), which hold uncommitted
// attempts, are refused. maxRows 0 means DefaultMaxRows.
func (d *DB) FlowSQL(ctx context.Context, query string, maxRows int) (*store.SQLResult, error) {
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	query = strings.TrimRight(strings.TrimSpace(query), "; \t\r\n")
	if query == "" {
		return nil, badQuery("empty query")
	}
	dbs, err := d.c.strings(ctx, `SELECT name FROM system.databases`)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: query: list databases: %w", err)
	}
	if err := checkQuery(query, d.opts.Database, dbs); err != nil {
		return nil, err
	}
	// The limit is applied around the query; a FORMAT, SETTINGS or INTO
	// OUTFILE clause is a syntax error inside the parentheses, and the
	// newlines end a trailing comment.
	wrapped := "SELECT * FROM (\n" + query + "\n) LIMIT " + strconv.Itoa(maxRows+1)
	settings := url.Values{
		"max_execution_time": {strconv.Itoa(int(math.Ceil(d.opts.QueryTimeout.Seconds())))},
		"max_memory_usage":   {strconv.FormatInt(d.opts.QueryMemory, 10)},
		"readonly":           {"1"},
	}
	r, err := d.c.query(ctx, wrapped, settings)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, badQuery("%s", userMessage(ce.Message))
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("clickhouse: query: %w", ctx.Err())
		}
		return nil, fmt.Errorf("clickhouse: query: %w", err)
	}
	res := &store.SQLResult{Columns: make([]string, len(r.Meta)), Rows: [][]any{}}
	for i, m := range r.Meta {
		res.Columns[i] = m.Name
	}
	for _, row := range r.Data {
		if len(res.Rows) == maxRows {
			res.Truncated = true
			break
		}
		for i, v := range row {
			row[i] = jsonValue(v)
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// exceptionNoise is what ClickHouse wraps its messages in.
var exceptionNoise = regexp.MustCompile(`^Code: \d+[.,] (e\.displayText\(\) = )?(DB::Exception: )?|, e\.what\(\) = DB::Exception$|\s*\(version [^)]*\)\s*$`)

// userMessage is an exception's message without ClickHouse's wrapping.
func userMessage(msg string) string {
	for range 3 {
		msg = strings.TrimSpace(exceptionNoise.ReplaceAllString(msg, ""))
	}
	return msg
}

// jsonValue converts a decoded JSONCompact value: json.Numbers become
// int64, uint64 or float64.
func jsonValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return n
		}
		if n, err := strconv.ParseUint(x.String(), 10, 64); err == nil {
			return n
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case []any:
		for i := range x {
			x[i] = jsonValue(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = jsonValue(x[k])
		}
		return x
	}
	return v
}

// internalTables are the tables behind the views, which users may not
// name: flow_raw and flow_rollup_rows hold the rows of uncommitted
// attempts too. A column or alias of these names is refused as well.
var internalTables = []string{"flow_raw", "flow_records", "flow_rollup_rows", "schema_migrations"}

const queryThese = "query vpc_flow_logs, flow_rollups, flow_objects and components"

// checkQuery refuses what is not one SELECT or WITH statement, names
// qualified by a database other than own (any of dbs, and system and
// information_schema always) and the names of internal tables.
func checkQuery(query, own string, dbs []string) error {
	toks, err := tokens(query)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return badQuery("empty query")
	}
	first := strings.ToUpper(toks[0].text)
	if toks[0].quoted || (first != "SELECT" && first != "WITH" && first != "(") {
		return badQuery("only a SELECT statement may run")
	}
	other := map[string]bool{"system": true, "information_schema": true}
	for _, db := range dbs {
		if db != own {
			other[strings.ToLower(db)] = true
		}
	}
	for i, t := range toks {
		if t.text == ";" {
			return badQuery("want exactly one SELECT statement")
		}
		if t.ident && i+1 < len(toks) && toks[i+1].text == "." && !toks[i+1].quoted && other[strings.ToLower(t.text)] {
			return badQuery("database %s is not allowed: %s", t.text, queryThese)
		}
		if t.ident && slices.Contains(internalTables, strings.ToLower(t.text)) {
			return badQuery("table %s is internal: %s", t.text, queryThese)
		}
	}
	return nil
}

type token struct {
	text   string
	ident  bool // a name, bare or quoted
	quoted bool // quoted: a string literal or a quoted name
}

// tokens splits a query the way ClickHouse's lexer does, as far as
// checkQuery needs: names (bare, "quoted" or `quoted`), string literals,
// comments (dropped) and single other characters.
func tokens(q string) ([]token, error) {
	var out []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				return out, nil
			}
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return nil, badQuery("unterminated comment")
			}
			i += j + 4
		case c == '\'' || c == '"' || c == '`':
			var b strings.Builder
			j := i + 1
			for ; j < len(q); j++ {
				if q[j] == '\\' && j+1 < len(q) {
					b.WriteByte(q[j+1])
					j++
					continue
				}
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote
						b.WriteByte(c)
						j++
						continue
					}
					break
				}
				b.WriteByte(q[j])
			}
			if j >= len(q) {
				return nil, badQuery("unterminated quote %c", c)
			}
			out = append(out, token{text: b.String(), ident: c != '\'', quoted: true})
			i = j + 1
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			j := i
			for j < len(q) && (q[j] == '_' || q[j] == '$' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z' ||
				q[j] >= '0' && q[j] <= '9' || q[j] >= 0x80) {
				j++
			}
			out = append(out, token{text: q[i:j], ident: true})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(q) && (q[j] == '.' || q[j] == '_' || q[j] >= '0' && q[j] <= '9' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z') {
				j++
			}
			out = append(out, token{text: q[i:j]})
			i = j
		default:
			out = append(out, token{text: string(c)})
			i++
		}
	}
	return out, nil
}

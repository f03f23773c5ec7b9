package flowdb

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/skymap/skymap/internal/store"
)

// DefaultMaxRows is what FlowSQL returns at most when asked for 0 rows.
const DefaultMaxRows = 1000

// queryTables are the tables and views user SQL may name, besides its own
// common table expressions and information_schema.
var queryTables = map[string]bool{"vpc_flow_logs": true, "flow_rollups": true, "components": true, "flow_objects": true}

// refusedFunctions are scalar functions user SQL may not call: they touch
// the environment, sequences or run SQL given as data.
var refusedFunctions = map[string]bool{
	"getenv": true, "nextval": true, "setval": true, "currval": true,
	"json_execute_serialized_sql": true, "json_deserialize_sql": true,
	"checkpoint": true, "force_checkpoint": true,
}

// FlowSQL implements store.Flows. The query must be one SELECT naming only
// the flows tables (vpc_flow_logs, flow_rollups, components, flow_objects)
// and its own CTEs: no table functions (read_csv, query...), no file
// names, no other catalogs. It runs in a read-only transaction that is
// rolled back, until ctx ends. maxRows 0 means DefaultMaxRows.
func (d *DB) FlowSQL(ctx context.Context, query string, maxRows int) (*store.SQLResult, error) {
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	query = strings.TrimRight(strings.TrimSpace(query), "; \t\r\n")
	if query == "" {
		return nil, badQuery("empty query")
	}
	if err := d.checkQuery(ctx, query); err != nil {
		return nil, err
	}
	// The limit is applied around the query, so DuckDB stops early; the
	// wrapped text is checked again, so nothing in query can escape it.
	wrapped := "SELECT * FROM (\n" + query + "\n) AS q LIMIT " + fmt.Sprint(maxRows+1)
	if err := d.checkQuery(ctx, wrapped); err != nil {
		return nil, err
	}
	if err := d.refreshComponents(ctx); err != nil {
		return nil, err
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("flowdb: query: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION READ ONLY`); err != nil {
		return nil, fmt.Errorf("flowdb: query: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
	// Binding the query as the user wrote it gives errors whose line
	// numbers are the user's.
	if stmt, err := conn.PrepareContext(ctx, query); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("flowdb: query: %w", ctx.Err())
		}
		return nil, badQuery("%s", duckMessage(err))
	} else {
		stmt.Close()
	}
	rows, err := conn.QueryContext(ctx, wrapped)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("flowdb: query: %w", ctx.Err())
		}
		return nil, badQuery("%s", duckMessage(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("flowdb: query: %w", err)
	}
	types, _ := rows.ColumnTypes()
	res := &store.SQLResult{Columns: cols, Rows: [][]any{}}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if len(res.Rows) == maxRows {
			res.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, badQuery("%s", duckMessage(err))
		}
		row := make([]any, len(cols))
		for i, v := range vals {
			typ := ""
			if i < len(types) {
				typ = types[i].DatabaseTypeName()
			}
			row[i] = jsonValue(v, typ)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("flowdb: query: %w", ctx.Err())
		}
		return nil, badQuery("%s", duckMessage(err))
	}
	return res, nil
}

// checkQuery parses query with DuckDB's own parser (json_serialize_sql
// serializes SELECT statements only) and walks the tree for what user SQL
// may not do.
func (d *DB) checkQuery(ctx context.Context, query string) error {
	var doc string
	if err := d.db.QueryRowContext(ctx, `SELECT json_serialize_sql(?::VARCHAR)::VARCHAR`, query).Scan(&doc); err != nil {
		return fmt.Errorf("flowdb: parse query: %w", err)
	}
	var tree struct {
		Error        bool   `json:"error"`
		ErrorType    string `json:"error_type"`
		ErrorMessage string `json:"error_message"`
		Statements   []any  `json:"statements"`
	}
	if err := json.Unmarshal([]byte(doc), &tree); err != nil {
		return fmt.Errorf("flowdb: parse query: %w", err)
	}
	if tree.Error {
		if tree.ErrorType == "not implemented" {
			return badQuery("only a SELECT statement may run")
		}
		return badQuery("%s", tree.ErrorMessage)
	}
	if len(tree.Statements) != 1 {
		return badQuery("want exactly one SELECT statement, got %d statements", len(tree.Statements))
	}
	ctes := map[string]bool{}
	collectCTEs(tree.Statements[0], ctes)
	return checkNode(tree.Statements[0], ctes)
}

// collectCTEs gathers the names of the common table expressions.
func collectCTEs(n any, into map[string]bool) {
	switch v := n.(type) {
	case map[string]any:
		if cm, ok := v["cte_map"].(map[string]any); ok {
			if entries, ok := cm["map"].([]any); ok {
				for _, e := range entries {
					if m, ok := e.(map[string]any); ok {
						if k, ok := m["key"].(string); ok {
							into[strings.ToLower(k)] = true
						}
					}
				}
			}
		}
		for _, c := range v {
			collectCTEs(c, into)
		}
	case []any:
		for _, c := range v {
			collectCTEs(c, into)
		}
	}
}

// checkNode refuses table functions, tables outside the flows tables and
// the CTEs, and refused scalar functions, anywhere in the tree.
func checkNode(n any, ctes map[string]bool) error {
	switch v := n.(type) {
	case map[string]any:
		switch v["type"] {
		case "TABLE_FUNCTION":
			name := "?"
			if f, ok := v["function"].(map[string]any); ok {
				name, _ = f["function_name"].(string)
			}
			return badQuery("table function %s is not allowed: query the tables vpc_flow_logs, flow_rollups and components", name)
		case "BASE_TABLE":
			catalog, _ := v["catalog_name"].(string)
			schema, _ := v["schema_name"].(string)
			table, _ := v["table_name"].(string)
			lt := strings.ToLower(table)
			switch {
			case catalog == "" && strings.EqualFold(schema, "information_schema"):
			case catalog == "" && (schema == "" || strings.EqualFold(schema, "main")) && (queryTables[lt] || (schema == "" && ctes[lt])):
			default:
				return badQuery("table %q is not allowed: query the tables vpc_flow_logs, flow_rollups and components", table)
			}
		}
		if v["class"] == "FUNCTION" {
			if name, _ := v["function_name"].(string); refusedFunctions[strings.ToLower(name)] {
				return badQuery("function %s is not allowed", name)
			}
		}
		for _, c := range v {
			if err := checkNode(c, ctes); err != nil {
				return err
			}
		}
	case []any:
		for _, c := range v {
			if err := checkNode(c, ctes); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonValue converts a scanned DuckDB value to one encoding/json writes
// faithfully.
func jsonValue(v any, typ string) any {
	switch x := v.(type) {
	case nil, bool, string, int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		return x
	case float32:
		return jsonFloat(float64(x))
	case float64:
		return jsonFloat(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		if x.IsUint64() {
			return x.Uint64()
		}
		return x.String()
	case time.Time:
		switch typ {
		case "DATE":
			return x.Format(time.DateOnly)
		case "TIME":
			return x.Format("15:04:05.999999")
		}
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		if typ == "UUID" && len(x) == 16 {
			return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:])
		}
		return x // base64
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d microseconds", x.Months, x.Days, x.Micros)
	case duckdb.Decimal:
		return jsonFloat(x.Float64())
	case duckdb.UUID:
		return (&x).String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e, "")
		}
		return out
	case duckdb.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonValue(e, "")
		}
		return out
	case duckdb.OrderedMap:
		keys, vals := x.Keys(), x.Values()
		out := make(map[string]any, len(keys))
		for i, k := range keys {
			out[fmt.Sprint(k)] = jsonValue(vals[i], "")
		}
		return out
	case fmt.Stringer:
		return x.String()
	default:
		if b, err := json.Marshal(x); err == nil {
			return json.RawMessage(b)
		}
		return fmt.Sprint(x)
	}
}

// jsonFloat keeps NaN and infinities, which JSON has no numbers for, as
// text.
func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return f
}

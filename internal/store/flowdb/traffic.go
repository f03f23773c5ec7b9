package flowdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/store"
)

// deduped selects the rollups that q selects, keeping per conversation and
// minute only the server side's reports when its interface reported the
// minute, else the client side's: a conversation seen by both ends is
// counted once. Its text takes the parameters args, all bound.
func deduped(q store.FlowQuery) (sql string, args []any, err error) {
	var conds []string
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if !q.From.IsZero() {
		add("minute >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		add("minute < ?", q.To.UTC())
	}
	c := q.Component
	if c != "" {
		add("(client = ? OR server = ?)", c, c)
	}
	if q.Addr.IsValid() {
		lo, hi := prefixRange(q.Addr)
		add("(client_addr_key BETWEEN ? AND ? OR server_addr_key BETWEEN ? AND ?)", lo, hi, lo, hi)
	}
	needComponent := func(what string) error {
		return badQuery("%s needs a component", what)
	}
	switch q.Direction {
	case "":
	case "inbound":
		if c == "" {
			return "", nil, needComponent("direction")
		}
		add("server = ?", c)
	case "outbound":
		if c == "" {
			return "", nil, needComponent("direction")
		}
		add("client = ?", c)
	default:
		return "", nil, badQuery("direction %q: want inbound or outbound", q.Direction)
	}
	if q.Port != 0 {
		add("server_port = ?", q.Port)
	}
	if q.LocalPort != 0 {
		if c == "" {
			return "", nil, needComponent("local port")
		}
		add("(server = ? AND server_port = ?)", c, q.LocalPort)
	}
	if q.RemotePort != 0 {
		if c == "" {
			return "", nil, needComponent("remote port")
		}
		add("(client = ? AND server_port = ?)", c, q.RemotePort)
	}
	if q.Protocol != 0 {
		add("protocol = ?", q.Protocol)
	}
	// Before the choice of side: a conversation between two accounts is
	// counted once, from the side of the account asked for.
	if q.Account != "" {
		add("account = ?", q.Account)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	// The action filter applies after the choice of side: a minute the
	// server side rejected is not counted as the client side's accepted.
	outer := " WHERE reporter = best"
	switch q.Action {
	case "":
	case "ACCEPT", "REJECT":
		outer += " AND action = ?"
		args = append(args, q.Action)
	default:
		return "", nil, badQuery("action %q: want ACCEPT or REJECT", q.Action)
	}
	sql = `(SELECT * FROM (SELECT *, max(reporter) OVER (PARTITION BY client, server, server_port, protocol, minute) AS best
		FROM flow_rollups` + where + `)` + outer + `)`
	return sql, args, nil
}

// sums are the totals FlowTraffic and FlowConversations compute, as
// UBIGINT.
func sum(expr string) string { return "CAST(coalesce(sum(" + expr + "), 0) AS UBIGINT)" }

// FlowTraffic implements store.Flows. A zero q.Step means one minute;
// steps are aligned on the Unix epoch.
func (d *DB) FlowTraffic(ctx context.Context, q store.FlowQuery) ([]store.FlowPoint, error) {
	step := q.Step
	if step <= 0 {
		step = time.Minute
	}
	if step < time.Minute || step%time.Minute != 0 {
		return nil, badQuery("step %s: want whole minutes", step)
	}
	from, args, err := deduped(q)
	if err != nil {
		return nil, err
	}
	// inbound: the queried component is the server; without a component,
	// In is server to client.
	in := "false"
	var inArgs []any
	if q.Component != "" {
		in = "server = ?"
		inArgs = []any{q.Component}
	}
	us := step.Microseconds()
	query := `SELECT (epoch_us(minute) // ?) * ? AS t,
		` + sum("CASE WHEN "+in+" THEN bytes_to_server ELSE bytes_to_client END") + `,
		` + sum("CASE WHEN "+in+" THEN bytes_to_client ELSE bytes_to_server END") + `,
		` + sum("CASE WHEN "+in+" THEN packets_to_server ELSE packets_to_client END") + `,
		` + sum("CASE WHEN "+in+" THEN packets_to_client ELSE packets_to_server END") + `,
		` + sum("CASE WHEN action = 'ACCEPT' THEN records ELSE 0 END") + `,
		` + sum("CASE WHEN action = 'REJECT' THEN records ELSE 0 END") + `
		FROM ` + from + ` AS f GROUP BY t ORDER BY t`
	all := []any{us, us}
	for range 4 {
		all = append(all, inArgs...)
	}
	all = append(all, args...)
	rows, err := d.db.QueryContext(ctx, query, all...)
	if err != nil {
		return nil, fmt.Errorf("flowdb: traffic: %w", err)
	}
	defer rows.Close()
	out := []store.FlowPoint{}
	for rows.Next() {
		var p store.FlowPoint
		var t int64
		if err := rows.Scan(&t, &p.BytesIn, &p.BytesOut, &p.PacketsIn, &p.PacketsOut, &p.Accepted, &p.Rejected); err != nil {
			return nil, fmt.Errorf("flowdb: traffic: %w", err)
		}
		p.Time = time.UnixMicro(t).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("flowdb: traffic: %w", err)
	}
	return out, nil
}

// FlowConversations implements store.Flows. Account and Region are the
// smallest of those that reported the conversation; LastSeen is the start
// of its last minute.
func (d *DB) FlowConversations(ctx context.Context, q store.FlowQuery) ([]store.FlowConversation, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	from, args, err := deduped(q)
	if err != nil {
		return nil, err
	}
	query := `SELECT client, server, server_port, protocol,
		` + sum("bytes_to_server") + `, ` + sum("bytes_to_client") + `,
		` + sum("packets_to_server") + `, ` + sum("packets_to_client") + `,
		` + sum("CASE WHEN action = 'ACCEPT' THEN records ELSE 0 END") + `,
		` + sum("CASE WHEN action = 'REJECT' THEN records ELSE 0 END") + `,
		min(minute), max(minute), min(account), min(region)
		FROM ` + from + ` AS f
		GROUP BY client, server, server_port, protocol
		ORDER BY sum(bytes_to_server) + sum(bytes_to_client) DESC, client, server, server_port, protocol
		LIMIT ?`
	rows, err := d.db.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("flowdb: conversations: %w", err)
	}
	defer rows.Close()
	out := []store.FlowConversation{}
	for rows.Next() {
		var c store.FlowConversation
		if err := rows.Scan(&c.Client, &c.Server, &c.ServerPort, &c.Protocol, &c.BytesToServer, &c.BytesToClient,
			&c.PacketsToServer, &c.PacketsToClient, &c.Accepted, &c.Rejected, &c.FirstSeen, &c.LastSeen,
			&c.Account, &c.Region); err != nil {
			return nil, fmt.Errorf("flowdb: conversations: %w", err)
		}
		c.FirstSeen, c.LastSeen = c.FirstSeen.UTC(), c.LastSeen.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("flowdb: conversations: %w", err)
	}
	return out, nil
}

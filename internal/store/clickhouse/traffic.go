package clickhouse

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/store"
)

// deduped is a FROM clause selecting the rollups q selects, keeping per
// conversation and minute only the server side's reports when its
// interface reported the minute, else the client side's, as flowdb does.
// ClickHouse 18.16 has no window functions: the side is chosen with a
// tuple IN over the same rows grouped. Every value is a literal made by
// quote or a number.
func deduped(q store.FlowQuery) (string, error) {
	var conds []string
	add := func(format string, args ...any) { conds = append(conds, fmt.Sprintf(format, args...)) }
	if !q.From.IsZero() {
		add("minute >= %s", dateTime(q.From))
	}
	if !q.To.IsZero() {
		add("minute < %s", dateTime(q.To))
	}
	c := quote(q.Component)
	if q.Component != "" {
		add("(client = %s OR server = %s)", c, c)
	}
	if q.Addr.IsValid() {
		lo, hi := prefixRange(q.Addr)
		add("(client_addr_key BETWEEN %s AND %s OR server_addr_key BETWEEN %s AND %s)", quote(lo), quote(hi), quote(lo), quote(hi))
	}
	needComponent := func(what string) error { return badQuery("%s needs a component", what) }
	switch q.Direction {
	case "":
	case "inbound", "outbound":
		if q.Component == "" {
			return "", needComponent("direction")
		}
		side := "server"
		if q.Direction == "outbound" {
			side = "client"
		}
		add("%s = %s", side, c)
	default:
		return "", badQuery("direction %q: want inbound or outbound", q.Direction)
	}
	if q.Port != 0 {
		add("server_port = %d", q.Port)
	}
	if q.LocalPort != 0 {
		if q.Component == "" {
			return "", needComponent("local port")
		}
		add("(server = %s AND server_port = %d)", c, q.LocalPort)
	}
	if q.RemotePort != 0 {
		if q.Component == "" {
			return "", needComponent("remote port")
		}
		add("(client = %s AND server_port = %d)", c, q.RemotePort)
	}
	if q.Protocol != 0 {
		add("protocol = %d", q.Protocol)
	}
	if q.Account != "" {
		add("account = %s", quote(q.Account))
	}
	where := "1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	action := ""
	switch q.Action {
	case "":
	case "ACCEPT", "REJECT":
		action = " AND action = " + quote(q.Action)
	default:
		return "", badQuery("action %q: want ACCEPT or REJECT", q.Action)
	}
	return `(SELECT * FROM flow_rollups WHERE ` + where + `
		AND (client, server, server_port, protocol, minute, reporter) IN (
			SELECT client, server, server_port, protocol, minute, max(reporter) FROM flow_rollups WHERE ` + where + `
			GROUP BY client, server, server_port, protocol, minute)` + action + `)`, nil
}

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
	from, err := deduped(q)
	if err != nil {
		return nil, err
	}
	in := "0"
	if q.Component != "" {
		in = "server = " + quote(q.Component)
	}
	s := int64(step / time.Second)
	query := fmt.Sprintf(`SELECT intDiv(toUInt32(minute), %d) * %d AS t,
		sum(if(%[3]s, bytes_to_server, bytes_to_client)), sum(if(%[3]s, bytes_to_client, bytes_to_server)),
		sum(if(%[3]s, packets_to_server, packets_to_client)), sum(if(%[3]s, packets_to_client, packets_to_server)),
		sum(if(action = 'ACCEPT', records, 0)), sum(if(action = 'REJECT', records, 0))
		FROM %s GROUP BY t ORDER BY t`, s, s, in, from)
	r, err := d.c.query(ctx, query, nil)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: traffic: %w", err)
	}
	out := []store.FlowPoint{}
	for _, row := range r.Data {
		var n [7]uint64
		if err := uints(row, n[:]); err != nil {
			return nil, fmt.Errorf("clickhouse: traffic: %w", err)
		}
		out = append(out, store.FlowPoint{Time: time.Unix(int64(n[0]), 0).UTC(), BytesIn: n[1], BytesOut: n[2],
			PacketsIn: n[3], PacketsOut: n[4], Accepted: n[5], Rejected: n[6]})
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
	from, err := deduped(q)
	if err != nil {
		return nil, err
	}
	query := `SELECT client, server, min(account), min(region), server_port, protocol,
		sum(bytes_to_server), sum(bytes_to_client), sum(packets_to_server), sum(packets_to_client),
		sum(if(action = 'ACCEPT', records, 0)), sum(if(action = 'REJECT', records, 0)),
		toUInt32(min(minute)), toUInt32(max(minute))
		FROM ` + from + `
		GROUP BY client, server, server_port, protocol
		ORDER BY sum(bytes_to_server) + sum(bytes_to_client) DESC, client, server, server_port, protocol
		LIMIT ` + strconv.Itoa(limit)
	r, err := d.c.query(ctx, query, nil)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: conversations: %w", err)
	}
	out := []store.FlowConversation{}
	for _, row := range r.Data {
		if len(row) != 14 {
			return nil, fmt.Errorf("clickhouse: conversations: %d columns", len(row))
		}
		var s [4]string
		for i := range s {
			s[i], _ = row[i].(string)
		}
		var n [10]uint64
		if err := uints(row[4:], n[:]); err != nil {
			return nil, fmt.Errorf("clickhouse: conversations: %w", err)
		}
		out = append(out, store.FlowConversation{Client: s[0], Server: s[1], Account: s[2], Region: s[3],
			ServerPort: uint16(n[0]), Protocol: uint8(n[1]), BytesToServer: n[2], BytesToClient: n[3],
			PacketsToServer: n[4], PacketsToClient: n[5], Accepted: n[6], Rejected: n[7],
			FirstSeen: time.Unix(int64(n[8]), 0).UTC(), LastSeen: time.Unix(int64(n[9]), 0).UTC()})
	}
	return out, nil
}

// uints reads len(into) unsigned integers from row.
func uints(row []any, into []uint64) error {
	if len(row) < len(into) {
		return fmt.Errorf("%d columns, want %d", len(row), len(into))
	}
	for i := range into {
		var s string
		switch x := row[i].(type) {
		case json.Number:
			s = x.String()
		case string:
			s = x
		default:
			return fmt.Errorf("column %d: not an integer: %v", i+1, row[i])
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("column %d: %w", i+1, err)
		}
		into[i] = n
	}
	return nil
}

// prefixRange is the first and last key of a prefix's addresses.
func prefixRange(p netip.Prefix) (lo, hi string) {
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	first := p.Addr().As16()
	last := first
	for i := bits; i < 128; i++ {
		last[i/8] |= 1 << (7 - i%8)
	}
	return hex.EncodeToString(first[:]), hex.EncodeToString(last[:])
}

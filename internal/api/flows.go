package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/store"
)

// Defaults and bounds of the flows endpoints.
const (
	defaultFlowWindow = time.Hour
	maxFlowPoints     = 10000
	defaultSQLRows    = 1000
	maxSQLRows        = 100000
	maxSQLBody        = 1 << 20
	defaultSQLTimeout = 30 * time.Second
)

// flowsUnavailable says that the server keeps no flows.
func flowsUnavailable() error {
	return &apiError{errUnavailable, "flows_not_configured", "flow logs are not configured on this server: no flows are kept"}
}

// FlowTraffic is the answer of GET /api/flows/traffic.
type FlowTraffic struct {
	Component string            `json:"component,omitempty"`
	From      time.Time         `json:"from"`
	To        time.Time         `json:"to"`
	Step      int64             `json:"step_seconds"`
	Points    []store.FlowPoint `json:"points"`
}

// FlowConversations is the answer of GET /api/flows/conversations.
type FlowConversations struct {
	From          time.Time                `json:"from"`
	To            time.Time                `json:"to"`
	Conversations []store.FlowConversation `json:"conversations"`
}

// flowParams are the query parameters the flows endpoints accept.
var flowParams = []string{"component", "from", "to", "step", "addr", "port", "local_port", "remote_port", "protocol", "action", "direction", "account"}

// flowTraffic answers GET /api/flows/traffic?component=&from=&to=&step=&addr=
// &port=&local_port=&remote_port=&protocol=&action=&direction=&account=:
// traffic per step (default 1m) over [from, to) (default the last hour);
// account keeps what that account's flow logs reported.
func (s *Server) flowTraffic(r *http.Request) (any, error) {
	if s.Flows == nil {
		return nil, flowsUnavailable()
	}
	q, err := s.flowQuery(r, flowParams)
	if err != nil {
		return nil, err
	}
	q.Step = time.Minute
	if v := r.URL.Query().Get("step"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d%time.Minute != 0 {
			return nil, badRequest("step: want whole minutes such as 1m, 15m or 1h, got " + strconv.Quote(v))
		}
		q.Step = d
	}
	if n := q.To.Sub(q.From) / q.Step; n > maxFlowPoints {
		return nil, badRequest(fmt.Sprintf("step: %s over %s makes %d points, more than %d: widen the step", q.Step, q.To.Sub(q.From), n, maxFlowPoints))
	}
	points, err := s.Flows.FlowTraffic(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return FlowTraffic{Component: q.Component, From: q.From, To: q.To, Step: int64(q.Step / time.Second), Points: points}, nil
}

// flowConversations answers GET /api/flows/conversations with the
// parameters of /api/flows/traffic but step, and limit (default 100): the
// top talkers, biggest first; action=REJECT gives rejected traffic.
func (s *Server) flowConversations(r *http.Request) (any, error) {
	if s.Flows == nil {
		return nil, flowsUnavailable()
	}
	params := append(slices.DeleteFunc(slices.Clone(flowParams), func(p string) bool { return p == "step" }), "limit")
	q, err := s.flowQuery(r, params)
	if err != nil {
		return nil, err
	}
	if q.Limit, err = intParam(r, "limit", 100, 10000); err != nil {
		return nil, err
	}
	if q.Limit == 0 {
		return nil, badRequest("limit: want an integer between 1 and 10000, got \"0\"")
	}
	convs, err := s.Flows.FlowConversations(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return FlowConversations{From: q.From, To: q.To, Conversations: convs}, nil
}

// flowQuery reads the filters common to the flows endpoints, refusing
// parameters not in allowed.
func (s *Server) flowQuery(r *http.Request, allowed []string) (store.FlowQuery, error) {
	var q store.FlowQuery
	p := r.URL.Query()
	for name := range p {
		if !slices.Contains(allowed, name) {
			return q, badRequest(fmt.Sprintf("%s: unknown parameter; known are %s", strconv.Quote(name), strings.Join(allowed, ", ")))
		}
		if len(p[name]) > 1 {
			return q, badRequest(name + ": given more than once")
		}
	}
	if ref := p.Get("component"); ref != "" {
		q.Component = ref
		// An id or any identifier of a known component; other references
		// (urn:host:/<ip>, components deleted since) are taken as given.
		if s.Graph != nil {
			if c, ok := s.Graph.Lookup(ref); ok {
				q.Component = c.ID
			}
		}
	}
	now := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		v := p.Get(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return q, badRequest(name + ": want an RFC 3339 time such as 2026-11-22T10:00:00Z, got " + strconv.Quote(v))
		}
		*dst = t.UTC()
	}
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-defaultFlowWindow)
	}
	if !q.From.Before(q.To) {
		return q, badRequest("from: must be before to")
	}
	if v := p.Get("addr"); v != "" {
		pfx, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil || a.Zone() != "" {
				return q, badRequest("addr: want an IP address or a CIDR prefix such as 10.0.0.0/16, got " + strconv.Quote(v))
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		q.Addr = pfx.Masked()
	}
	for name, dst := range map[string]*uint16{"port": &q.Port, "local_port": &q.LocalPort, "remote_port": &q.RemotePort} {
		v := p.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil || n == 0 {
			return q, badRequest(name + ": want a port between 1 and 65535, got " + strconv.Quote(v))
		}
		*dst = uint16(n)
	}
	if v := p.Get("protocol"); v != "" {
		n, ok := protocols[strings.ToLower(v)]
		if !ok {
			u, err := strconv.ParseUint(v, 10, 8)
			if err != nil || u == 0 {
				return q, badRequest("protocol: want tcp, udp, icmp, icmpv6 or an IANA number between 1 and 255, got " + strconv.Quote(v))
			}
			n = uint8(u)
		}
		q.Protocol = n
	}
	if v := p.Get("action"); v != "" {
		q.Action = strings.ToUpper(v)
		if q.Action != "ACCEPT" && q.Action != "REJECT" {
			return q, badRequest("action: want ACCEPT or REJECT, got " + strconv.Quote(v))
		}
	}
	if v := p.Get("direction"); v != "" {
		q.Direction = strings.ToLower(v)
		if q.Direction != "inbound" && q.Direction != "outbound" {
			return q, badRequest("direction: want inbound or outbound, got " + strconv.Quote(v))
		}
	}
	if v := p.Get("account"); v != "" {
		if !accountID.MatchString(v) {
			return q, badRequest("account: want a 12-digit AWS account id, got " + strconv.Quote(v))
		}
		q.Account = v
	}
	for _, name := range []string{"direction", "local_port", "remote_port"} {
		if p.Get(name) != "" && q.Component == "" {
			return q, badRequest(name + ": needs a component: it is relative to one")
		}
	}
	return q, nil
}

// accountID matches an AWS account id.
var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// protocols are the protocol names the flows endpoints accept.
var protocols = map[string]uint8{"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58}

// SQLRequest is the body of POST /api/sql as JSON.
type SQLRequest struct {
	Query   string `json:"query"`
	MaxRows int    `json:"max_rows"`
}

// sql answers POST /api/sql: one read-only SELECT over vpc_flow_logs,
// flow_rollups and components. The body is JSON ({"query": ...,
// "max_rows": N}) or the query as text/plain (max_rows then a URL
// parameter). max_rows defaults to 1000, at most 100000.
func (s *Server) sql(r *http.Request) (any, error) {
	if s.Flows == nil {
		return nil, flowsUnavailable()
	}
	for name := range r.URL.Query() {
		if name != "max_rows" {
			return nil, badRequest(strconv.Quote(name) + ": unknown parameter; known is max_rows")
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSQLBody+1))
	if err != nil {
		return nil, badRequest("body: " + err.Error())
	}
	if len(body) > maxSQLBody {
		return nil, badRequest(fmt.Sprintf("body: longer than %d bytes", maxSQLBody))
	}
	req := SQLRequest{MaxRows: -1}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json" || (mt == "" && strings.HasPrefix(strings.TrimSpace(string(body)), "{")):
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return nil, badRequest(`body: want {"query": "SELECT ...", "max_rows": 1000}: ` + err.Error())
		}
		if r.URL.Query().Has("max_rows") {
			return nil, badRequest("max_rows: give it in the JSON body")
		}
	case mt == "" || mt == "text/plain" || mt == "application/sql":
		req.Query = string(body)
	default:
		return nil, badRequest("Content-Type: want application/json or text/plain, got " + strconv.Quote(mt))
	}
	if v := r.URL.Query().Get("max_rows"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, badRequest("max_rows: want an integer between 1 and " + strconv.Itoa(maxSQLRows) + ", got " + strconv.Quote(v))
		}
		req.MaxRows = n
	}
	switch {
	case req.MaxRows == -1:
		req.MaxRows = defaultSQLRows
	case req.MaxRows < 1 || req.MaxRows > maxSQLRows:
		return nil, badRequest(fmt.Sprintf("max_rows: want an integer between 1 and %d, got %d", maxSQLRows, req.MaxRows))
	}
	if strings.TrimSpace(req.Query) == "" {
		return nil, badRequest("query: empty")
	}
	timeout := s.SQLTimeout
	if timeout <= 0 {
		timeout = defaultSQLTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	res, err := s.Flows.FlowSQL(ctx, req.Query, req.MaxRows)
	if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
		return nil, &apiError{errTimeout, "query_timeout", fmt.Sprintf("query: ran longer than %s", timeout)}
	}
	return res, err
}

// flowsRoutes are the flows endpoints.
func (s *Server) flowsRoutes(mux router) {
	mux.Handle("GET /api/flows/traffic", s.handle(s.flowTraffic))
	mux.Handle("GET /api/flows/conversations", s.handle(s.flowConversations))
	mux.Handle("POST /api/sql", s.handle(s.sql))
}

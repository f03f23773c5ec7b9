package store

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// ErrBadQuery is returned for SQL a user sent that skymap refuses to run
// (not a single read-only SELECT, or one naming files or other databases)
// or that the database could not run (syntax, unknown column): the
// message says what and where, for the user.
var ErrBadQuery = errors.New("bad query")

// FlowObject is one flow-log object and what it produced, committed at
// once.
type FlowObject struct {
	// Bucket, Key and ETag name the object; a commit is at most once per
	// (Bucket, Key, ETag).
	Bucket, Key, ETag string
	// Account and Region are the flow log's, from the key.
	Account, Region string
	// Body is the object as read (gzip text or Parquet), archived as is
	// for SQL over raw records until the raw retention ends.
	Body []byte
	// Format is the object's field names as AWS writes them in the header
	// line ("version account-id interface-id ..."), for text objects.
	Format  string
	Parquet bool
	// ReadWhole says that Body, a text object, was read to its end without
	// error (flows.Processor.Process sets it): the store need not
	// decompress it again to know that it can be archived.
	ReadWhole bool
	// Start and End are the earliest record start and latest record end.
	Start, End time.Time
	// Records counts the records read, Malformed the lines skipped.
	Records, Malformed int64
	Rollups            model.FlowRollups
}

// Flows keeps flow-log traffic: per-minute rollups and the raw objects, and
// answers traffic questions and read-only SQL over them.
type Flows interface {
	// CommitFlowObject stores obj's rollups and archives its body, once:
	// when (Bucket, Key, ETag) was committed before it stores nothing and
	// returns nil. When it returns nil, the object's source may be deleted.
	CommitFlowObject(ctx context.Context, obj *FlowObject) error
	// FlowObjectDone reports whether an object was committed.
	FlowObjectDone(ctx context.Context, bucket, key, etag string) (bool, error)
	// FlowTraffic returns a component's (or everything's) traffic over time
	// in steps of q.Step: bytes and packets in and out, accepted and
	// rejected, oldest first, one point per step with traffic.
	FlowTraffic(ctx context.Context, q FlowQuery) ([]FlowPoint, error)
	// FlowConversations returns conversations (client, server, server
	// port, protocol) with their totals over [q.From, q.To), biggest first
	// by bytes, at most q.Limit. flowlog relations and top talkers are
	// built from them.
	FlowConversations(ctx context.Context, q FlowQuery) ([]FlowConversation, error)
	// FlowSQL runs one read-only SELECT over the tables vpc_flow_logs (the
	// raw records, Athena's column names), flow_rollups and components, and
	// returns at most maxRows rows. Refused or failing queries give an
	// error wrapping ErrBadQuery.
	FlowSQL(ctx context.Context, query string, maxRows int) (*SQLResult, error)
	// PruneFlows deletes archived raw objects whose records all ended
	// before rawBefore and rollups older than rollupsBefore. Zero times
	// delete nothing. A store may keep rollups per flow-log object (as
	// flowdb does: one file per object, deleted once all its minutes are
	// before rollupsBefore), so a minute older than rollupsBefore may stay
	// while its object also holds later ones.
	PruneFlows(ctx context.Context, rawBefore, rollupsBefore time.Time) error
}

// FlowQuery selects traffic. Zero fields do not filter.
type FlowQuery struct {
	// Component is a component id (or urn:host:/ identifier) on either
	// side of the conversation.
	Component string
	From, To  time.Time // [From, To)
	Step      time.Duration
	// Addr matches a client or server address in the prefix (a single IP
	// is a /32 or /128).
	Addr netip.Prefix
	// Direction, relative to Component: "inbound" where it is the server,
	// "outbound" where it is the client.
	Direction string
	// LocalPort matches conversations where Component is the server on
	// that port, RemotePort those where it is the client of a server on
	// that port; Port matches the server port whoever Component is. 0 does
	// not filter.
	Port, LocalPort, RemotePort uint16
	Protocol                    uint8 // 0 any
	// Action is "ACCEPT" or "REJECT".
	Action string
	// Account keeps the traffic that account's flow logs reported (a
	// conversation between two accounts is then seen from that side).
	Account string
	Limit   int // 0 means 100
}

// FlowPoint is a component's traffic in one step. In and Out are relative to
// the queried component (for the whole estate, Out is client to server).
type FlowPoint struct {
	Time       time.Time `json:"time"`
	BytesIn    uint64    `json:"bytes_in"`
	BytesOut   uint64    `json:"bytes_out"`
	PacketsIn  uint64    `json:"packets_in"`
	PacketsOut uint64    `json:"packets_out"`
	Accepted   uint64    `json:"accepted_records"`
	Rejected   uint64    `json:"rejected_records"`
}

// FlowConversation is the traffic between a client and a server on one
// server port and protocol. Where both sides' interfaces reported it, the
// figures are the server side's, so nothing is counted twice.
type FlowConversation struct {
	Client          string    `json:"client"`
	Server          string    `json:"server"`
	ServerPort      uint16    `json:"server_port"`
	Protocol        uint8     `json:"protocol"`
	BytesToServer   uint64    `json:"bytes_to_server"`
	BytesToClient   uint64    `json:"bytes_to_client"`
	PacketsToServer uint64    `json:"packets_to_server"`
	PacketsToClient uint64    `json:"packets_to_client"`
	Accepted        uint64    `json:"accepted_records"`
	Rejected        uint64    `json:"rejected_records"`
	FirstSeen       time.Time `json:"first_seen"`
	LastSeen        time.Time `json:"last_seen"`
	// Account and Region are those of the flow logs that reported it.
	Account string `json:"account"`
	Region  string `json:"region"`
}

// SQLResult is what a query returned.
type SQLResult struct {
	Columns   []string `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"` // more rows than maxRows
}

package model

import (
	"net/netip"
	"time"
)

// FlowRollup is the traffic of one conversation in one minute, as the
// flow logs of one interface reported it: the records of that interface
// whose start falls in Minute, grouped by client, server, server port,
// protocol and action. The client and the server are decided by ports and
// flow direction (see internal/flows). Bytes and packets are counted each
// way: ToServer is what the client sent.
type FlowRollup struct {
	Minute time.Time // UTC, truncated to the minute

	// Account and Region are those of the flow log (the interface's
	// owner); Interface is the reporting interface (eni-..., or a transit
	// gateway attachment), Reporter says which side it is on.
	Account   string
	Region    string
	Interface string
	Reporter  FlowSide

	// Client and Server are component ids, or urn:host:/<ip> for an
	// address no monitored component owns (public traffic, or private
	// addresses outside the known interfaces), or PublicAggregate when
	// public traffic is aggregated.
	Client     string
	Server     string
	ClientAddr netip.Addr
	ServerAddr netip.Addr
	ServerPort uint16 // 0 for protocols without ports (ICMP...)
	Protocol   uint8  // IANA number
	Accepted   bool   // false: REJECT

	BytesToServer   uint64
	BytesToClient   uint64
	PacketsToServer uint64
	PacketsToClient uint64
	Records         uint64
}

// FlowSide is one side of a conversation.
type FlowSide uint8

// The sides.
const (
	FlowClient FlowSide = 1
	FlowServer FlowSide = 2
)

// String returns "client" or "server".
func (s FlowSide) String() string {
	if s == FlowServer {
		return "server"
	}
	return "client"
}

// PublicAggregate is the one endpoint public traffic is attributed to when
// public traffic is aggregated instead of kept per address.
const PublicAggregate = "urn:host:/internet"

// HostURN is the identifier of an address no monitored component owns.
func HostURN(a netip.Addr) string { return "urn:host:/" + a.String() }

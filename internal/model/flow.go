package model

import (
	"net/netip"
	"strconv"
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

// FlowRollups are the rollups of one flow-log object as the flows
// Processor makes them: rows of numbers whose interface and endpoints are
// entries of two tables, so that a store converts each text and address
// once per object, not once per row (an object's rollups are about as
// many as its records). Rows may name the same interface or endpoint
// through different entries; entries no row names are allowed. The zero
// value holds no rollups; Add appends one.
type FlowRollups struct {
	Interfaces []FlowInterface
	Endpoints  []FlowEndpoint
	Rows       []FlowRollupRow

	// Built by Add from the tables when first needed.
	ifIndex map[FlowInterface]uint32
	epIndex map[FlowEndpoint]uint32
}

// FlowInterface is a reporting interface of FlowRollups: FlowRollup's
// Interface, Account and Region.
type FlowInterface struct{ ID, Account, Region string }

// FlowEndpoint is one side of conversations in FlowRollups: FlowRollup's
// Client and ClientAddr, or Server and ServerAddr.
type FlowEndpoint struct {
	ID   string
	Addr netip.Addr
}

// FlowRollupRow is one FlowRollup in FlowRollups.
type FlowRollupRow struct {
	Minute         uint32 // Unix time / 60
	Interface      uint32 // in Interfaces
	Client, Server uint32 // in Endpoints
	ServerPort     uint16
	Protocol       uint8
	Reporter       FlowSide
	Accepted       bool

	BytesToServer   uint64
	BytesToClient   uint64
	PacketsToServer uint64
	PacketsToClient uint64
	Records         uint64
}

// NewFlowRollups returns rs as FlowRollups.
func NewFlowRollups(rs ...FlowRollup) FlowRollups {
	var s FlowRollups
	for _, r := range rs {
		s.Add(r)
	}
	return s
}

// Len is the number of rollups.
func (s *FlowRollups) Len() int { return len(s.Rows) }

// At returns rollup i.
func (s *FlowRollups) At(i int) FlowRollup {
	w := &s.Rows[i]
	f, c, v := &s.Interfaces[w.Interface], &s.Endpoints[w.Client], &s.Endpoints[w.Server]
	return FlowRollup{
		Minute: time.Unix(int64(w.Minute)*60, 0).UTC(), Account: f.Account, Region: f.Region, Interface: f.ID,
		Reporter: w.Reporter, Client: c.ID, Server: v.ID, ClientAddr: c.Addr, ServerAddr: v.Addr,
		ServerPort: w.ServerPort, Protocol: w.Protocol, Accepted: w.Accepted,
		BytesToServer: w.BytesToServer, BytesToClient: w.BytesToClient,
		PacketsToServer: w.PacketsToServer, PacketsToClient: w.PacketsToClient, Records: w.Records,
	}
}

// Slice returns every rollup, in row order.
func (s *FlowRollups) Slice() []FlowRollup {
	out := make([]FlowRollup, len(s.Rows))
	for i := range out {
		out[i] = s.At(i)
	}
	return out
}

// Add appends r. Its minute is truncated to the minute.
func (s *FlowRollups) Add(r FlowRollup) {
	if s.ifIndex == nil {
		s.ifIndex = make(map[FlowInterface]uint32, len(s.Interfaces))
		for i, f := range s.Interfaces {
			s.ifIndex[f] = uint32(i)
		}
		s.epIndex = make(map[FlowEndpoint]uint32, len(s.Endpoints))
		for i, e := range s.Endpoints {
			s.epIndex[e] = uint32(i)
		}
	}
	s.Rows = append(s.Rows, FlowRollupRow{
		Minute:     uint32(r.Minute.Unix() / 60),
		Interface:  intern(&s.Interfaces, s.ifIndex, FlowInterface{r.Interface, r.Account, r.Region}),
		Client:     intern(&s.Endpoints, s.epIndex, FlowEndpoint{r.Client, r.ClientAddr}),
		Server:     intern(&s.Endpoints, s.epIndex, FlowEndpoint{r.Server, r.ServerAddr}),
		ServerPort: r.ServerPort, Protocol: r.Protocol, Reporter: r.Reporter, Accepted: r.Accepted,
		BytesToServer: r.BytesToServer, BytesToClient: r.BytesToClient,
		PacketsToServer: r.PacketsToServer, PacketsToClient: r.PacketsToClient, Records: r.Records,
	})
}

// intern returns v's index in *list, appending it when index lacks it.
func intern[T comparable](list *[]T, index map[T]uint32, v T) uint32 {
	if i, ok := index[v]; ok {
		return i
	}
	*list = append(*list, v)
	index[v] = uint32(len(*list) - 1)
	return index[v]
}

// WindowString writes a relation's window as people do: "1h", "30m", else
// time.Duration's form ("90s").
func WindowString(d time.Duration) string {
	switch {
	case d > 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d > 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

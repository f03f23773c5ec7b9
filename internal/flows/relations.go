package flows

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// ExternalHostScope is the Scope.Type of the snapshots of external-host
// components, and ExternalHostType their component type: the endpoints
// urn:host:/<ip> and model.PublicAggregate that traffic was attributed to
// when no monitored component owns the address.
const (
	ExternalHostScope = "external-host"
	ExternalHostType  = "external-host"
)

// Relations derives the flowlog relations of convs, the conversations of
// the window before at (as the flows store returns them for [at-window,
// at)): for each (account, region) of the flow logs that reported them,
// one complete snapshot of scope type model.FlowLog holding one relation
// per (client, server) pair, source the client and target the server, and
// one complete snapshot of scope type ExternalHostScope holding a
// component for each urn:host:/ endpoint (and model.PublicAggregate) of
// those conversations. Conversations last seen before at-window, without
// a client or a server, or from a component to itself, make nothing.
//
// A relation's data is what stays true while the traffic goes on, so that
// flushing it every minute does not add a version to the history each
// time:
//
//	{"protocol": "tcp", "server_port": 5432, "ports": ["tcp/5432"], "window": "1h"}
//
// protocol and server_port are those of the pair's lowest (protocol,
// port), ports all of them sorted by (protocol, port), "tcp/443" or a
// protocol alone for protocols without ports ("icmp"). The live figures
// (bytes, packets, accepted and rejected records, first and last seen)
// change every minute: kept in the relation they would make a version per
// relation per flush and bury the history's real changes, so they stay in
// the flows store, from which the API merges them into a relation's
// details (FlowConversations for the two components).
//
// An (account, region) without conversations in the window gets no
// snapshot: the caller sends empty complete snapshots of both scope types
// for it, or its relations and external hosts stay as they were.
func Relations(convs []store.FlowConversation, window time.Duration, at time.Time) []model.Snapshot {
	type pairKey struct{ account, region, client, server string }
	type portKey struct {
		proto uint8
		port  uint16
	}
	type scopeKey struct{ account, region string }
	from := at.Add(-window)
	pairs := map[pairKey][]portKey{}
	hosts := map[scopeKey]map[string]bool{}
	for _, c := range convs {
		if c.Client == "" || c.Server == "" || c.Client == c.Server {
			continue
		}
		if !c.LastSeen.IsZero() && c.LastSeen.Before(from) {
			continue
		}
		k := pairKey{c.Account, c.Region, c.Client, c.Server}
		p := portKey{c.Protocol, c.ServerPort}
		if !hasPorts(c.Protocol) {
			p.port = 0
		}
		if !slices.Contains(pairs[k], p) {
			pairs[k] = append(pairs[k], p)
		}
		sk := scopeKey{c.Account, c.Region}
		for _, end := range []string{c.Client, c.Server} {
			if strings.HasPrefix(end, hostPrefix) {
				if hosts[sk] == nil {
					hosts[sk] = map[string]bool{}
				}
				hosts[sk][end] = true
			}
		}
	}
	snaps := map[scopeKey]*model.Snapshot{}
	snap := func(sk scopeKey, typ string) *model.Snapshot {
		k := sk
		if typ == ExternalHostScope {
			k.region += "\x00" + typ
		}
		s := snaps[k]
		if s == nil {
			s = &model.Snapshot{Scope: model.Scope{Account: sk.account, Region: sk.region, Type: typ}, Complete: true}
			snaps[k] = s
		}
		return s
	}
	win := model.WindowString(window)
	for k, ports := range pairs {
		slices.SortFunc(ports, func(a, b portKey) int {
			return cmp.Or(cmp.Compare(a.proto, b.proto), cmp.Compare(a.port, b.port))
		})
		names := make([]string, len(ports))
		for i, p := range ports {
			names[i] = portName(p.proto, p.port)
		}
		s := snap(scopeKey{k.account, k.region}, model.FlowLog)
		s.Relations = append(s.Relations, model.Relation{
			Source: k.client, Target: k.server, Type: model.FlowLog,
			Data: map[string]any{
				"protocol":    protocolData(ports[0].proto),
				"server_port": int(ports[0].port),
				"ports":       names,
				"window":      win,
			},
		})
	}
	for sk, set := range hosts {
		s := snap(sk, ExternalHostScope)
		for id := range set {
			s.Components = append(s.Components, externalHost(id, sk.account, sk.region))
		}
	}
	out := make([]model.Snapshot, 0, len(snaps))
	for _, s := range snaps {
		slices.SortFunc(s.Relations, func(a, b model.Relation) int {
			return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Target, b.Target))
		})
		slices.SortFunc(s.Components, func(a, b model.Component) int { return strings.Compare(a.ID, b.ID) })
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b model.Snapshot) int {
		return cmp.Or(strings.Compare(a.Scope.Account, b.Scope.Account),
			strings.Compare(a.Scope.Region, b.Scope.Region), strings.Compare(a.Scope.Type, b.Scope.Type))
	})
	return out
}

const hostPrefix = "urn:host:/"

// externalHost is the component of an endpoint no monitored component
// owns.
func externalHost(id, account, region string) model.Component {
	name := strings.TrimPrefix(id, hostPrefix)
	if id == model.PublicAggregate {
		name = "internet"
	} else if a, err := netip.ParseAddr(name); err == nil {
		name = a.String()
	}
	return model.Component{
		ID:          id,
		Type:        ExternalHostType,
		Name:        name,
		Identifiers: []string{id},
		Labels:      []string{"aws-account:" + account, "aws-region:" + region, "stackpack:aws-v2"},
		Account:     account,
		Region:      region,
		Layer:       model.LayerNetworking,
		Data:        map[string]any{},
	}
}

// protocolData is a protocol as relation data: its name, or its number.
func protocolData(p uint8) any {
	if n, ok := protocolName(p); ok {
		return n
	}
	return int(p)
}

// portName is "tcp/443", or the protocol alone for protocols without
// ports.
func portName(proto uint8, port uint16) string {
	n, ok := protocolName(proto)
	if !ok {
		n = strconv.Itoa(int(proto))
	}
	if !hasPorts(proto) {
		return n
	}
	return n + "/" + strconv.Itoa(int(port))
}

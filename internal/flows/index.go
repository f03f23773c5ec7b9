// Package flows turns VPC flow-log records into traffic between
// components: it attributes each record's addresses to the components that
// owned them at the record's time (Index), decides which side is the client
// and which the server (Roles), rolls records up per minute and
// conversation (Processor) and derives flowlog relations from the rolled
// up conversations (Relations).
package flows

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// typeNetworkInterface is the component type of network interfaces
// (TOPOLOGY.md).
const typeNetworkInterface = "aws.ec2.network-interface"

// vpcIPPrefix starts the identifier of a private address in a VPC:
// urn:vpcip:<vpc-id>/<ip>.
const vpcIPPrefix = "urn:vpcip:"

// never is the end of an interval that is still open.
const never = math.MaxInt64

// nShards is the number of parts each table of an Index snapshot is cut
// into, so that an Update copies one part, not the whole table.
const nShards = 256

// Index maps addresses to the components that own them over time, and
// network interfaces to their VPC and owner, from the urn:vpcip
// identifiers and the aws.ec2.network-interface components the inventory
// emits.
//
// An address in a VPC is owned by the component carrying its urn:vpcip
// identifier, from the time the Index learnt of it (NewIndex's t0, or an
// Update creating the component or adding the identifier) to the time it
// learnt it was gone. Addresses are reused, so lookups are by time:
//
//   - at a time some owner's interval contains, that owner (when two
//     intervals overlap, which happens while an address moves and both
//     components were not yet described again, the one opened last);
//   - at a time no interval contains, the owner of the next interval after
//     it: before the first one, the first owner (flow logs older than
//     what skymap saw, or a resource that existed before a scan found it);
//     in a gap between two owners, the second, since the first was already
//     seen gone and the second existed before a scan found it;
//   - after the last interval closed, nobody.
//
// Network interfaces are never forgotten on deletion (their flow logs
// arrive minutes late and interface ids are not reused); Prune drops
// them and closed intervals once no log can name them.
//
// Lookups are the hot path: they read an immutable snapshot without
// locks. Update copies the 1/256th of the tables it changes and publishes
// a new snapshot; it is meant for changes as inventory scans and events
// bring them, not for bulk loads (use NewIndex). An Index is safe for
// concurrent use. The zero value is not usable: use NewIndex.
type Index struct {
	mu   sync.Mutex // serializes writers
	snap atomic.Pointer[snapshot]
}

// snapshot is one immutable state of an Index. Writers copy what they
// change.
type snapshot struct {
	vpcs  map[string]uint32 // vpc id -> number (from 1); 0 is "unknown"
	names []string          // vpc number -> id
	addrs [nShards]map[netip.Addr][]interval
	enis  [nShards]map[string]*iface
}

// interval is the time a component owned an address in a VPC, [from, to)
// in unix seconds.
type interval struct {
	vpc      uint32
	owner    string
	from, to int64
}

// iface is what the Index knows of a network interface.
type iface struct {
	id    string
	vpc   uint32
	addrs []netip.Addr // its private addresses, the primary first
	gone  int64        // when it was deleted, never while it exists
}

// NewIndex returns an Index of comps as they are at t0.
func NewIndex(comps []model.Component, t0 time.Time) *Index {
	s := &snapshot{vpcs: map[string]uint32{}, names: []string{""}}
	for i := range s.addrs {
		s.addrs[i] = map[netip.Addr][]interval{}
		s.enis[i] = map[string]*iface{}
	}
	w := writer{s: s, owned: true}
	for i := range comps {
		w.update(nil, &comps[i], t0.Unix())
	}
	x := &Index{}
	x.snap.Store(s)
	return x
}

// Update records that component before became after at t: nil before
// means it was created, nil after that it was deleted. Addresses it
// gained are owned by it from t on, addresses it lost (or all of them,
// when deleted) are no longer its from t on.
func (x *Index) Update(before, after *model.Component, t time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	w := writer{s: x.snap.Load().clone()}
	if w.update(before, after, t.Unix()) {
		x.snap.Store(w.s)
	}
}

// Prune forgets intervals that ended and network interfaces deleted
// before t: records older than t no longer find those owners.
func (x *Index) Prune(t time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	cut := t.Unix()
	w := writer{s: x.snap.Load().clone()}
	changed := false
	for sh := range w.s.addrs {
		for a, ivs := range w.s.addrs[sh] {
			if !slices.ContainsFunc(ivs, func(iv interval) bool { return iv.to < cut }) {
				continue
			}
			w.own(sh)
			changed = true
			kept := slices.DeleteFunc(slices.Clone(ivs), func(iv interval) bool { return iv.to < cut })
			if len(kept) == 0 {
				delete(w.s.addrs[sh], a)
			} else {
				w.s.addrs[sh][a] = kept
			}
		}
		for id, n := range w.s.enis[sh] {
			if n.gone < cut {
				w.ownENIs(sh)
				changed = true
				delete(w.s.enis[sh], id)
			}
		}
	}
	if changed {
		x.snap.Store(w.s)
	}
}

// Lookup returns the component owning addr in vpc at t (see Index), or ""
// when none is known. With vpc "" or unknown, or when no component of vpc
// ever owned addr (an address of a peered VPC), it returns the one owner
// of addr across the monitored VPCs, "" when there are several.
func (x *Index) Lookup(vpc string, addr netip.Addr, t time.Time) string {
	s := x.snap.Load()
	return s.lookup(s.vpcs[vpc], addr, t.Unix())
}

// Interface returns the VPC of network interface eni and the component
// owning it at t: the owner of its primary address, or the interface's
// own component when no other component carries its addresses. ok is
// false for an interface the Index does not know.
func (x *Index) Interface(eni string, t time.Time) (vpc, owner string, ok bool) {
	s := x.snap.Load()
	n := s.eni(eni)
	if n == nil {
		return "", "", false
	}
	return s.names[n.vpc], s.ifaceOwner(n, t.Unix()), true
}

// lookup is Lookup with the VPC's number (0 for unknown) and unix seconds.
func (s *snapshot) lookup(vpc uint32, addr netip.Addr, t int64) string {
	o, _, _ := s.lookupSpan(vpc, addr, t)
	return o
}

// lookupSpan is lookup that also returns the times [lo, hi) around t
// over which the answer is the same: between the interval bounds of addr
// nearest to t.
func (s *snapshot) lookupSpan(vpc uint32, addr netip.Addr, t int64) (owner string, lo, hi int64) {
	ivs := s.addrs[shardOf(addr)][addr]
	lo, hi = math.MinInt64, math.MaxInt64
	for _, iv := range ivs {
		for _, b := range [2]int64{iv.from, iv.to} {
			if b <= t {
				lo = max(lo, b)
			} else {
				hi = min(hi, b)
			}
		}
	}
	return s.resolveAny(ivs, vpc, t), lo, hi
}

// resolveAny resolves the intervals of an address in vpc (0: unknown),
// falling back to its one owner across VPCs (see Lookup).
func (s *snapshot) resolveAny(ivs []interval, vpc uint32, t int64) string {
	if len(ivs) == 0 {
		return ""
	}
	if vpc != 0 {
		if o, seen := resolve(ivs, vpc, t); seen {
			return o
		}
	}
	// Any VPC: the owners of each VPC that had one, if they agree.
	owner := ""
	for i := range ivs {
		v := ivs[i].vpc
		if slices.ContainsFunc(ivs[:i], func(iv interval) bool { return iv.vpc == v }) {
			continue // that VPC was resolved already
		}
		o, _ := resolve(ivs, v, t)
		if o == "" {
			continue
		}
		if owner != "" && owner != o {
			return ""
		}
		owner = o
	}
	return owner
}

// resolve applies the rules of Index to the intervals of vpc; seen says
// whether vpc has any.
func resolve(ivs []interval, vpc uint32, t int64) (owner string, seen bool) {
	var cur, next *interval
	for i := range ivs {
		iv := &ivs[i]
		if iv.vpc != vpc {
			continue
		}
		seen = true
		switch {
		case iv.from <= t && t < iv.to:
			if cur == nil || iv.from > cur.from || iv.from == cur.from && iv.owner < cur.owner {
				cur = iv
			}
		case iv.from > t:
			if next == nil || iv.from < next.from || iv.from == next.from && iv.owner < next.owner {
				next = iv
			}
		}
	}
	if cur != nil {
		return cur.owner, true
	}
	if next != nil {
		return next.owner, true
	}
	return "", seen
}

func (s *snapshot) eni(id string) *iface { return s.enis[shardOfString(id)][id] }

// ifaceOwner is the component owning network interface n at t.
func (s *snapshot) ifaceOwner(n *iface, t int64) string {
	if len(n.addrs) > 0 {
		if o, _ := resolve(s.addrs[shardOf(n.addrs[0])][n.addrs[0]], n.vpc, t); o != "" {
			return o
		}
	}
	return n.id
}

// shardOf spreads addresses by their last bytes, where the addresses of a
// subnet differ.
func shardOf(a netip.Addr) int {
	b := a.As16()
	return int(b[15]^b[14]*31^b[13]*7) % nShards
}

func shardOfString(s string) int {
	h := uint32(2166136261)
	for i := max(0, len(s)-8); i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return int(h % nShards)
}

// clone returns a copy of s sharing its tables until a writer owns them.
func (s *snapshot) clone() *snapshot {
	c := *s
	return &c
}

// writer changes a snapshot copy: it copies each shard (and the VPC
// table) the first time it changes it, unless owned says the snapshot
// is not published yet.
type writer struct {
	s        *snapshot
	owned    bool
	ownVPCs  bool
	ownAddrs [nShards]bool
	ownENI   [nShards]bool
}

func (w *writer) own(sh int) {
	if !w.owned && !w.ownAddrs[sh] {
		w.s.addrs[sh] = cloneMap(w.s.addrs[sh])
		w.ownAddrs[sh] = true
	}
}

func (w *writer) ownENIs(sh int) {
	if !w.owned && !w.ownENI[sh] {
		w.s.enis[sh] = cloneMap(w.s.enis[sh])
		w.ownENI[sh] = true
	}
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// vpc returns the number of vpc, adding it.
func (w *writer) vpc(id string) uint32 {
	if n, ok := w.s.vpcs[id]; ok {
		return n
	}
	if !w.owned && !w.ownVPCs {
		w.s.vpcs = cloneMap(w.s.vpcs)
		w.s.names = slices.Clip(w.s.names)
		w.ownVPCs = true
	}
	w.s.names = append(w.s.names, id)
	n := uint32(len(w.s.names) - 1)
	w.s.vpcs[id] = n
	return n
}

// vpcAddr is one urn:vpcip identifier, parsed.
type vpcAddr struct {
	vpc  string
	addr netip.Addr
}

// vpcAddrs returns the urn:vpcip identifiers of c (nil c: none).
func vpcAddrs(c *model.Component) []vpcAddr {
	if c == nil {
		return nil
	}
	var out []vpcAddr
	for _, id := range c.Identifiers {
		rest, ok := strings.CutPrefix(id, vpcIPPrefix)
		if !ok {
			continue
		}
		vpc, ip, ok := strings.Cut(rest, "/")
		if !ok || vpc == "" {
			continue
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			continue
		}
		a = a.Unmap().WithZone("")
		if !slices.Contains(out, vpcAddr{vpc, a}) {
			out = append(out, vpcAddr{vpc, a})
		}
	}
	return out
}

// update applies one component change at t, reporting whether anything
// changed.
func (w *writer) update(before, after *model.Component, t int64) bool {
	changed := false
	old, cur := vpcAddrs(before), vpcAddrs(after)
	if before != nil {
		for _, va := range old {
			if after == nil || after.ID != before.ID || !slices.Contains(cur, va) {
				changed = w.close(va, before.ID, t) || changed
			}
		}
	}
	if after != nil {
		for _, va := range cur {
			changed = w.open(va, after.ID, t) || changed
		}
	}
	switch {
	case after != nil && after.Type == typeNetworkInterface:
		changed = w.setENI(after, t) || changed
	case before != nil && before.Type == typeNetworkInterface:
		sh := shardOfString(before.ID)
		if n := w.s.enis[sh][before.ID]; n != nil && n.gone == never {
			w.ownENIs(sh)
			g := *n
			g.gone = t
			w.s.enis[sh][before.ID] = &g
			changed = true
		}
	}
	return changed
}

// open starts owner's interval for va at t, unless one is open, and
// reports whether it did.
func (w *writer) open(va vpcAddr, owner string, t int64) bool {
	vpc := w.vpc(va.vpc)
	sh := shardOf(va.addr)
	ivs := w.s.addrs[sh][va.addr]
	for _, iv := range ivs {
		if iv.vpc == vpc && iv.owner == owner && iv.to == never {
			return false
		}
	}
	w.own(sh)
	w.s.addrs[sh][va.addr] = append(slices.Clip(ivs), interval{vpc: vpc, owner: owner, from: t, to: never})
	return true
}

// close ends owner's open interval for va at t.
func (w *writer) close(va vpcAddr, owner string, t int64) bool {
	vpc, ok := w.s.vpcs[va.vpc]
	if !ok {
		return false
	}
	sh := shardOf(va.addr)
	ivs := w.s.addrs[sh][va.addr]
	for i, iv := range ivs {
		if iv.vpc == vpc && iv.owner == owner && iv.to == never {
			w.own(sh)
			ivs = slices.Clone(ivs)
			ivs[i].to = max(t, iv.from)
			w.s.addrs[sh][va.addr] = ivs
			return true
		}
	}
	return false
}

// setENI records network interface c from its data: VpcId and its
// private addresses (PrivateIpAddress, PrivateIpAddresses,
// Ipv6Addresses), as the inventory writes them.
func (w *writer) setENI(c *model.Component, t int64) bool {
	vpcID, _ := c.Data["VpcId"].(string)
	n := &iface{id: c.ID, gone: never}
	if vpcID != "" {
		n.vpc = w.vpc(vpcID)
	}
	add := func(s string) {
		if a, err := netip.ParseAddr(s); err == nil && !slices.Contains(n.addrs, a.Unmap()) {
			n.addrs = append(n.addrs, a.Unmap())
		}
	}
	if s, ok := c.Data["PrivateIpAddress"].(string); ok {
		add(s)
	}
	for _, list := range []struct{ key, field string }{
		{"PrivateIpAddresses", "PrivateIpAddress"},
		{"Ipv6Addresses", "Ipv6Address"},
	} {
		items, _ := c.Data[list.key].([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				if s, ok := m[list.field].(string); ok {
					add(s)
				}
			}
		}
	}
	sh := shardOfString(c.ID)
	if old := w.s.enis[sh][c.ID]; old != nil && old.vpc == n.vpc && old.gone == never && slices.Equal(old.addrs, n.addrs) {
		return false
	}
	w.ownENIs(sh)
	w.s.enis[sh][c.ID] = n
	return true
}

package flows

import (
	"cmp"
	"encoding/binary"
	"math"
	"net/netip"
	"slices"

	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/hugemem"
	"github.com/skymap/skymap/internal/model"
)

// run is the state of one Process call, kept with its tables on the
// Processor's free list so that adding a record allocates nothing once
// the interfaces, addresses and conversations of an object have been
// seen.
//
// The hot path touches small tables: addresses are resolved once per
// object into endpoints (an owner and an address, numbered), and a
// rollup is keyed by 20 bytes of numbers; the strings of FlowRollup are
// filled in at the end.
type run struct {
	snap     *snapshot
	accounts map[string]bool // monitored; nil: all
	public   PublicPolicy
	account  string // the object's
	region   string

	rd *flowlogs.Reader

	// ifaces interns (account, interface-id) for this call: the index
	// snapshot may differ from the last call's.
	ifaces  map[string]uint32 // by "<account> <interface-id>"
	byID    map[string]uint32 // by interface-id: the first account's
	ifList  []ifaceRun
	keyBuf  []byte
	strings map[string]string     // interned texts, kept across calls
	hosts   map[netip.Addr]string // urn:host:/<ip>, kept across calls

	// Addresses resolved in this call: (vpc, IPv4) packed, or (vpc,
	// address), to the endpoint valid over a time span.
	v4  map[uint64]addrSlot
	v6  map[addrKey]addrSlot
	eps []endpoint // from 0: epNone, epDrop, epAggregate, then one per (address, owner)

	rollups rollupTable
	sortBuf []model.FlowRollupRow // finish's, kept across calls

	// Direct-mapped caches in front of ifaces and v4: an entry holds its
	// key inline, so that a hit costs one cache line where a map lookup
	// costs several (records come in no order of interface or address).
	ifCache ifaceCache
	v4Cache *[1 << v4CacheBits]v4Entry
}

// ifaceCache caches run.iface by interface-id and account-id text.
type ifaceCache struct {
	entries *[1 << ifCacheBits]ifEntry
}

// ifEntry is a cached interface: key holds the id's n bytes then the
// account's m bytes. n == 0: empty.
type ifEntry struct {
	key  [42]byte
	n, m uint8
	idx  uint32
}

// v4Entry is a cached IPv4 endpoint: k as in run.v4. An empty entry has
// an empty span.
type v4Entry struct {
	k    uint64
	slot addrSlot
}

const (
	ifCacheBits = 12
	v4CacheBits = 14
)

// entry returns the cache entry of (id, acct), and false when they do
// not fit one.
func (c *ifaceCache) entry(id, acct []byte) (*ifEntry, bool) {
	if len(id)+len(acct) > len(ifEntry{}.key) || len(id) < 8 {
		return nil, false
	}
	h := binary.LittleEndian.Uint64(id[len(id)-8:]) * 0x9e3779b97f4a7c15
	if len(acct) >= 8 {
		h ^= binary.LittleEndian.Uint64(acct[len(acct)-8:]) * 0xc2b2ae3d27d4eb4f
	}
	return &c.entries[h>>(64-ifCacheBits)], true
}

// ifaceRun is one reporting interface of an object.
type ifaceRun struct {
	// What every record reads first, in its first 64 bytes.
	monitored bool
	hasOwn    bool
	vpc       uint32
	// own is the endpoint of the interface's primary address, on one side
	// of most of its records, valid over [own.lo, own.hi).
	own     addrSlot
	primary netip.Addr
	info    *iface // nil when the index does not know it

	id, account string
}

// endpoint is one side of conversations: a component id or urn:host:/
// and the address as rolled up.
type endpoint struct {
	id   string
	addr netip.Addr
}

type addrKey struct {
	vpc  uint32
	addr netip.Addr
}

// The endpoints every run has.
const (
	epNone      = 0 // no address
	epDrop      = 1 // public traffic under PublicDrop
	epAggregate = 2 // public traffic under PublicAggregate
)

// addrSlot is an address's endpoint for record times in [lo, hi).
type addrSlot struct {
	ep     uint32
	lo, hi int64
}

// rollupKey is what a rollup is per, in numbers.
type rollupKey struct {
	minute         uint32 // unix minutes
	iface          uint32 // in run.ifList
	client, server uint32 // in run.eps
	serverPort     uint16
	protocol       uint8
	flags          uint8 // keyAccepted, keyServerReports
}

const (
	keyAccepted      = 1
	keyServerReports = 2
)

// Bounds on what a run keeps across calls.
const (
	maxInterned = 1 << 16
	maxHosts    = 1 << 18
)

func newRun() *run {
	r := &run{
		ifaces:  map[string]uint32{},
		byID:    map[string]uint32{},
		strings: map[string]string{},
		hosts:   map[netip.Addr]string{},
		v4:      map[uint64]addrSlot{},
		v6:      map[addrKey]addrSlot{},
		ifCache: ifaceCache{entries: new([1 << ifCacheBits]ifEntry)},
		v4Cache: new([1 << v4CacheBits]v4Entry),
	}
	r.rollups.mem = hugemem.NewHolder(r)
	return r
}

// begin readies r for an object.
func (r *run) begin(p *Processor, obj ObjectMeta) {
	r.snap = p.index.snap.Load()
	r.accounts, r.public, r.account, r.region = p.accounts, p.public, obj.Account, obj.Region
	clear(r.ifaces)
	clear(r.byID)
	r.ifList = r.ifList[:0]
	clear(r.v4)
	clear(r.v6)
	clear(r.ifCache.entries[:])
	clear(r.v4Cache[:])
	r.eps = append(r.eps[:0], endpoint{}, endpoint{}, endpoint{id: model.PublicAggregate})
	if len(r.strings) > maxInterned {
		clear(r.strings)
	}
	if len(r.hosts) > maxHosts {
		clear(r.hosts)
	}
}

// finish returns the rollups, sorted by minute, in out (released
// rollups, or empty), and empties the table for the next object.
func (r *run) finish(out model.FlowRollups) model.FlowRollups {
	r.rollups.flush()
	out.Interfaces, out.Endpoints, out.Rows = out.Interfaces[:0], out.Endpoints[:0], out.Rows[:0]
	if r.rollups.n == 0 {
		r.rollups.each(func(*rollupSlot) {})
		return out
	}
	for i := range r.ifList {
		f := &r.ifList[i]
		out.Interfaces = append(out.Interfaces, model.FlowInterface{ID: f.id, Account: f.account, Region: r.region})
	}
	for i := range r.eps {
		out.Endpoints = append(out.Endpoints, model.FlowEndpoint{ID: r.eps[i].id, Addr: r.eps[i].addr})
	}
	out.Rows = slices.Grow(out.Rows, r.rollups.n)
	r.rollups.each(func(a *rollupSlot) {
		o := model.FlowRollupRow{
			Minute:          a.key.minute,
			Interface:       a.key.iface,
			Client:          a.key.client,
			Server:          a.key.server,
			ServerPort:      a.key.serverPort,
			Protocol:        a.key.protocol,
			Reporter:        model.FlowClient,
			Accepted:        a.key.flags&keyAccepted != 0,
			BytesToServer:   a.bytesToServer,
			BytesToClient:   a.bytesToClient,
			PacketsToServer: a.packetsToServer,
			PacketsToClient: a.packetsToClient,
			Records:         a.records,
		}
		if a.key.flags&keyServerReports != 0 {
			o.Reporter = model.FlowServer
		}
		out.Rows = append(out.Rows, o)
	})
	out.Rows, r.sortBuf = sortByMinute(out.Rows, r.sortBuf)
	return out
}

// sortByMinute sorts rows by minute with a counting sort into buf (an
// object spans minutes to hours), and returns the sorted rows and the
// buffer to keep for next time. Rows spanning too long are sorted in
// place.
func sortByMinute(rows, buf []model.FlowRollupRow) (sorted, spare []model.FlowRollupRow) {
	lo, hi := rows[0].Minute, rows[0].Minute
	for i := range rows {
		lo, hi = min(lo, rows[i].Minute), max(hi, rows[i].Minute)
	}
	if lo == hi {
		return rows, buf
	}
	if int(hi-lo) > 4*len(rows)+1024 {
		slices.SortStableFunc(rows, func(a, b model.FlowRollupRow) int { return cmp.Compare(a.Minute, b.Minute) })
		return rows, buf
	}
	starts := make([]int, hi-lo+2)
	for i := range rows {
		starts[rows[i].Minute-lo+1]++
	}
	for m := 1; m < len(starts); m++ {
		starts[m] += starts[m-1]
	}
	buf = slices.Grow(buf[:0], len(rows))[:len(rows)]
	for i := range rows {
		m := rows[i].Minute - lo
		buf[starts[m]] = rows[i]
		starts[m]++
	}
	return buf, rows
}

// intern returns b as a string, the same string for the same text.
func (r *run) intern(b []byte) string {
	if s, ok := r.strings[string(b)]; ok {
		return s
	}
	s := string(b)
	r.strings[s] = s
	return s
}

// iface returns the number of the record's reporting interface: its
// interface-id (tgw-attachment-id for Transit Gateway flow logs) in its
// account. The usual case, an interface seen before in the same account,
// costs one lookup by the id alone.
func (r *run) iface(rec *flowlogs.Record) uint32 {
	acct := rec.Text(flowlogs.FieldAccountID)
	id := rec.Text(flowlogs.FieldInterfaceID)
	if id == nil {
		id = rec.Text(flowlogs.FieldTGWAttachmentID)
	}
	c, ok := r.ifCache.entry(id, acct)
	if ok && c.n != 0 && string(c.key[:c.n]) == string(id) && string(c.key[c.n:c.n+c.m]) == string(acct) {
		return c.idx
	}
	i := r.ifaceSlow(id, acct)
	if ok {
		c.n, c.m, c.idx = uint8(len(id)), uint8(len(acct)), i
		copy(c.key[copy(c.key[:], id):], acct)
	}
	return i
}

// ifaceSlow is iface past its cache.
func (r *run) ifaceSlow(id, acct []byte) uint32 {
	if i, ok := r.byID[string(id)]; ok {
		if f := &r.ifList[i]; acct == nil && f.account == r.account || acct != nil && string(acct) == f.account {
			return i
		}
	}
	r.keyBuf = append(append(append(r.keyBuf[:0], acct...), ' '), id...)
	i, ok := r.ifaces[string(r.keyBuf)]
	if !ok {
		f := ifaceRun{id: r.intern(id), account: r.account}
		if acct != nil {
			f.account = r.intern(acct)
		}
		f.monitored = r.accounts == nil || r.accounts[f.account]
		if f.info = r.snap.eni(f.id); f.info != nil {
			f.vpc = f.info.vpc
			if len(f.info.addrs) > 0 {
				f.primary = f.info.addrs[0]
			}
		}
		r.ifList = append(r.ifList, f)
		i = uint32(len(r.ifList) - 1)
		r.ifaces[r.intern(r.keyBuf)] = i // interned: no string made per object
		if _, ok := r.byID[f.id]; !ok {
			r.byID[f.id] = i
		}
	}
	return i
}

// cgnat is the shared address space, which VPCs may use as private.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func isPrivate(a netip.Addr) bool { return a.IsPrivate() || cgnat.Contains(a) }

// host returns urn:host:/<a>, made once per address.
func (r *run) host(a netip.Addr) string {
	if s, ok := r.hosts[a]; ok {
		return s
	}
	s := model.HostURN(a)
	r.hosts[a] = s
	return s
}

// sideEndpoint is endpoint for one side of a record of interface f,
// answered without a lookup when it is f's primary address.
func (r *run) sideEndpoint(f *ifaceRun, vpc uint32, a netip.Addr, t int64) uint32 {
	if a != f.primary || !a.IsValid() {
		return r.endpoint(vpc, a, t).ep
	}
	if f.hasOwn && f.own.lo <= t && t < f.own.hi {
		return f.own.ep
	}
	f.own, f.hasOwn = r.endpoint(vpc, a, t), true
	return f.own.ep
}

// endpoint returns the endpoint of address a at t, resolved once per
// object and time span, with that span.
func (r *run) endpoint(vpc uint32, a netip.Addr, t int64) addrSlot {
	if !a.IsValid() {
		return addrSlot{ep: epNone, lo: math.MinInt64, hi: math.MaxInt64}
	}
	var k4 uint64
	var k6 addrKey
	var slot addrSlot
	var ok bool
	if a.Is4() {
		b := a.As4()
		k4 = uint64(vpc)<<32 | uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
		c := &r.v4Cache[(k4*0x9e3779b97f4a7c15)>>(64-v4CacheBits)]
		if c.k == k4 && c.slot.lo <= t && t < c.slot.hi {
			return c.slot
		}
		if slot, ok = r.v4[k4]; ok && slot.lo <= t && t < slot.hi {
			c.k, c.slot = k4, slot
			return slot
		}
		slot = r.endpointSlow(vpc, a, t, k4, k6, slot, ok)
		c.k, c.slot = k4, slot
		return slot
	} else {
		k6 = addrKey{vpc, a}
		slot, ok = r.v6[k6]
	}
	if ok && slot.lo <= t && t < slot.hi {
		return slot
	}
	return r.endpointSlow(vpc, a, t, k4, k6, slot, ok)
}

// endpointSlow is endpoint for an address not seen at t yet.
func (r *run) endpointSlow(vpc uint32, a netip.Addr, t int64, k4 uint64, k6 addrKey, slot addrSlot, ok bool) addrSlot {
	owner, lo, hi := r.snap.lookupSpan(vpc, a, t)
	ep := r.newEndpoint(owner, a)
	if ok && ep > epAggregate && r.eps[slot.ep] == r.eps[ep] && ep == uint32(len(r.eps)-1) {
		// The same as before, over another span: keep one endpoint.
		r.eps = r.eps[:ep]
		ep = slot.ep
	}
	slot = addrSlot{ep: ep, lo: lo, hi: hi}
	if a.Is4() {
		r.v4[k4] = slot
	} else {
		r.v6[k6] = slot
	}
	return slot
}

// newEndpoint returns the endpoint of a owned by owner: the owner, else
// urn:host:/<a> for a private address, else what the public policy says.
func (r *run) newEndpoint(owner string, a netip.Addr) uint32 {
	e := endpoint{id: owner, addr: a}
	switch {
	case owner != "":
	case isPrivate(a) || r.public == PublicKeep:
		e.id = r.host(a)
	case r.public == PublicAggregate:
		return epAggregate
	default:
		return epDrop
	}
	r.eps = append(r.eps, e)
	return uint32(len(r.eps) - 1)
}

// add rolls up one OK record.
func (r *run) add(rec *flowlogs.Record, res *Result) {
	fi := r.iface(rec)
	f := &r.ifList[fi]
	if !f.monitored {
		res.Filtered++
		return
	}
	t := rec.Start
	if t == 0 {
		t = rec.End
	}
	vpc := f.vpc
	if vpc == 0 {
		if b := rec.Text(flowlogs.FieldVPCID); b != nil {
			vpc = r.snap.vpcs[string(b)]
		}
	}
	src := r.sideEndpoint(f, vpc, rec.SrcAddr, t)
	dst := r.sideEndpoint(f, vpc, rec.DstAddr, t)
	if src <= epDrop || dst <= epDrop {
		res.Dropped++
		return
	}
	srcClient, port := Roles(rec.Protocol, rec.SrcPort, rec.DstPort,
		rec.Has(flowlogs.FieldSrcPort) && rec.Has(flowlogs.FieldDstPort), rec.TCPFlags)
	k := rollupKey{
		minute:     uint32(t / 60),
		iface:      fi,
		serverPort: port,
		protocol:   rec.Protocol,
		client:     src,
		server:     dst,
	}
	if !srcClient {
		k.client, k.server = dst, src
	}
	if rec.Action != flowlogs.ActionReject {
		k.flags |= keyAccepted
	}
	if r.srcReports(f, rec, src, dst, t) != srcClient {
		k.flags |= keyServerReports
	}
	r.rollups.add(k, srcClient, rec.Bytes, rec.Packets)
}

// srcReports tells whether the record's source is on the reporting
// interface's side: the side whose address is one of the interface's;
// else the flow direction (egress: the source); else the side owned by
// the interface's owner; else the source.
func (r *run) srcReports(f *ifaceRun, rec *flowlogs.Record, src, dst uint32, t int64) bool {
	// The usual case without reading the interface's addresses: one side
	// is its primary address.
	if f.primary.IsValid() {
		if f.primary == rec.SrcAddr {
			return true
		}
		if f.primary == rec.DstAddr {
			return false
		}
	}
	if n := f.info; n != nil {
		for _, a := range n.addrs {
			if a == rec.SrcAddr {
				return true
			}
			if a == rec.DstAddr {
				return false
			}
		}
	}
	switch rec.FlowDirection {
	case flowlogs.DirectionEgress:
		return true
	case flowlogs.DirectionIngress:
		return false
	}
	if n := f.info; n != nil {
		if o := r.snap.ifaceOwner(n, t); o == r.eps[dst].id && o != r.eps[src].id {
			return false
		}
	}
	return true
}

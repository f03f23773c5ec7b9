package flowlogs

import (
	"cmp"
	"net/netip"
	"runtime"
	"slices"
	"sync"
)

// A tally counts the records one worker reads: totals, and the traffic of
// each group in a groupTable under a 16-byte key, so that adding a record
// allocates nothing and touches one place in memory:
//
//	a: interface index (32 bits) | srcaddr (32)
//	b: dstaddr (32) | dstport (16) | protocol (8) | flags (8)
//
// IPv4 addresses are stored as themselves. Interface ids, and addresses
// that are not IPv4 (IPv6, or none), are interned in the tally and stored
// as their index; tallies are merged by translating indexes.
type tally struct {
	records, ok, nodata, skipdata, malformed int64

	groups *groupTable
	keys   [batchSize]packedKey // records waiting to be added to groups
	counts [batchSize]counters
	nbatch int

	enis     eniTable          // interface ids of the usual form: eni- and 17 hex digits
	others   map[string]uint32 // any other interface id
	ifaces   []string          // by index; index 0 is "no interface id"
	addrs    map[netip.Addr]uint32
	addrList []netip.Addr

	body []byte // a gzip file read whole (Reader.ResetBytes)
}

// Flags in the low byte of packedKey.b.
const (
	actionMask = 3 // the Action
	hasPort    = 1 << 2
	hasProto   = 1 << 3
	srcOther   = 1 << 4 // srcaddr is an intern index
	dstOther   = 1 << 5
	occupied   = 1 << 6 // set in every key, so that a zero slot is empty
)

func newTally() *tally { return newTallyFor(1 << 12) }

// newTallyFor returns a tally whose group table holds about groups groups
// before it grows. Growing costs more than rehashing: every doubling is
// fresh memory, and on some machines each page's first touch is dear.
func newTallyFor(groups int) *tally {
	return &tally{
		groups: newGroupTable(groups),
		others: map[string]uint32{},
		ifaces: []string{""},
		addrs:  map[netip.Addr]uint32{},
	}
}

// add counts one record.
func (t *tally) add(r *Record) {
	t.records++
	switch r.LogStatus {
	case LogStatusNoData:
		t.nodata++
		return
	case LogStatusSkipData:
		t.skipdata++
		return
	}
	t.ok++
	b := uint64(occupied) | uint64(r.Action)&actionMask
	src, other := t.addr(r.SrcAddr)
	if other {
		b |= srcOther
	}
	dst, other := t.addr(r.DstAddr)
	if other {
		b |= dstOther
	}
	if r.Has(FieldDstPort) {
		b |= hasPort | uint64(r.DstPort)<<16
	}
	if r.Has(FieldProtocol) {
		b |= hasProto | uint64(r.Protocol)<<8
	}
	b |= uint64(dst) << 32
	t.keys[t.nbatch] = packedKey{a: uint64(t.iface(r.Text(FieldInterfaceID)))<<32 | uint64(src), b: b}
	t.counts[t.nbatch] = counters{r.Packets, r.Bytes, 1}
	if t.nbatch++; t.nbatch == batchSize {
		t.flush()
	}
}

// flush adds the waiting records to the groups.
func (t *tally) flush() {
	t.groups.addBatch(t.keys[:t.nbatch], t.counts[:t.nbatch])
	t.nbatch = 0
}

// iface returns the index of interface id id (nil: none).
func (t *tally) iface(id []byte) uint32 {
	if id == nil {
		return 0
	}
	if v, hi, ok := eniNumber(id); ok {
		if i, ok := t.enis.get(v, hi); ok {
			return i
		}
		i := t.newIface(string(id))
		t.enis.put(v, hi, i)
		return i
	}
	if i, ok := t.others[string(id)]; ok {
		return i
	}
	i := t.newIface(string(id))
	t.others[string(id)] = i
	return i
}

func (t *tally) newIface(id string) uint32 {
	t.ifaces = append(t.ifaces, id)
	return uint32(len(t.ifaces) - 1)
}

// addr returns a's key value, and whether it is an intern index.
func (t *tally) addr(a netip.Addr) (uint32, bool) {
	if a.Is4() {
		b := a.As4()
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), false
	}
	i, ok := t.addrs[a]
	if !ok {
		i = uint32(len(t.addrList))
		t.addrList = append(t.addrList, a)
		t.addrs[a] = i
	}
	return i, true
}

// hexValue is the value of each lower-case hex digit, 0xff for other bytes.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// eniNumber reads an interface id of the usual form, "eni-" and 17
// lower-case hex digits, as a number: its last 16 digits and its first.
func eniNumber(id []byte) (uint64, uint8, bool) {
	if len(id) != 21 || string(id[:4]) != "eni-" {
		return 0, 0, false
	}
	hi := hexValue[id[4]]
	bad := hi
	var v uint64
	for _, c := range id[5:] {
		d := hexValue[c]
		bad |= d
		v = v<<4 | uint64(d&0xf)
	}
	return v, hi, bad != 0xff
}

// eniTable maps interface ids in number form to their index: open
// addressing, small enough to stay in cache.
type eniTable struct {
	slots []eniSlot
	n     int
}

type eniSlot struct {
	v   uint64
	hi  uint8 // 0x10 | first digit; 0 for an empty slot
	idx uint32
}

func (e *eniTable) get(v uint64, hi uint8) (uint32, bool) {
	if len(e.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(e.slots) - 1)
	for i := (v * 0x9e3779b97f4a7c15 >> 32) & mask; ; i = (i + 1) & mask {
		s := &e.slots[i]
		if s.hi == 0 {
			return 0, false
		}
		if s.v == v && s.hi == 0x10|hi {
			return s.idx, true
		}
	}
}

func (e *eniTable) put(v uint64, hi uint8, idx uint32) {
	if (e.n+1)*4 > len(e.slots)*3 {
		old := e.slots
		e.slots = make([]eniSlot, max(2*len(old), 1024))
		e.n = 0
		for _, s := range old {
			if s.hi != 0 {
				e.put(s.v, s.hi&0xf, s.idx)
			}
		}
	}
	mask := uint64(len(e.slots) - 1)
	i := (v * 0x9e3779b97f4a7c15 >> 32) & mask
	for e.slots[i].hi != 0 {
		i = (i + 1) & mask
	}
	e.slots[i] = eniSlot{v: v, hi: 0x10 | hi, idx: idx}
	e.n++
}

// summarize merges the tallies of the workers into one summary, using
// them up (they are changed). The tally with the most groups is the base:
// the groups of each other tally are looked up in it, several goroutines
// at once (each group is in a tally once, so they write to different
// slots), and added to it; the few it lacks are then inserted. The groups
// are converted and sorted in parts, in parallel, and the sorted parts
// merged.
func summarize(tallies []*tally) Summary {
	var s Summary
	base := tallies[0]
	for _, t := range tallies {
		t.flush()
		s.Records += t.records
		s.OK += t.ok
		s.NoData += t.nodata
		s.SkipData += t.skipdata
		s.Malformed += t.malformed
		if t.groups.n > base.groups.n {
			base = t
		}
	}
	parts := len(tallies)
	for _, t := range tallies {
		if t != base {
			base.merge(t, parts)
		}
	}
	s.Groups = base.sortedGroups(parts)
	return s
}

// sortedGroups returns t's groups sorted by compareGroups. Parts of the
// table are sorted in parallel as small (bytes, slot) pairs, the key
// deciding only between equal bytes; the sorted parts are merged, and the
// Groups made, in parallel, in the one slice returned.
func (t *tally) sortedGroups(parts int) []Group {
	type entry struct {
		bytes uint64
		slot  uint32
	}
	slots := t.groups.slots
	compare := func(a, b entry) int {
		if a.bytes != b.bytes {
			return cmp.Compare(b.bytes, a.bytes)
		}
		ga, gb := t.groupOf(slots[a.slot].key, slots[a.slot].counters), t.groupOf(slots[b.slot].key, slots[b.slot].counters)
		return compareGroups(&ga, &gb)
	}
	sorted := make([][]entry, parts)
	eachPart(len(slots), parts, func(p, lo, hi int) {
		es := make([]entry, 0, t.groups.n/parts+1)
		for i := lo; i < hi; i++ {
			if slots[i].key.b != 0 {
				es = append(es, entry{slots[i].bytes, uint32(i)})
			}
		}
		slices.SortFunc(es, compare)
		sorted[p] = es
	})
	order := make([]uint32, 0, t.groups.n)
	for {
		best := -1
		for i, es := range sorted {
			if len(es) > 0 && (best < 0 || compare(es[0], sorted[best][0]) < 0) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		order = append(order, sorted[best][0].slot)
		sorted[best] = sorted[best][1:]
	}
	groups := make([]Group, len(order))
	eachPart(len(order), parts, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			groups[i] = t.groupOf(slots[order[i]].key, slots[order[i]].counters)
		}
	})
	runtime.KeepAlive(t.groups) // slots may be memory its cleanup unmaps
	return groups
}

// eachPart calls fn for parts ranges that split [0, n), in parallel.
func eachPart(n, parts int, fn func(p, lo, hi int)) {
	chunk := (n + parts - 1) / parts
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := min(p*chunk, n), min((p+1)*chunk, n)
		wg.Go(func() { fn(p, lo, hi) })
	}
	wg.Wait()
}

// merge adds the groups of o to t, with parts goroutines.
func (t *tally) merge(o *tally, parts int) {
	// o's intern indexes in t's.
	ifaceOf := make([]uint32, len(o.ifaces))
	for i, id := range o.ifaces[1:] {
		ifaceOf[i+1] = t.iface([]byte(id))
	}
	addrOf := make([]uint32, len(o.addrList))
	for i, a := range o.addrList {
		addrOf[i], _ = t.addr(a)
	}
	translate := func(k packedKey) packedKey {
		k.a = uint64(ifaceOf[k.a>>32])<<32 | k.a&0xffffffff
		if k.b&srcOther != 0 {
			k.a = k.a&^0xffffffff | uint64(addrOf[uint32(k.a)])
		}
		if k.b&dstOther != 0 {
			k.b = k.b&0xffffffff | uint64(addrOf[k.b>>32])<<32
		}
		return k
	}
	missing := make([][]groupSlot, parts)
	eachPart(len(o.groups.slots), parts, func(p, lo, hi int) {
		var keys [batchSize]packedKey
		var cs [batchSize]counters
		nb := 0
		for i := lo; i < hi; i++ {
			if sl := &o.groups.slots[i]; sl.key.b != 0 {
				keys[nb], cs[nb] = translate(sl.key), sl.counters
				if nb++; nb == batchSize {
					missing[p] = t.groups.findBatch(keys[:], cs[:], missing[p])
					nb = 0
				}
			}
		}
		missing[p] = t.groups.findBatch(keys[:nb], cs[:nb], missing[p])
	})
	for _, m := range missing {
		for _, sl := range m {
			t.groups.add(sl.key, sl.counters)
		}
	}
	runtime.KeepAlive(o.groups) // its slots may be memory its cleanup unmaps
}

// groupOf converts a key of t, and its counters, to a Group.
func (t *tally) groupOf(k packedKey, c counters) Group {
	addr := func(v uint32, other bool) netip.Addr {
		if other {
			return t.addrList[v]
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	g := Group{
		InterfaceID: t.ifaces[k.a>>32],
		SrcAddr:     addr(uint32(k.a), k.b&srcOther != 0),
		DstAddr:     addr(uint32(k.b>>32), k.b&dstOther != 0),
		DstPort:     -1,
		Protocol:    -1,
		Action:      Action(k.b & actionMask),
		Packets:     c.packets, Bytes: c.bytes, Records: c.records,
	}
	if k.b&hasPort != 0 {
		g.DstPort = int32(uint16(k.b >> 16))
	}
	if k.b&hasProto != 0 {
		g.Protocol = int16(uint8(k.b >> 8))
	}
	return g
}

// compareGroups orders groups by bytes, largest first, then by key.
func compareGroups(a, b *Group) int {
	if a.Bytes != b.Bytes {
		return cmp.Compare(b.Bytes, a.Bytes)
	}
	if c := cmp.Compare(a.InterfaceID, b.InterfaceID); c != 0 {
		return c
	}
	if c := a.SrcAddr.Compare(b.SrcAddr); c != 0 {
		return c
	}
	if c := a.DstAddr.Compare(b.DstAddr); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.DstPort, b.DstPort), cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Action, b.Action))
}

package flowlogs

import (
	"math/bits"
	"math/rand/v2"
)

// packedKey is a groupKey in three words: what the group table stores
// and compares. c has bit 63 set, so that a zero slot is empty.
type packedKey struct{ a, b, c uint64 }

func (k groupKey) pack() packedKey {
	return packedKey{
		a: k.iface,
		b: uint64(k.src)<<32 | uint64(k.dst),
		c: uint64(k.dstPort) | uint64(k.ifaceHi)<<16 | uint64(k.proto)<<24 | uint64(k.action)<<32 | uint64(k.flags)<<40 | 1<<63,
	}
}

func (p packedKey) unpack() groupKey {
	return groupKey{
		iface:   p.a,
		src:     uint32(p.b >> 32),
		dst:     uint32(p.b),
		dstPort: uint16(p.c),
		ifaceHi: uint8(p.c >> 16),
		proto:   uint8(p.c >> 24),
		action:  Action(p.c >> 32),
		flags:   uint8(p.c >> 40),
	}
}

// groupSlot is one entry of a groupTable: a key and its counters, in one
// 48-byte slot, so that finding a group and adding to it touches one
// place in memory.
type groupSlot struct {
	key packedKey
	counters
}

// groupTable maps packed keys to counters: open addressing with linear
// probing, a seeded hash, at most 3/4 full. It does what a Go map would,
// at about half the cost for this key.
type groupTable struct {
	slots []groupSlot
	mask  uint64
	n     int
	seed  uint64

	touched uint64 // sum of touched words, so the touching is not optimized away
}

// batchSize is how many records a tally collects before adding them.
const batchSize = 32

func newGroupTable() *groupTable {
	t := &groupTable{seed: rand.Uint64() | 1}
	t.resize(1 << 12)
	return t
}

func (t *groupTable) resize(size int) {
	old := t.slots
	t.slots = make([]groupSlot, size)
	t.mask = uint64(size - 1)
	t.n = 0
	for i := range old {
		if old[i].key.c != 0 {
			t.add(old[i].key, old[i].counters)
		}
	}
}

func (t *groupTable) hash(k packedKey) uint64 {
	h := (k.a ^ t.seed) * 0x9e3779b97f4a7c15
	h = bits.RotateLeft64(h, 29) ^ k.b*0xc2b2ae3d27d4eb4f
	h = bits.RotateLeft64(h, 31) ^ k.c*0x165667b19e3779f9
	h ^= h >> 32
	h *= 0xd6e8feb86659fd93
	return h ^ h>>29
}

// add adds c to the counters of key k, creating them if need be.
func (t *groupTable) add(k packedKey, c counters) { t.addHashed(k, t.hash(k), c) }

func (t *groupTable) addHashed(k packedKey, h uint64, c counters) {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.key == k {
			s.packets += c.packets
			s.bytes += c.bytes
			s.records += c.records
			return
		}
		if s.key.c == 0 {
			s.key, s.counters = k, c
			t.n++
			if t.n*4 > len(t.slots)*3 {
				t.resize(2 * len(t.slots))
			}
			return
		}
	}
}

// addBatch adds each cs[i] to the counters of keys[i]. It first touches
// the slot of every key, so that their cache misses are waited for
// together rather than one after the other.
func (t *groupTable) addBatch(keys []packedKey, cs []counters) {
	var hashes [batchSize]uint64
	var touch uint64
	for i, k := range keys {
		h := t.hash(k)
		hashes[i] = h
		touch += t.slots[h&t.mask].key.c
	}
	t.touched += touch
	for i, k := range keys {
		t.addHashed(k, hashes[i], cs[i])
	}
}

// each calls fn for every group.
func (t *groupTable) each(fn func(packedKey, counters)) {
	for i := range t.slots {
		if t.slots[i].key.c != 0 {
			fn(t.slots[i].key, t.slots[i].counters)
		}
	}
}

package flowlogs

import (
	"math/bits"
	"math/rand/v2"
	"runtime"

	"github.com/skymap/skymap/internal/hugemem"
)

// packedKey is a group's key as a tally stores it (see tally). A key's b
// is never zero, so that a zero slot is empty.
type packedKey struct{ a, b uint64 }

type counters struct{ packets, bytes, records uint64 }

// groupSlot is one entry of a groupTable: a key and its counters in one
// 40-byte slot, so that finding a group and adding to it touches one
// place in memory.
type groupSlot struct {
	key packedKey
	counters
}

// groupTable maps keys to counters: open addressing with linear probing,
// a seeded hash, at most 3/4 full. It does what a Go map would, at about
// half the cost for this key.
type groupTable struct {
	slots []groupSlot
	mask  uint64
	n     int
	seed  uint64

	touched uint64 // sum of touched words, so the touching is not optimized away

	// mem maps big slot arrays with huge pages (package hugemem); the
	// table is its owner.
	mem *hugemem.Holder
}

// batchSize is how many records a tally collects before adding them.
const batchSize = 64

// newGroupTable returns a table for about n groups.
func newGroupTable(n int) *groupTable {
	t := &groupTable{seed: rand.Uint64() | 1}
	t.mem = hugemem.NewHolder(t)
	size := 1 << 10
	for size*3/4 < n {
		size *= 2
	}
	t.resize(size)
	return t
}

func (t *groupTable) resize(size int) {
	old := t.slots
	t.slots = hugemem.Make[groupSlot](t.mem, size)
	t.mask = uint64(size - 1)
	t.n = 0
	for i := range old {
		if old[i].key.b != 0 {
			t.add(old[i].key, old[i].counters)
		}
	}
	t.mem.Swap()
}

func (t *groupTable) hash(k packedKey) uint64 {
	h := (k.a ^ t.seed) * 0x9e3779b97f4a7c15
	h = bits.RotateLeft64(h, 31) ^ k.b*0xc2b2ae3d27d4eb4f
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
		if s.key.b == 0 {
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
		touch += t.slots[h&t.mask].key.b
	}
	t.touched += touch
	for i, k := range keys {
		t.addHashed(k, hashes[i], cs[i])
	}
}

// findBatch adds each cs[i] to the counters of keys[i] where the table
// has that key, and appends the keys it does not have, with their
// counters, to missing. It writes only to the slots of the keys it finds,
// so calls with different keys may run at once.
func (t *groupTable) findBatch(keys []packedKey, cs []counters, missing []groupSlot) []groupSlot {
	var hashes [batchSize]uint64
	var touch uint64
	for i, k := range keys {
		h := t.hash(k)
		hashes[i] = h
		touch += t.slots[h&t.mask].key.b
	}
	for i, k := range keys {
		j := hashes[i] & t.mask
		for t.slots[j].key != k && t.slots[j].key.b != 0 {
			j = (j + 1) & t.mask
		}
		if s := &t.slots[j]; s.key == k {
			s.packets += cs[i].packets
			s.bytes += cs[i].bytes
			s.records += cs[i].records
		} else {
			missing = append(missing, groupSlot{k, cs[i]})
		}
	}
	if touch == 0 && len(keys) > 0 && hashes[0] == 0 {
		runtime.KeepAlive(touch) // the touching must not be optimized away
	}
	return missing
}

package flows

import "github.com/skymap/skymap/internal/hugemem"

// rollupTable holds the rollups of one object: open addressing with
// linear probing, each slot a rollup's key and counters in one 64-byte
// cache line. Rollups come in batches: the slots of a whole batch are
// touched before any is updated, so that their cache misses overlap
// instead of coming one after another (an object's rollups are about as
// many as its records, megabytes of them, and each record lands at a
// random place). It does what a Go map of key to an index into a slice
// of counters would, at a third of the cost for this key.
type rollupTable struct {
	slots []rollupSlot
	mask  uint64
	n     int

	batch  [tableBatch]pending
	hashes [tableBatch]uint64
	nbatch int
	sink   uint8 // what touching read, so that it is not optimized away

	// mem maps big slot arrays with huge pages (package hugemem); nil
	// keeps them on the Go heap. Its owner is the run holding the table.
	mem *hugemem.Holder
}

// rollupSlot is one rollup. A zero key.flags (keyUsed unset) is an empty
// slot.
type rollupSlot struct {
	key             rollupKey
	_               uint32
	bytesToServer   uint64
	bytesToClient   uint64
	packetsToServer uint64
	packetsToClient uint64
	records         uint64
}

// pending is one record waiting in a batch.
type pending struct {
	key      rollupKey
	toServer bool
	bytes    uint64
	packets  uint64
}

const (
	tableBatch   = 64
	minTableSize = 1 << 12
)

// keyUsed is set in the flags of every stored key.
const keyUsed = 0x80

// add queues one record's traffic for the rollup k.
func (t *rollupTable) add(k rollupKey, toServer bool, bytes, packets uint64) {
	k.flags |= keyUsed
	t.batch[t.nbatch] = pending{key: k, toServer: toServer, bytes: bytes, packets: packets}
	if t.nbatch++; t.nbatch == tableBatch {
		t.flush()
	}
}

// flush adds the queued records.
func (t *rollupTable) flush() {
	if t.slots == nil {
		t.resize(minTableSize)
	}
	if (t.n+t.nbatch)*4 > len(t.slots)*3 {
		t.resize(len(t.slots) * 2)
	}
	batch := t.batch[:t.nbatch]
	var sink uint8
	for i := range batch {
		h := hashKey(&batch[i].key)
		t.hashes[i] = h
		sink ^= t.slots[h&t.mask].key.flags
	}
	t.sink ^= sink
	for i := range batch {
		p := &batch[i]
		s := t.slot(p.key, t.hashes[i])
		if p.toServer {
			s.bytesToServer += p.bytes
			s.packetsToServer += p.packets
		} else {
			s.bytesToClient += p.bytes
			s.packetsToClient += p.packets
		}
		s.records++
	}
	t.nbatch = 0
}

// slot returns k's slot, making it.
func (t *rollupTable) slot(k rollupKey, h uint64) *rollupSlot {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.key == k {
			return s
		}
		if s.key.flags == 0 {
			s.key = k
			t.n++
			return s
		}
	}
}

func (t *rollupTable) resize(size int) {
	old := t.slots
	t.slots = hugemem.Make[rollupSlot](t.mem, size)
	t.mask = uint64(size - 1)
	for i := range old {
		if old[i].key.flags != 0 {
			s := t.slot(old[i].key, hashKey(&old[i].key))
			*s = old[i]
		}
	}
	t.mem.Swap()
}

// hashKey mixes a key's 20 bytes (multiply-xorshift).
func hashKey(k *rollupKey) uint64 {
	a := uint64(k.minute)<<32 | uint64(k.iface)
	b := uint64(k.client)<<32 | uint64(k.server)
	c := uint64(k.serverPort)<<16 | uint64(k.protocol)<<8 | uint64(k.flags)
	h := a*0x9e3779b97f4a7c15 ^ b*0xc2b2ae3d27d4eb4f ^ c*0x165667b19e3779f9
	h ^= h >> 32
	h *= 0xd6e8feb86659fd93
	h ^= h >> 32
	return h
}

// each calls f for every rollup, in slot order, then empties the table.
// A table much larger than what it held is shrunk for the next object.
func (t *rollupTable) each(f func(*rollupSlot)) {
	t.flush()
	for i := range t.slots {
		if t.slots[i].key.flags != 0 {
			f(&t.slots[i])
			t.slots[i] = rollupSlot{}
		}
	}
	if len(t.slots) > minTableSize && t.n*16 < len(t.slots) {
		t.slots = nil
		t.mem.Free()
	}
	t.n = 0
}

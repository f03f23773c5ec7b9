// Package hugemem maps large pointer-free tables outside the Go heap, with
// transparent huge pages asked for. A hash table of some MiB is touched all
// over at once; with 4 KiB pages every first touch is a page fault and
// nearly every access a TLB miss. On the virtual machines skymap runs on a
// first touch costs about 9 µs (measured: touching 64 MiB took 154 ms in
// small pages, 6-87 ms in huge ones), so tables of flow-log groups and
// rollups spent more time faulting than counting.
package hugemem

import "unsafe"

// MinBytes is the size from which Make maps memory: smaller tables stay
// on the Go heap.
const MinBytes = 4 << 20

// Holder owns the mapping behind one table's slots: the current one, and
// the next while a table grows. Once its owner is unreachable a cleanup
// unmaps what it holds, so the table's slots must not be used past the
// owner's life (use runtime.KeepAlive where a loop outlives its last use).
type Holder struct {
	cur, next []byte
}

// Make returns n zeroed Ts for h's table, replacing the slots it made
// before: those stay mapped until Swap (or the next Make), so that a
// growing table can rehash from them. T must hold no pointers: the
// garbage collector does not see mapped memory.
func Make[T any](h *Holder, n int) []T {
	var zero T
	size := n * int(unsafe.Sizeof(zero))
	if h == nil || size < MinBytes {
		return make([]T, n)
	}
	mem := mapHuge(size)
	if mem == nil {
		return make([]T, n)
	}
	h.Swap() // the slots Make made before are the ones being replaced
	h.next = mem
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(mem))), n)
}

// Swap unmaps the previous slots' mapping, if any, and keeps the one Make
// made last.
func (h *Holder) Swap() {
	if h == nil || h.next == nil {
		return
	}
	if h.cur != nil {
		unmap(h.cur)
	}
	h.cur, h.next = h.next, nil
}

// Free unmaps everything h holds: the table's slots must not be used
// after.
func (h *Holder) Free() {
	if h == nil {
		return
	}
	for _, m := range [][]byte{h.cur, h.next} {
		if m != nil {
			unmap(m)
		}
	}
	h.cur, h.next = nil, nil
}

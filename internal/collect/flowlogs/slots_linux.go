package flowlogs

import (
	"runtime"
	"syscall"
	"unsafe"
)

// hugeSlotsMin is the table size (in bytes) from which slots are mapped
// outside the Go heap with transparent huge pages asked for: a table of
// a few MiB is touched all over at once, and on virtual machines where
// every first touch of a 4 KiB page is dear, 2 MiB pages fault 512 times
// less (measured here: touching 64 MiB took 154 ms in small pages, 6-87
// ms in huge ones).
const hugeSlotsMin = 4 << 20

// madvHugepage is MADV_HUGEPAGE.
const madvHugepage = 14

// slotMem is the mapping behind a table's slots, nil when they are on the
// Go heap. It is its own object so that a cleanup can unmap it once the
// table is unreachable.
type slotMem struct{ mem []byte }

// allocSlots returns n zeroed slots for t, replacing (and unmapping) the
// mapping of its previous slots: call it once those are rehashed. Big
// tables live in anonymous memory mapped for them (groupSlot holds no
// pointers, so the garbage collector need not see it).
func allocSlots(t *groupTable, n int) []groupSlot {
	size := n * int(unsafe.Sizeof(groupSlot{}))
	if size < hugeSlotsMin {
		return make([]groupSlot, n)
	}
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]groupSlot, n)
	}
	syscall.Madvise(mem, madvHugepage) // a hint: without it, small pages
	if t.mem == nil {
		t.mem = &slotMem{}
		runtime.AddCleanup(t, func(m *slotMem) {
			if m.mem != nil {
				syscall.Munmap(m.mem)
			}
		}, t.mem)
	}
	t.pending = mem
	return unsafe.Slice((*groupSlot)(unsafe.Pointer(unsafe.SliceData(mem))), n)
}

// freeOldSlots unmaps the mapping of the slots allocSlots replaced, once
// they are rehashed, and keeps the new one for the cleanup.
func freeOldSlots(t *groupTable) {
	if t.mem == nil {
		return
	}
	if t.mem.mem != nil {
		syscall.Munmap(t.mem.mem)
	}
	t.mem.mem, t.pending = t.pending, nil
}

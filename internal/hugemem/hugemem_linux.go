package hugemem

import (
	"runtime"
	"syscall"
)

// madvHugepage is MADV_HUGEPAGE.
const madvHugepage = 14

// NewHolder returns a Holder whose mappings are unmapped once owner is
// unreachable.
func NewHolder[O any](owner *O) *Holder {
	h := &Holder{}
	runtime.AddCleanup(owner, func(h *Holder) {
		for _, m := range [][]byte{h.cur, h.next} {
			if m != nil {
				unmap(m)
			}
		}
	}, h)
	return h
}

func mapHuge(size int) []byte {
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	syscall.Madvise(mem, madvHugepage) // a hint: without it, small pages
	return mem
}

func unmap(mem []byte) { syscall.Munmap(mem) }

//go:build !linux

package flowlogs

// slotMem is unused where tables live on the Go heap.
type slotMem struct{}

func allocSlots(t *groupTable, n int) []groupSlot { return make([]groupSlot, n) }

func freeOldSlots(t *groupTable) {}

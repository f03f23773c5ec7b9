//go:build !linux

package hugemem

// NewHolder returns a Holder; tables stay on the Go heap here.
func NewHolder[O any](owner *O) *Holder { return nil }

func mapHuge(size int) []byte { return nil }

func unmap(mem []byte) {}

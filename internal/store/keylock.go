package store

import "sync"

// KeyLock serializes work per key within a process: the flow stores
// commit one object at a time, so that two commits of it do not both
// write it. The zero value is ready.
type KeyLock struct {
	mu   sync.Mutex
	cond *sync.Cond
	held map[string]bool
}

// Lock waits until no one holds k, takes it and returns its unlock.
func (l *KeyLock) Lock(k string) (unlock func()) {
	l.mu.Lock()
	if l.cond == nil {
		l.cond, l.held = sync.NewCond(&l.mu), map[string]bool{}
	}
	for l.held[k] {
		l.cond.Wait()
	}
	l.held[k] = true
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.held, k)
		l.cond.Broadcast()
		l.mu.Unlock()
	}
}

package store

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Holders of one key take turns; other keys do not wait for them.
func TestKeyLock(t *testing.T) {
	var l KeyLock
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				unlock := l.Lock("a")
				n := inside.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				other := l.Lock("b") // would deadlock if "a" blocked "b"
				other()
				inside.Add(-1)
				unlock()
			}
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders of one key at once, want 1", most.Load())
	}
}

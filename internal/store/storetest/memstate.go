package storetest

import (
	"context"
	"slices"
	"sync"

	"github.com/skymap/skymap/internal/store"
)

// MemState is a store.State in memory, for collectors' tests. The zero
// value is empty and ready.
type MemState struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ store.State = (*MemState)(nil)

// GetState returns a copy of key's value, or store.ErrNotFound.
func (s *MemState) GetState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return slices.Clone(v), nil
}

// PutState keeps a copy of value under key.
func (s *MemState) PutState(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = slices.Clone(value)
	return nil
}

// Get returns key's value as text, "" when there is none.
func (s *MemState) Get(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.m[key])
}

// Keys returns the keys held, sorted.
func (s *MemState) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

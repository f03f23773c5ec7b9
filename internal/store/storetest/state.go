package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/skymap/skymap/internal/store"
)

// State runs the conformance tests of store.State. open returns an empty
// store and reopen, which returns the same data as a new process would
// see it.
func State(t *testing.T, open func(t *testing.T) (s store.State, reopen func() store.State)) {
	ctx := context.Background()
	s, reopen := open(t)
	if _, err := s.GetState(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetState of a missing key: %v, want ErrNotFound", err)
	}
	for _, v := range []string{"one", "two"} {
		if err := s.PutState(ctx, "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetState(ctx, "k")
		if err != nil || string(got) != v {
			t.Errorf("GetState = %q, %v; want %q", got, err, v)
		}
	}
	binary := []byte{0, 0xff, 0xfe, '\n', 0}
	if err := s.PutState(ctx, "flows/cursor/é", binary); err != nil {
		t.Fatal(err)
	}
	s = reopen()
	for key, want := range map[string][]byte{"k": []byte("two"), "flows/cursor/é": binary} {
		got, err := s.GetState(ctx, key)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("GetState(%q) after a restart = %q, %v; want %q", key, got, err, want)
		}
	}
	if _, err := s.GetState(ctx, "K"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetState of another case of a key: %v, want ErrNotFound", err)
	}
}

package awstest

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"
)

// StartT starts moto for t and stops it when t ends. When moto is not
// installed, t is skipped with the reason, except under CI=true, where a
// missing emulator fails t: it never skips silently in CI.
func StartT(t testing.TB) *Moto {
	t.Helper()
	return Options{}.StartT(t)
}

// StartT is the package-level StartT with these options.
func (o Options) StartT(t testing.TB) *Moto {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := Start(ctx, o)
	if err != nil {
		startFailed(t, err)
		return nil // only reached with a testing.TB whose Skip and Fatal return
	}
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// startFailed skips or fails t for a Start error, as StartT documents.
func startFailed(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
		return
	}
	t.Fatal(err)
}

var shared struct {
	once sync.Once
	m    *Moto
	err  error
}

// Shared returns the moto server of this test binary, starting it on first
// use, and resets it so that t starts from an empty emulator. Tests that use
// Shared must not run in parallel with each other. A missing moto is handled
// as in StartT. The server is killed when the test binary exits; use
// SharedMain to stop it explicitly, e.g. before goleak looks for leftovers.
func Shared(t testing.TB) *Moto {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.m, shared.err = Start(ctx, Options{})
	})
	if shared.err != nil {
		startFailed(t, shared.err)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := shared.m.Reset(ctx); err != nil {
		t.Fatal(err)
		return nil
	}
	return shared.m
}

// SharedMain wraps m so that its Run stops the server Shared started once
// all tests have run. Use it in TestMain:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(awstest.SharedMain(m)) }
func SharedMain(m *testing.M) interface{ Run() int } {
	return sharedMain{m}
}

type sharedMain struct{ m *testing.M }

func (s sharedMain) Run() int {
	code := s.m.Run()
	if shared.m != nil {
		if err := shared.m.Stop(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

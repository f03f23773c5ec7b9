package flowdb

import (
	"net/netip"
	"testing"

	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/storetest"
)

// TestConformance runs the store.Flows conformance tests.
func TestConformance(t *testing.T) {
	storetest.Flows(t, func(t *testing.T) store.Flows { return open(t, t.TempDir(), Options{}) })
}

// rollup is storetest.Rollup.
var rollup = storetest.Rollup

func TestPrefixRange(t *testing.T) {
	for _, tc := range []struct{ p, lo, hi string }{
		{"10.0.0.0/8", "00000000000000000000ffff0a000000", "00000000000000000000ffff0affffff"},
		{"10.0.0.7/32", "00000000000000000000ffff0a000007", "00000000000000000000ffff0a000007"},
		{"2001:db8::/32", "20010db8000000000000000000000000", "20010db8ffffffffffffffffffffffff"},
		{"10.1.2.3/16", "00000000000000000000ffff0a010000", "00000000000000000000ffff0a01ffff"},
	} {
		lo, hi := prefixRange(netip.MustParsePrefix(tc.p))
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("%s: %s..%s, want %s..%s", tc.p, lo, hi, tc.lo, tc.hi)
		}
	}
	if got := addrKey(netip.MustParseAddr("10.0.0.7")); got != "00000000000000000000ffff0a000007" {
		t.Errorf("addrKey %s", got)
	}
}

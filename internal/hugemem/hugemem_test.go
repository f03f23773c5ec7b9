package hugemem

import (
	"runtime"
	"testing"
)

type slot struct{ a, b, c uint64 }

func TestMakeSwap(t *testing.T) {
	owner := new(int)
	h := NewHolder(owner)
	small := Make[slot](h, 10)
	if len(small) != 10 {
		t.Fatalf("len %d", len(small))
	}
	n := MinBytes/24 + 1
	a := Make[slot](h, n)
	for i := range a {
		if a[i] != (slot{}) {
			t.Fatalf("slot %d not zero", i)
		}
		a[i].a = uint64(i)
	}
	b := Make[slot](h, 2*n)
	for i := range a { // the old slots are readable until Swap
		b[i] = a[i]
	}
	h.Swap()
	for i := range n {
		if b[i].a != uint64(i) {
			t.Fatalf("slot %d = %d", i, b[i].a)
		}
	}
	runtime.KeepAlive(owner)
}

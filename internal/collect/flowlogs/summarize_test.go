package flowlogs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var groupOpts = cmp.Comparer(func(a, b Group) bool { return a == b })

func TestSummarize(t *testing.T) {
	dir := t.TempDir()
	long := "eni-" + strings.Repeat("x", 40) // not of the usual form: interned
	files := []string{
		writeFile(t, dir, "a.log.gz", gz(t, hdr+
			"2 1 eni-0123456789abcdef0 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1 2 ACCEPT OK\n"+
			"2 1 eni-0123456789abcdef0 10.0.0.1 10.0.0.2 40001 443 6 5 500 1 2 ACCEPT OK\n"+
			"2 1 eni-0123456789abcdef0 - - - - - - - 1 2 - NODATA\n"+
			"2 1 eni-0123456789abcdef0 - - - - - - - 1 2 - SKIPDATA\n")),
		writeFile(t, dir, "b.log", []byte(hdr+
			"2 1 eni-0123456789abcdef0 10.0.0.1 10.0.0.2 40002 443 6 1 100 1 2 ACCEPT OK\n"+
			"2 1 "+long+" 2001:db8::1 2001:db8::2 1 53 17 1 60 1 2 REJECT OK\n"+
			"2 1 eni-9 10.0.0.3 10.0.0.4 0 0 1 2 200 1 2 ACCEPT OK\n"+
			"2 1 eni-9 10.0.0.3 10.0.0.4 - - - 3 300 1 2 ACCEPT OK\n")),
		writeFile(t, dir, "c.log", []byte("interface-id srcaddr dstaddr srcport dstport protocol packets bytes start action\n"+
			long+" 2001:db8::1 2001:db8::2 9 53 17 2 120 1 REJECT\n"+
			"eni-9 10.0.0.3 10.0.0.4 1 0 1 1 100 1 ACCEPT\n")),
		writeFile(t, dir, "d.log", []byte("srcaddr dstaddr srcport dstport protocol packets bytes start pkt-srcaddr pkt-dstaddr action\n"+
			"10.0.0.5 10.0.0.6 1 2 6 1 10 1 10.0.0.5 10.0.0.6 ACCEPT\n")),
	}
	want := Summary{
		Records: 11, OK: 9, NoData: 1, SkipData: 1,
		Groups: []Group{
			{InterfaceID: "eni-0123456789abcdef0", SrcAddr: addr("10.0.0.1"), DstAddr: addr("10.0.0.2"), DstPort: 443, Protocol: 6, Action: ActionAccept, Packets: 16, Bytes: 1600, Records: 3},
			{InterfaceID: "eni-9", SrcAddr: addr("10.0.0.3"), DstAddr: addr("10.0.0.4"), DstPort: -1, Protocol: -1, Action: ActionAccept, Packets: 3, Bytes: 300, Records: 1},
			{InterfaceID: "eni-9", SrcAddr: addr("10.0.0.3"), DstAddr: addr("10.0.0.4"), DstPort: 0, Protocol: 1, Action: ActionAccept, Packets: 3, Bytes: 300, Records: 2},
			{InterfaceID: long, SrcAddr: addr("2001:db8::1"), DstAddr: addr("2001:db8::2"), DstPort: 53, Protocol: 17, Action: ActionReject, Packets: 3, Bytes: 180, Records: 2},
			{InterfaceID: "", SrcAddr: addr("10.0.0.5"), DstAddr: addr("10.0.0.6"), DstPort: 2, Protocol: 6, Action: ActionAccept, Packets: 1, Bytes: 10, Records: 1},
		},
	}
	for _, workers := range []int{1, 2, 4} {
		got, results := Summarize(context.Background(), files, SummarizeOptions{Workers: workers})
		if diff := cmp.Diff(want, got, groupOpts); diff != "" {
			t.Errorf("%d workers: summary (-want +got):\n%s", workers, diff)
		}
		for i, r := range results {
			if r.Path != files[i] || r.Failed() {
				t.Errorf("%d workers: result %d: %+v", workers, i, r)
			}
		}
		if results[0].Records != 4 || results[3].Records != 1 {
			t.Errorf("record counts per file: %+v", results)
		}
	}
}

// A file's problems are its own: the others, and its good records, count.
func TestSummarizeProblems(t *testing.T) {
	dir := t.TempDir()
	good := hdr + rec1 + "\n" + rec2 + "\n"
	cut := gz(t, good+rec1+"\n")
	files := []string{
		writeFile(t, dir, "good.log", []byte(good)),
		filepath.Join(dir, "missing.log"),
		writeFile(t, dir, "truncated.log.gz", cut[:len(cut)-10]),
		writeFile(t, dir, "malformed.log", []byte(hdr+rec1+"\nnot a record\n"+rec2+"\n")),
		writeFile(t, dir, "fields.log", []byte("srcaddr dstaddr bytes\n10.0.0.1 10.0.0.2 5\n")),
	}
	got, results := Summarize(context.Background(), files, SummarizeOptions{Workers: 2})
	if got.Records != 7 || got.Malformed != 1 || got.OK != 7 {
		t.Errorf("totals %+v", got)
	}
	if results[0].Failed() || results[0].Records != 2 {
		t.Errorf("good file: %+v", results[0])
	}
	if !errors.Is(results[1].Err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", results[1].Err)
	}
	if !errors.Is(results[2].Err, ErrCorrupt) || results[2].Records != 3 || !strings.Contains(results[2].Err.Error(), "truncated.log.gz") {
		t.Errorf("truncated file: %+v", results[2])
	}
	if r := results[3]; r.Err != nil || r.Malformed != 1 || r.Records != 2 || len(r.LineErrors) != 1 || r.LineErrors[0].Line != 3 || !r.Failed() {
		t.Errorf("malformed file: %+v", r)
	}
	var me *MissingFieldsError
	if r := results[4]; !errors.As(r.Err, &me) || r.Records != 0 || !strings.Contains(r.Err.Error(), "fields.log") {
		t.Errorf("file without attribution fields: %+v", r)
	}
}

func TestSummarizeCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, results := Summarize(ctx, []string{writeFile(t, dir, "a.log", []byte(hdr+rec1+"\n"))}, SummarizeOptions{})
	if got.Records != 0 || !errors.Is(results[0].Err, context.Canceled) {
		t.Errorf("cancelled: %+v %+v", got, results)
	}
}

// Adding a record to its group allocates nothing once the group exists.
func TestTallyAllocs(t *testing.T) {
	var r Record
	if err := DefaultFormat().ParseLine([]byte(rec1), &r); err != nil {
		t.Fatal(err)
	}
	tl := newTally()
	tl.add(&r)
	if n := testing.AllocsPerRun(1000, func() { tl.add(&r) }); n != 0 {
		t.Errorf("%v allocations per record", n)
	}
}

// Tallies of different workers intern unusual interface ids and IPv6
// addresses each in their own way; merging translates them.
func TestTallyMerge(t *testing.T) {
	f := mustHeader(t, "interface-id srcaddr dstaddr dstport protocol packets bytes action")
	long := "eni-" + strings.Repeat("y", 40)
	lines := []string{
		long + " 2001:db8::1 2001:db8::2 53 17 1 10 ACCEPT",
		"- 2001:db8::3 10.0.0.1 53 17 1 10 ACCEPT",
		"eni-abc 2001:db8::1 - 53 17 1 10 ACCEPT",
		"eni-0123456789abcdef0 10.0.0.1 10.0.0.2 443 6 1 10 REJECT",
	}
	lines = append(lines, lines[2], lines[0], lines[3], lines[3])
	// tallies spreads the lines over n tallies, round robin.
	tallies := func(n int) []*tally {
		ts := make([]*tally, n)
		for i := range ts {
			ts[i] = newTally()
		}
		var r Record
		for i, l := range lines {
			if err := f.ParseLine([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			ts[i%n].add(&r)
		}
		return ts
	}
	want := summarize(tallies(1))
	if n := len(want.Groups); n != 4 || want.OK != 8 {
		t.Errorf("%d groups, %d records", n, want.OK)
	}
	for n := 2; n <= 5; n++ {
		if diff := cmp.Diff(want, summarize(tallies(n)), groupOpts); diff != "" {
			t.Errorf("merged (-one tally +%d):\n%s", n, diff)
		}
	}
}

// Thousands of interfaces grow the interface table; every id comes back.
func TestTallyManyInterfaces(t *testing.T) {
	f := mustHeader(t, "interface-id srcaddr dstaddr bytes")
	tallies := []*tally{newTally(), newTally()}
	var r Record
	want := map[string]bool{}
	for i := range 5000 {
		id := fmt.Sprintf("eni-%017x", i*7919)
		want[id] = true
		line := fmt.Sprintf("%s 10.0.%d.%d 10.1.0.1 %d", id, i/256, i%256, i)
		for _, tl := range tallies {
			if err := f.ParseLine([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			tl.add(&r)
		}
	}
	s := summarize(tallies)
	if len(s.Groups) != 5000 || s.OK != 10000 {
		t.Fatalf("%d groups of %d records", len(s.Groups), s.OK)
	}
	for _, g := range s.Groups {
		if !want[g.InterfaceID] || g.Records != 2 || g.Bytes%2 != 0 {
			t.Fatalf("group %+v", g)
		}
		delete(want, g.InterfaceID)
	}
}

package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/collect/flowlogs/flowlogstest"
)

// summaryJSON is `skymap flowlogs summarize --output json` as a reader of
// it sees it.
type summaryJSON struct {
	Records, OK, NoData, SkipData, Malformed *int64
	Groups                                   []struct {
		InterfaceID *string `json:"interface_id"`
		SrcAddr     *string
		DstAddr     *string
		DstPort     *int
		Protocol    *int
		Action      *string
		Packets     uint64
		Bytes       uint64
		Records     uint64
	}
}

// simpleTotals is the independent computation the command is checked
// against: strings.Fields, strconv and a map keyed by the six fields
// joined as text, over the default format only.
type simpleTotals struct {
	records, ok, nodata, skipdata, malformed int64
	groups                                   map[string][3]uint64 // packets, bytes, records
}

func simpleSummarize(t *testing.T, paths []string) simpleTotals {
	s := simpleTotals{groups: map[string][3]uint64{}}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(raw)) // the standard library's gzip, not the command's
			if err != nil {
				t.Fatal(err)
			}
			if raw, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		for _, line := range strings.Split(string(raw), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || f[0] == "version" {
				continue
			}
			if len(f) != 14 {
				s.malformed++
				continue
			}
			packets, err1 := strconv.ParseUint(f[8], 10, 64)
			bytes, err2 := strconv.ParseUint(f[9], 10, 64)
			if f[13] == "OK" && (err1 != nil || err2 != nil) {
				s.malformed++
				continue
			}
			s.records++
			switch f[13] {
			case "NODATA":
				s.nodata++
				continue
			case "SKIPDATA":
				s.skipdata++
				continue
			}
			s.ok++
			key := strings.Join([]string{f[2], f[3], f[4], f[6], f[7], f[12]}, " ")
			g := s.groups[key]
			s.groups[key] = [3]uint64{g[0] + packets, g[1] + bytes, g[2] + 1}
		}
	}
	return s
}

// The command's summary agrees with a deliberately simple computation over
// a generated corpus of gzip and plain files, with IPv6, missing ports and
// protocols, NODATA, SKIPDATA and malformed lines mixed in.
func TestFlowlogsSummarizeAgrees(t *testing.T) {
	dir := t.TempDir()
	estate := flowlogstest.NewEstate(7, 300)
	var paths []string
	for i := range 5 {
		var text bytes.Buffer
		if err := estate.Write(&text, uint64(i), 4000, 1767225600); err != nil {
			t.Fatal(err)
		}
		text.WriteString("2 123456789012 eni-0aaaaaaaaaaaaaaaa 2001:db8::1 2001:db8::2 53000 53 17 1 80 1767225600 1767225660 ACCEPT OK\n")
		text.WriteString("2 123456789012 eni-0aaaaaaaaaaaaaaaa 10.0.0.1 10.0.0.2 - - - 1 40 1767225600 1767225660 REJECT OK\n")
		text.WriteString("2 123456789012 eni-0aaaaaaaaaaaaaaaa 10.0.0.1 10.0.0.2 too few fields\n")
		data := text.Bytes()
		name := fmt.Sprintf("f%d.log", i)
		if i%2 == 0 {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(data)
			zw.Close()
			data, name = z.Bytes(), name+".gz"
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	want := simpleSummarize(t, paths)
	if want.records != 5*4002 || want.malformed != 5 || want.nodata == 0 || want.skipdata == 0 {
		t.Fatalf("corpus is not what the test needs: %+v", want)
	}

	code, stdout, stderr := run(t, append([]string{"flowlogs", "summarize", "--output", "json"}, paths...)...)
	if code != exitPartial || strings.Count(stderr, "1 malformed line(s) skipped") != 5 || !strings.Contains(stderr, "line 4004: wrong field count: 8, want 14") {
		t.Errorf("exit %d (want %d for the malformed lines), stderr:\n%s", code, exitPartial, stderr)
	}
	var got summaryJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("output is not the summary: %v\n%.500s", err, stdout)
	}
	if got.Records == nil || *got.Records != want.records || *got.OK != want.ok || *got.NoData != want.nodata ||
		*got.SkipData != want.skipdata || *got.Malformed != want.malformed {
		t.Errorf("totals %d %d %d %d %d, want %+v", *got.Records, *got.OK, *got.NoData, *got.SkipData, *got.Malformed, want)
	}
	str := func(s *string) string {
		if s == nil {
			return "-"
		}
		return *s
	}
	num := func(n *int) string {
		if n == nil {
			return "-"
		}
		return strconv.Itoa(*n)
	}
	groups := map[string][3]uint64{}
	for i, g := range got.Groups {
		key := strings.Join([]string{str(g.InterfaceID), str(g.SrcAddr), str(g.DstAddr), num(g.DstPort), num(g.Protocol), str(g.Action)}, " ")
		if _, dup := groups[key]; dup {
			t.Errorf("group %s twice", key)
		}
		groups[key] = [3]uint64{g.Packets, g.Bytes, g.Records}
		if i > 0 && g.Bytes > got.Groups[i-1].Bytes {
			t.Errorf("group %d has more bytes than the one before", i)
		}
	}
	if diff := cmp.Diff(want.groups, groups); diff != "" {
		t.Errorf("groups (-simple +command):\n%.3000s", diff)
	}
	if len(groups) < 1000 {
		t.Errorf("only %d groups: the corpus does not exercise the grouping", len(groups))
	}

	// The table shows the largest group and the same totals.
	code, stdout, _ = run(t, append([]string{"flowlogs", "summarize", "--top", "3"}, paths...)...)
	top := got.Groups[0]
	for _, s := range []string{"INTERFACE", *top.InterfaceID, strconv.FormatUint(top.Bytes, 10), "3 of ",
		fmt.Sprintf("%d records: %d ok, %d nodata, %d skipdata; 5 malformed lines skipped", want.records, want.ok, want.nodata, want.skipdata)} {
		if !strings.Contains(stdout, s) {
			t.Errorf("table lacks %q:\n%s", s, stdout)
		}
	}
	if code != exitPartial || strings.Count(stdout, "\n") != 1+3+3 {
		t.Errorf("table: exit %d, %d lines:\n%s", code, strings.Count(stdout, "\n"), stdout)
	}
}

func TestFlowlogsCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.log", flowlogstest.Header+"\n2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK\n")
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(flowlogstest.Header + "\n2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK\n"))
	zw.Close()
	cut := write("cut.log.gz", z.String()[:z.Len()-12])
	noHeader := write("custom.log", "10.0.0.1 10.0.0.2 443 \x1b[31m 1\n")
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr []string
	}{
		{"help", []string{"flowlogs", "--help"}, exitOK, []string{"flowlogs summarize"}, nil},
		{"summarize help", []string{"flowlogs", "summarize", "-h"}, exitOK, nil, []string{"-output", "-log-format", "-top"}},
		{"no subcommand", []string{"flowlogs"}, exitUsage, nil, []string{"Usage: skymap flowlogs summarize"}},
		{"no files", []string{"flowlogs", "summarize"}, exitUsage, nil, []string{"no FILE given"}},
		{"bad output", []string{"flowlogs", "summarize", "--output", "xml", good}, exitUsage, nil, []string{"want table or json"}},
		{"bad log format", []string{"flowlogs", "summarize", "--log-format", "srcaddr", good}, exitUsage, nil, []string{"--log-format", "is not ${field}"}},
		{"good file", []string{"flowlogs", "summarize", "--output", "json", good}, exitOK,
			[]string{`{"records":1,"ok":1,"nodata":0,"skipdata":0,"malformed":0,"groups":[` + "\n" +
				`{"interface_id":"eni-1","srcaddr":"10.0.0.1","dstaddr":"10.0.0.2","dstport":2,"protocol":6,"action":"ACCEPT","packets":3,"bytes":4,"records":1}]}`}, nil},
		{"missing and truncated files", []string{"flowlogs", "summarize", good, filepath.Join(dir, "nope.log"), cut}, exitPartial,
			// The record of cut.log.gz is whole: only the end of the gzip member is cut.
			[]string{"2 records: 2 ok"}, []string{"nope.log: no such file", "cut.log.gz: corrupt gzip data at compressed byte"}},
		{"fields missing for attribution", []string{"flowlogs", "summarize", "--log-format", "${srcaddr} ${dstaddr} ${dstport} ${interface-id} ${bytes}", noHeader}, exitPartial,
			nil, []string{"lacks fields needed for attribution: srcport, protocol, packets, start or end, action"}},
		{"malformed text is escaped", []string{"flowlogs", "summarize", "--log-format", "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${action} ${interface-id}", noHeader}, exitPartial,
			[]string{"0 records"}, []string{`wrong field count: 5, want 10`}},
		{"bad value is escaped", []string{"flowlogs", "summarize", "--log-format", "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${action} ${interface-id}", write("bad.log", "10.0.0.1 10.0.0.2 443 \x1b[31m 6 1 1 1 ACCEPT eni-1\n")}, exitPartial,
			[]string{"0 records"}, []string{`dstport (column 4): not a number: "\x1b[31m"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if strings.Contains(stdout+stderr, "\x1b") {
				t.Errorf("control characters from a file reach the terminal")
			}
		})
	}
}

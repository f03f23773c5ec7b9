package flowlogs

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fuzzFormats are the formats FuzzParseLine parses with, picked by its
// first argument.
var fuzzFormats = []*Format{
	DefaultFormat(),
	mustFormat(ParseHeader(vpcHeader)),
	mustFormat(ParseHeader(tgwHeader)),
	mustFormat(ParseHeader("srcaddr future-field dstport action log-status flow-direction")),
}

// FuzzParseLine checks that ParseLine never panics, agrees with a plain
// split on the field count, and that a record it accepts formats back
// (AppendLine) to a line that parses to the same record, each column
// equivalent to the text it came from.
//
//	go test ./internal/collect/flowlogs -run '^$' -fuzz FuzzParseLine -fuzztime 60s
func FuzzParseLine(f *testing.F) {
	for _, s := range []struct {
		format uint8
		line   string
	}{
		{0, "2 120431062118 eni-04be3f7132dd24e01 10.16.133.15 10.16.5.72 5432 60428 6 1 52 1624348073 1624348074 ACCEPT OK"},
		{0, "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"},
		{0, "2 1 eni-1 2001:db8:1234:a100:8d6e:3477:df66:f105 ::ffff:10.0.0.1 34892 22 6 54 8855 1477913708 1477913820 REJECT SKIPDATA"},
		{0, "2 1 eni-1 10.0.0.1 10.0.0.2 65535 0 255 18446744073709551615 007 0 9223372036854775807 ACCEPT OK\r\n"},
		{0, "2 1 eni-1 10.0.0.256 01.0.0.2 65536 x 256 -1 1e3 1.5 0x10 accept ok"},
		{1, vpcLine},
		{2, tgwLine},
		{3, "10.0.0.1 whatever 443 ACCEPT OK egress"},
		{3, "fe80::1%eth0 - - - - ingress"},
	} {
		f.Add(s.format, []byte(s.line))
	}
	f.Fuzz(func(t *testing.T, which uint8, line []byte) {
		format := fuzzFormats[int(which)%len(fuzzFormats)]
		var r Record
		err := format.ParseLine(line, &r)

		// The default format's fast path and the general parser agree.
		if format.isDefaultLayout {
			general := *format
			general.isDefaultLayout = false
			var g Record
			gerr := general.ParseLine(line, &g)
			g.format = format
			if (err == nil) != (gerr == nil) || (err != nil && err.Error() != gerr.Error()) {
				t.Fatalf("%q: fast path %v, general parser %v", line, err, gerr)
			}
			if err == nil {
				if diff := diffRecords(&r, &g); diff != "" {
					t.Fatalf("%q: fast path and general parser differ: %s", line, diff)
				}
				for i := range format.Len() {
					if !bytes.Equal(r.Column(i), g.Column(i)) {
						t.Fatalf("%q: column %d: fast %q, general %q", line, i, r.Column(i), g.Column(i))
					}
				}
			}
		}

		trimmed := bytes.TrimRight(line, "\r\n")
		tokens := bytes.FieldsFunc(trimmed, func(c rune) bool { return c == ' ' })
		if len(tokens) != format.Len() {
			if err == nil {
				t.Fatalf("accepted %d fields for a format of %d: %q", len(tokens), format.Len(), line)
			}
			return
		}
		if err != nil {
			return
		}
		for i, tok := range tokens {
			checkColumn(t, &r, i, string(tok))
		}
		again := r.AppendLine(nil)
		var r2 Record
		if err := format.ParseLine(again, &r2); err != nil {
			t.Fatalf("%q parsed, but its formatting %q does not: %v", line, again, err)
		}
		if diff := diffRecords(&r, &r2); diff != "" {
			t.Fatalf("%q and its formatting %q differ: %s", line, again, diff)
		}
		for i := range format.Len() {
			if !bytes.Equal(r.Column(i), r2.Column(i)) && format.Field(i) == FieldUnknown {
				t.Fatalf("column %d: %q, formatted %q", i, r.Column(i), r2.Column(i))
			}
		}
	})
}

// checkColumn checks column i of r against the text it was parsed from,
// with the standard library's parsers.
func checkColumn(t *testing.T, r *Record, i int, tok string) {
	fld := r.Format().Field(i)
	if tok == "-" {
		if r.Has(fld) || r.Column(i) != nil {
			t.Fatalf("column %d (%s) is '-' but present", i, fld)
		}
		return
	}
	if string(r.Column(i)) != tok {
		t.Fatalf("column %d = %q, want %q", i, r.Column(i), tok)
	}
	if fld == FieldUnknown {
		return
	}
	if !r.Has(fld) || string(r.Text(fld)) != tok {
		t.Fatalf("%s: Has %t, Text %q, want %q", fld, r.Has(fld), r.Text(fld), tok)
	}
	formatted := string(r.AppendField(nil, fld))
	switch fieldTable[fld].kind {
	case kindUint8, kindUint16, kindUint64, kindTime:
		want, err := strconv.ParseUint(tok, 10, 64)
		if err != nil || tok[0] == '+' {
			t.Fatalf("%s: %q accepted as a number (%v)", fld, tok, err)
		}
		if formatted != strconv.FormatUint(want, 10) {
			t.Fatalf("%s: %q read as %s", fld, tok, formatted)
		}
	case kindAddr:
		want, err := netip.ParseAddr(tok)
		if err != nil || want.Zone() != "" {
			t.Fatalf("%s: %q accepted as an address (%v)", fld, tok, err)
		}
		if formatted != want.String() {
			t.Fatalf("%s: %q read as %s", fld, tok, formatted)
		}
	default:
		if formatted != tok {
			t.Fatalf("%s: %q formatted as %q", fld, tok, formatted)
		}
	}
}

// diffRecords names the first field in which a and b differ: its
// presence, its typed value or its text.
func diffRecords(a, b *Record) string {
	for _, fld := range Fields() {
		if a.Has(fld) != b.Has(fld) {
			return fld.String() + " present in one only"
		}
		if !bytes.Equal(a.AppendField(nil, fld), b.AppendField(nil, fld)) {
			return fld.String()
		}
	}
	if diff := cmp.Diff(*a, *b, recordOpts); diff != "" {
		return diff
	}
	return ""
}

// FuzzReader checks that a Reader never panics on any object, gzip or
// not, and that what it counts adds up.
func FuzzReader(f *testing.F) {
	f.Add([]byte(hdr + rec1 + "\n" + rec3 + "\nbad line\n"))
	f.Add(gz(f, hdr+rec1+"\n", rec2+"\n"))
	f.Add(gz(f, "srcaddr dstaddr\n10.0.0.1 10.0.0.2\n")[:30])
	f.Add([]byte("srcaddr srcaddr\n"))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data), "fuzz", nil)
		var n int64
		for rd.Next() {
			n++
			if rd.Format() == nil || rd.Record().Format() != rd.Format() {
				t.Fatal("a record without its format")
			}
		}
		bad, errs := rd.Malformed()
		if n+bad > rd.Lines() || int64(len(errs)) > bad || len(errs) > maxLineErrors {
			t.Fatalf("%d records and %d malformed in %d lines (%d described)", n, bad, rd.Lines(), len(errs))
		}
		// Plain text can only fail by its header.
		if len(data) > 0 && (len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b) {
			if err := rd.Err(); err != nil && !errors.Is(err, ErrBadFormat) {
				t.Fatalf("plain text: %v", err)
			}
		}
	})
}

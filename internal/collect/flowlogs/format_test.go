package flowlogs

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFields(t *testing.T) {
	all := Fields()
	if len(all) != int(numFields)-1 {
		t.Fatalf("%d fields", len(all))
	}
	seen := map[string]bool{}
	for _, f := range all {
		name := f.String()
		if name == "" || seen[name] || strings.ToLower(name) != name || strings.ContainsAny(name, " _") {
			t.Errorf("field %d: bad or repeated name %q", f, name)
		}
		seen[name] = true
		if got, ok := LookupField(name); !ok || got != f {
			t.Errorf("LookupField(%q) = %v, %t", name, got, ok)
		}
		if got, ok := LookupField(f.ParquetName()); !ok || got != f || strings.Contains(f.ParquetName(), "-") {
			t.Errorf("LookupField(%q) = %v, %t", f.ParquetName(), got, ok)
		}
		if v := f.Version(); v < 2 || v > 11 {
			t.Errorf("%s: version %d", name, v)
		}
	}
	// Spot checks against AWS's tables.
	for _, c := range []struct {
		name    string
		version int
		tgw     bool
	}{
		{"log-status", 2, false}, {"pkt-dstaddr", 3, false}, {"sublocation-id", 4, false}, {"traffic-path", 5, false},
		{"ecs-task-id", 7, false}, {"reject-reason", 8, false}, {"encryption-status", 10, false},
		{"tgw-pair-attachment-id", 6, true}, {"packets-lost-ttl-expired", 6, true}, {"resource-type", 6, true},
	} {
		f, ok := LookupField(c.name)
		if !ok || f.Version() != c.version || f.IsTransitGateway() != c.tgw {
			t.Errorf("%s: known %t, version %d, tgw %t", c.name, ok, f.Version(), f.IsTransitGateway())
		}
	}
	for _, name := range []string{"", "Srcaddr", "srcaddr ", "tcp-flags-count", "eni-id"} {
		if f, ok := LookupField(name); ok {
			t.Errorf("LookupField(%q) = %v", name, f)
		}
	}
	if FieldUnknown.String() != "" || Field(200).String() != "" || Field(200).Version() != 0 {
		t.Error("out-of-range fields have names")
	}
}

func TestParseHeader(t *testing.T) {
	f, err := ParseHeader("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")
	if err != nil {
		t.Fatal(err)
	}
	if f.String() != DefaultFormat().String() || f.Len() != 14 || f.Field(3) != FieldSrcAddr || !f.Has(FieldLogStatus) || f.Has(FieldVPCID) {
		t.Errorf("default header: %s", f)
	}
	f, err = ParseHeader("  srcaddr\tdstaddr  something-new\n")
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(f.Names(), []string{"srcaddr", "dstaddr", "something-new"}) || f.Field(2) != FieldUnknown || f.Has(FieldUnknown) {
		t.Errorf("got %q", f.Names())
	}
	for _, bad := range []string{"", "   ", "srcaddr dstaddr srcaddr"} {
		if _, err := ParseHeader(bad); !errors.Is(err, ErrBadFormat) {
			t.Errorf("ParseHeader(%q): %v, want ErrBadFormat", bad, err)
		}
	}
}

func TestParseLogFormat(t *testing.T) {
	f, err := ParseLogFormat("${version} ${vpc-id} ${srcaddr}  ${new-thing}")
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(f.Names(), []string{"version", "vpc-id", "srcaddr", "new-thing"}) {
		t.Errorf("got %q", f.Names())
	}
	for _, bad := range []string{"", "version srcaddr", "${version", "${}", "${a}${b}", "${srcaddr} ${srcaddr}"} {
		if _, err := ParseLogFormat(bad); !errors.Is(err, ErrBadFormat) {
			t.Errorf("ParseLogFormat(%q): %v, want ErrBadFormat", bad, err)
		}
	}
}

func TestCheckAttribution(t *testing.T) {
	tests := []struct {
		header  string
		missing []string // nil: complete
	}{
		{header: DefaultFormat().String()},
		{header: vpcHeader},
		{header: tgwHeader},
		{header: "srcaddr dstaddr srcport dstport protocol packets bytes end action pkt-srcaddr pkt-dstaddr"},
		{header: "srcaddr dstaddr srcport dstport protocol packets bytes start tgw-src-eni tgw-dst-eni resource-type"},
		{
			header:  "version account-id interface-id dstaddr srcport dstport protocol packets start end log-status",
			missing: []string{"srcaddr", "bytes", "action"},
		},
		{
			header:  "srcaddr dstaddr srcport dstport protocol packets bytes action pkt-srcaddr",
			missing: []string{"start or end", "interface-id or pkt-srcaddr+pkt-dstaddr"},
		},
		{
			header:  "srcaddr dstaddr srcport dstport protocol packets bytes start tgw-id",
			missing: []string{"tgw-attachment-id or tgw-src-eni+tgw-dst-eni"},
		},
		{
			header:  "vpc-id",
			missing: []string{"srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start or end", "action", "interface-id or pkt-srcaddr+pkt-dstaddr"},
		},
	}
	for _, tt := range tests {
		err := mustHeader(t, tt.header).CheckAttribution()
		if tt.missing == nil {
			if err != nil {
				t.Errorf("%s: %v", tt.header, err)
			}
			continue
		}
		var me *MissingFieldsError
		if !errors.As(err, &me) || !errors.Is(err, ErrMissingFields) {
			t.Errorf("%s: %v, want a *MissingFieldsError", tt.header, err)
			continue
		}
		if diff := cmp.Diff(tt.missing, me.Missing); diff != "" {
			t.Errorf("%s: missing (-want +got):\n%s", tt.header, diff)
		}
		if !strings.Contains(err.Error(), strings.Join(tt.missing, ", ")) {
			t.Errorf("error %q does not name %q", err, tt.missing)
		}
	}
}

func TestHeaderFields(t *testing.T) {
	for _, c := range []struct {
		line       string
		known, all int
	}{
		{DefaultFormat().String(), 14, 14},
		{"srcaddr new-field x2", 1, 3},
		{"new-field other_one", 0, 2},
		{"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK", 0, 0},
		{"eu-west-1 euw1-az1 ingress", 0, 3},
		{"- srcaddr", 0, 0},
		{"Version srcaddr", 0, 0},
		{"", 0, 0},
	} {
		known, all := headerFields([]byte(c.line))
		if known != c.known || all != c.all {
			t.Errorf("headerFields(%q) = %d, %d; want %d, %d", c.line, known, all, c.known, c.all)
		}
	}
}

func TestFormatTransitGateway(t *testing.T) {
	if DefaultFormat().TransitGateway() || mustHeader(t, vpcHeader).TransitGateway() || !mustHeader(t, tgwHeader).TransitGateway() {
		t.Error("TransitGateway() wrong")
	}
}

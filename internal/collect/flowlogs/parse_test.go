package flowlogs

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// vpcHeader is a header naming every VPC flow-log field, versions 2 to 11.
var vpcHeader = func() string {
	var names []string
	for _, f := range Fields() {
		if !f.IsTransitGateway() {
			names = append(names, f.String())
		}
	}
	return strings.Join(names, " ")
}()

// tgwHeader is the Transit Gateway default format (all its fields).
const tgwHeader = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id " +
	"tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id " +
	"tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type " +
	"packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region " +
	"flow-direction pkt-src-aws-service pkt-dst-aws-service"

// vpcLine is a record of vpcHeader: an ECS task on a NAT-ed path to S3.
const vpcLine = "11 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 52.94.76.10 49152 443 6 10 8400 1700000000 1700000060 ACCEPT OK " +
	"vpc-0abc subnet-0def i-0123 19 IPv4 10.0.1.5 52.94.76.10 " +
	"eu-west-1 euw1-az2 wavelength wlid-1 " +
	"- S3 egress 8 " +
	"arn:aws:ecs:eu-west-1:123456789012:cluster/prod prod arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc abc 0123456789ab - web " +
	"arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7 arn:aws:ecs:eu-west-1:123456789012:task/prod/def def " +
	"BPA - 1 " +
	"app%3Dweb - - - - - interface eni-0fedcba9876543210 subnet-0aaa euw1-az2 vpc-0abc nat_gateway"

const tgwLine = "6 TransitGateway 123456789012 tgw-0123 tgw-attach-0456 111111111111 222222222222 vpc-0aaa vpc-0bbb subnet-0aaa subnet-0bbb " +
	"eni-0aaa eni-0bbb use1-az1 use1-az2 tgw-attach-0789 10.1.0.5 10.2.0.9 44321 5432 6 3 180 1700000000 1700000060 OK IPv4 " +
	"0 1 2 18446744073709551615 2 us-east-1 ingress - -"

var addr = netip.MustParseAddr

// recordOpts compare Records by their typed values.
var recordOpts = cmp.Options{
	cmpopts.IgnoreUnexported(Record{}),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
}

func mustHeader(t testing.TB, h string) *Format {
	t.Helper()
	f, err := ParseHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name   string
		header string // "" for the default format
		line   string
		want   Record
		text   map[Field]string // text fields and what Text returns; "" for nil
	}{{
		name: "default v2 (the recorded StackState object's record)",
		line: "2 120431062118 eni-04be3f7132dd24e01 10.16.133.15 10.16.5.72 5432 60428 6 1 52 1624348073 1624348074 ACCEPT OK",
		want: Record{Version: 2, SrcAddr: addr("10.16.133.15"), DstAddr: addr("10.16.5.72"), SrcPort: 5432, DstPort: 60428,
			Protocol: 6, Packets: 1, Bytes: 52, Start: 1624348073, End: 1624348074, Action: ActionAccept, LogStatus: LogStatusOK},
		text: map[Field]string{FieldAccountID: "120431062118", FieldInterfaceID: "eni-04be3f7132dd24e01", FieldSrcPort: "5432"},
	}, {
		name: "reject, ICMP without ports",
		line: "2 123456789012 eni-1 203.0.113.12 10.0.0.220 0 0 1 4 336 1432917027 1432917142 REJECT OK",
		want: Record{Version: 2, SrcAddr: addr("203.0.113.12"), DstAddr: addr("10.0.0.220"), Protocol: 1, Packets: 4, Bytes: 336,
			Start: 1432917027, End: 1432917142, Action: ActionReject, LogStatus: LogStatusOK},
	}, {
		name: "NODATA",
		line: "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
		want: Record{Version: 2, Start: 1431280876, End: 1431280934, LogStatus: LogStatusNoData},
		text: map[Field]string{FieldInterfaceID: "eni-1235b8ca123456789", FieldSrcAddr: "", FieldDstPort: "", FieldAction: ""},
	}, {
		name: "SKIPDATA",
		line: "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
		want: Record{Version: 2, Start: 1431280876, End: 1431280934, LogStatus: LogStatusSkipData},
	}, {
		name: "IPv6",
		line: "2 123456789010 eni-1 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
		want: Record{Version: 2, SrcAddr: addr("2001:db8:1234:a100:8d6e:3477:df66:f105"), DstAddr: addr("2001:db8:1234:a102:3304:8879:34cf:4071"),
			SrcPort: 34892, DstPort: 22, Protocol: 6, Packets: 54, Bytes: 8855, Start: 1477913708, End: 1477913820,
			Action: ActionAccept, LogStatus: LogStatusOK},
	}, {
		name: "IPv6 short forms, ICMPv6",
		line: "2 1 eni-1 :: ::ffff:10.0.0.1 0 0 58 1 72 1 2 ACCEPT OK",
		want: Record{Version: 2, SrcAddr: addr("::"), DstAddr: addr("::ffff:10.0.0.1"), Protocol: 58, Packets: 1, Bytes: 72,
			Start: 1, End: 2, Action: ActionAccept, LogStatus: LogStatusOK},
	}, {
		name: "edge values: ports 0 and 65535, 20-digit count, leading zeros",
		line: "2 1 eni-1 0.0.0.0 255.255.255.255 65535 0 255 18446744073709551615 007 0 9223372036854775807 ACCEPT OK",
		want: Record{Version: 2, SrcAddr: addr("0.0.0.0"), DstAddr: addr("255.255.255.255"), SrcPort: 65535, Protocol: 255,
			Packets: 18446744073709551615, Bytes: 7, End: 9223372036854775807, Action: ActionAccept, LogStatus: LogStatusOK},
	}, {
		name: "runs of spaces, trailing spaces and CR",
		line: "2  1 eni-1 10.0.0.1   10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK  \r",
		want: Record{Version: 2, SrcAddr: addr("10.0.0.1"), DstAddr: addr("10.0.0.2"), SrcPort: 1, DstPort: 2, Protocol: 6,
			Packets: 3, Bytes: 4, Start: 5, End: 6, Action: ActionAccept, LogStatus: LogStatusOK},
	}, {
		name:   "custom order and subset",
		header: "bytes srcaddr action dstport interface-id dstaddr",
		line:   "1500 10.0.0.9 REJECT 3389 eni-9 10.0.0.10",
		want:   Record{Bytes: 1500, SrcAddr: addr("10.0.0.9"), DstAddr: addr("10.0.0.10"), DstPort: 3389, Action: ActionReject},
		text:   map[Field]string{FieldInterfaceID: "eni-9", FieldVersion: "", FieldSrcPort: ""},
	}, {
		name:   "every VPC field, versions 2 to 11",
		header: vpcHeader,
		line:   vpcLine,
		want: Record{Version: 11, SrcAddr: addr("10.0.1.5"), DstAddr: addr("52.94.76.10"), SrcPort: 49152, DstPort: 443,
			Protocol: 6, Packets: 10, Bytes: 8400, Start: 1700000000, End: 1700000060, Action: ActionAccept, LogStatus: LogStatusOK,
			TCPFlags: 19, PktSrcAddr: addr("10.0.1.5"), PktDstAddr: addr("52.94.76.10"), FlowDirection: DirectionEgress,
			TrafficPath: 8, EncryptionStatus: 1},
		text: map[Field]string{
			FieldVPCID: "vpc-0abc", FieldSubnetID: "subnet-0def", FieldInstanceID: "i-0123", FieldType: "IPv4",
			FieldRegion: "eu-west-1", FieldAZID: "euw1-az2", FieldSublocationType: "wavelength", FieldSublocationID: "wlid-1",
			FieldPktSrcAWSService: "", FieldPktDstAWSService: "S3",
			FieldECSClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", FieldECSClusterName: "prod",
			FieldECSContainerInstanceARN: "arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc",
			FieldECSContainerInstanceID:  "abc", FieldECSContainerID: "0123456789ab", FieldECSSecondContainerID: "",
			FieldECSServiceName: "web", FieldECSTaskDefinitionARN: "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7",
			FieldECSTaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/def", FieldECSTaskID: "def",
			FieldRejectReason: "BPA", FieldResourceID: "", FieldInstanceTag: "app%3Dweb", FieldInstanceTag2: "",
			FieldInterfaceType: "interface", FieldNextHopInterfaceID: "eni-0fedcba9876543210", FieldNextHopSubnetID: "subnet-0aaa",
			FieldNextHopAZID: "euw1-az2", FieldNextHopVPCID: "vpc-0abc", FieldNextHopInterfaceType: "nat_gateway",
			FieldTrafficPath: "8", FieldEncryptionStatus: "1",
		},
	}, {
		name:   "Transit Gateway",
		header: tgwHeader,
		line:   tgwLine,
		want: Record{Version: 6, SrcAddr: addr("10.1.0.5"), DstAddr: addr("10.2.0.9"), SrcPort: 44321, DstPort: 5432, Protocol: 6,
			Packets: 3, Bytes: 180, Start: 1700000000, End: 1700000060, LogStatus: LogStatusOK, TCPFlags: 2,
			FlowDirection: DirectionIngress, PacketsLostBlackhole: 1, PacketsLostMTUExceeded: 2, PacketsLostTTLExpired: 18446744073709551615},
		text: map[Field]string{
			FieldResourceType: "TransitGateway", FieldTGWID: "tgw-0123", FieldTGWAttachmentID: "tgw-attach-0456",
			FieldTGWSrcVPCAccountID: "111111111111", FieldTGWDstVPCAccountID: "222222222222", FieldTGWSrcVPCID: "vpc-0aaa",
			FieldTGWDstVPCID: "vpc-0bbb", FieldTGWSrcSubnetID: "subnet-0aaa", FieldTGWDstSubnetID: "subnet-0bbb",
			FieldTGWSrcENI: "eni-0aaa", FieldTGWDstENI: "eni-0bbb", FieldTGWSrcAZID: "use1-az1", FieldTGWDstAZID: "use1-az2",
			FieldTGWPairAttachmentID: "tgw-attach-0789", FieldPacketsLostNoRoute: "0", FieldInterfaceID: "", FieldAction: "",
		},
	}, {
		name:   "unknown columns are kept",
		header: "srcaddr future-field dstaddr",
		line:   "10.0.0.1 some-value 10.0.0.2",
		want:   Record{SrcAddr: addr("10.0.0.1"), DstAddr: addr("10.0.0.2")},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := DefaultFormat()
			if tt.header != "" {
				f = mustHeader(t, tt.header)
			}
			var r Record
			// Parse another line first: nothing of it may stay behind.
			other := strings.Repeat("7 ", f.Len())
			f.ParseLine([]byte(other), &r)
			if err := f.ParseLine([]byte(tt.line), &r); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r, recordOpts); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			for fld, want := range tt.text {
				got := r.Text(fld)
				if string(got) != want || (want == "") != (got == nil) || r.Has(fld) != (want != "") {
					t.Errorf("Text(%s) = %q (nil %t), Has %t; want %q", fld, got, got == nil, r.Has(fld), want)
				}
			}
			if r.Format() != f {
				t.Errorf("Format() is not the format parsed with")
			}
		})
	}
}

func TestParseLineUnknownColumn(t *testing.T) {
	f := mustHeader(t, "srcaddr future-field dstaddr other")
	var r Record
	if err := f.ParseLine([]byte("10.0.0.1 some-value 10.0.0.2 -"), &r); err != nil {
		t.Fatal(err)
	}
	if got := string(r.Column(1)); got != "some-value" || r.Column(3) != nil || r.Column(9) != nil {
		t.Errorf("columns: %q %q %q", r.Column(1), r.Column(3), r.Column(9))
	}
	if got := f.Unknown(); !cmp.Equal(got, []string{"future-field", "other"}) {
		t.Errorf("Unknown() = %q", got)
	}
	if got := string(r.AppendLine(nil)); got != "10.0.0.1 some-value 10.0.0.2 -" {
		t.Errorf("AppendLine = %q", got)
	}
}

func TestParseLineErrors(t *testing.T) {
	tests := []struct {
		name, header, line string
		want               string // in the error
	}{
		{"too few fields", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT", "wrong field count: 13, want 14"},
		{"too many fields", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK extra more", "wrong field count: 16, want 14"},
		{"empty", "", "", "wrong field count: 0, want 14"},
		{"non-numeric port", "", "2 1 eni-1 10.0.0.1 10.0.0.2 http 2 6 3 4 5 6 ACCEPT OK", `srcport (column 6): not a number: "http"`},
		{"digits then junk", "", "2 1 eni-1 10.0.0.1 10.0.0.2 80x 2 6 3 4 5 6 ACCEPT OK", `srcport (column 6): not a number: "80x"`},
		{"negative count", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 -3 4 5 6 ACCEPT OK", `packets (column 9): not a number: "-3"`},
		{"port over 65535", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 65536 6 3 4 5 6 ACCEPT OK", `dstport (column 7): out of range: "65536"`},
		{"protocol over 255", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 256 3 4 5 6 ACCEPT OK", `protocol (column 8): out of range`},
		{"count over 64 bits", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 18446744073709551616 5 6 ACCEPT OK", `bytes (column 10): not a number`},
		{"time over 63 bits", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 9223372036854775808 6 ACCEPT OK", `start (column 11): out of range`},
		{"octet over 255", "", "2 1 eni-1 10.0.0.256 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK", `srcaddr (column 4): not an IPv4 or IPv6 address`},
		{"octet with leading zero", "", "2 1 eni-1 10.0.0.01 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK", `srcaddr (column 4)`},
		{"three octets", "", "2 1 eni-1 10.0.0 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK", `srcaddr (column 4)`},
		{"host name", "", "2 1 eni-1 example.com 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK", `srcaddr (column 4)`},
		{"IPv6 zone", "", "2 1 eni-1 fe80::1%eth0 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK", `srcaddr (column 4)`},
		{"bad IPv6", "", "2 1 eni-1 10.0.0.1 2001:db8:::1 1 2 6 3 4 5 6 ACCEPT OK", `dstaddr (column 5)`},
		{"action", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ALLOW OK", `action (column 13): not ACCEPT or REJECT: "ALLOW"`},
		{"action case", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 accept OK", `action (column 13)`},
		{"log status", "", "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT FINE", `log-status (column 14): not OK, NODATA or SKIPDATA`},
		{"flow direction", "srcaddr flow-direction", "10.0.0.1 inbound", `flow-direction (column 2): not ingress or egress`},
		{"tcp flags", "tcp-flags", "SYN", `tcp-flags (column 1): not a number`},
		{"traffic path", "traffic-path", "256", `traffic-path (column 1): out of range`},
		{"long value is cut", "srcport", strings.Repeat("x", 200), `srcport (column 1): not a number: "` + strings.Repeat("x", 64) + `"`},
		{"a bad value in a line of the wrong length", "", "2 1 eni-1 10.0.0.1 10.0.0.2 too few fields", "wrong field count: 8, want 14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := DefaultFormat()
			if tt.header != "" {
				f = mustHeader(t, tt.header)
			}
			var r Record
			err := f.ParseLine([]byte(tt.line), &r)
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a *ParseError containing %q", err, tt.want)
			}
		})
	}
}

// A missing value of every kind reads as absent and zero.
func TestParseLineMissingEveryKind(t *testing.T) {
	f := mustHeader(t, vpcHeader+" resource-type packets-lost-no-route")
	var r Record
	full := vpcLine + " TransitGateway 5"
	if err := f.ParseLine([]byte(full), &r); err != nil {
		t.Fatal(err)
	}
	if err := f.ParseLine([]byte(strings.TrimSpace(strings.Repeat("- ", f.Len()))), &r); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Record{}, r, recordOpts); diff != "" {
		t.Errorf("all missing (-want +got):\n%s", diff)
	}
	for i := range f.Len() {
		fld := f.Field(i)
		if r.Has(fld) || r.Text(fld) != nil || r.Column(i) != nil {
			t.Errorf("%s: Has %t, Text %q", fld, r.Has(fld), r.Text(fld))
		}
		if got := string(r.AppendField(nil, fld)); got != "-" {
			t.Errorf("AppendField(%s) = %q, want -", fld, got)
		}
	}
}

// The parse hot path allocates nothing.
func TestParseLineAllocs(t *testing.T) {
	for _, c := range []struct{ header, line string }{
		{"", "2 120431062118 eni-04be3f7132dd24e01 10.16.133.15 10.16.5.72 5432 60428 6 1 52 1624348073 1624348074 ACCEPT OK"},
		{"", "2 1 eni-1 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8::1 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK"},
		{"", "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"},
		{vpcHeader, vpcLine},
		{tgwHeader, tgwLine},
	} {
		f := DefaultFormat()
		if c.header != "" {
			f = mustHeader(t, c.header)
		}
		line := []byte(c.line)
		var r Record
		if n := testing.AllocsPerRun(1000, func() {
			if err := f.ParseLine(line, &r); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%.40s...: %v allocations per line, want 0", c.line, n)
		}
	}
}

func TestAppendLine(t *testing.T) {
	for _, c := range []struct{ header, line, want string }{
		{"", "2  1 eni-1 10.0.0.1 10.0.0.2 007 2 6 3 4 5 6 ACCEPT OK", "2 1 eni-1 10.0.0.1 10.0.0.2 7 2 6 3 4 5 6 ACCEPT OK"},
		{"", "2 1 eni-1 2001:DB8::0:1 - - - - - - 5 6 - NODATA", "2 1 eni-1 2001:db8::1 - - - - - - 5 6 - NODATA"},
		{vpcHeader, vpcLine, vpcLine},
		{tgwHeader, tgwLine, tgwLine},
	} {
		f := DefaultFormat()
		if c.header != "" {
			f = mustHeader(t, c.header)
		}
		var r Record
		if err := f.ParseLine([]byte(c.line), &r); err != nil {
			t.Fatal(err)
		}
		if got := string(r.AppendLine(nil)); got != c.want {
			t.Errorf("AppendLine\n got %q\nwant %q", got, c.want)
		}
	}
}

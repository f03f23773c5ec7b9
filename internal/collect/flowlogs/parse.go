package flowlogs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"unsafe"
)

// ParseError says why a line is not a record of its format.
type ParseError struct {
	Column int    // 0-based column at fault; -1 when the field count is wrong
	Field  string // its name in the format
	Value  string // the offending text, cut to 64 bytes
	Reason string
}

func (e *ParseError) Error() string {
	if e.Column < 0 {
		return e.Reason
	}
	return fmt.Sprintf("%s (column %d): %s: %q", e.Field, e.Column+1, e.Reason, e.Value)
}

// maxLine is the longest line ParseLine accepts; spans are 32-bit.
const maxLine = 1<<32 - 1

// ParseLine parses line, one record of format f without its newline, into
// r, reusing r's memory. Columns are separated by spaces (runs of spaces
// count as one); "-" is a missing value. It returns a *ParseError when the
// column count differs from the format's or a value does not parse (a
// non-numeric count, a port over 65535, an address that is neither IPv4
// nor IPv6, an unknown action or log status); r is then unspecified until
// the next successful parse. On success r's text refers to line.
//
// The line is read once, column by column: numbers and IPv4 addresses are
// parsed as their bytes are scanned.
func (f *Format) ParseLine(line []byte, r *Record) error {
	if r.format != f {
		r.reset(f)
	}
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	if len(line) > maxLine {
		return &ParseError{Column: -1, Reason: "line too long"}
	}
	r.line = line
	if f.isDefaultLayout && parseDefault(line, r) {
		return nil
	}
	n := len(line)
	i := 0
	spans := r.spans[:len(f.cols)]
	kinds := f.kinds[:len(spans)]
	for c := range spans {
		for i < n && line[i] == ' ' {
			i++
		}
		if i >= n {
			return countError(c, f)
		}
		start := i
		k := kinds[c]
		if line[i] == '-' && (i+1 == n || line[i+1] == ' ') {
			spans[c] = span{}
			if k != kindText {
				r.clear(f.cols[c].field)
			}
			i++
			continue
		}
		switch k {
		case kindText:
			i = tokenEnd(line, i)
		case kindUint8, kindUint16, kindUint64, kindTime:
			var v uint64
			for i < n {
				d := line[i] - '0'
				if d > 9 {
					break
				}
				v = v*10 + uint64(d)
				i++
			}
			if i == start || i-start > 19 || (i < n && line[i] != ' ') {
				// Not only digits, or more than 19 of them.
				i = tokenEnd(line, start)
				var ok bool
				if v, ok = parseUint(line[start:i]); !ok {
					return valueError(line, c, f, line[start:i], "not a number")
				}
			}
			if !r.setUint(f.cols[c].field, v) {
				return valueError(line, c, f, line[start:i], "out of range")
			}
		case kindAddr:
			ip, j, ok := parseIPv4(line, i)
			i = j
			var a netip.Addr
			if ok {
				a = netip.AddrFrom4(ip)
			} else {
				i = tokenEnd(line, start)
				if a, ok = parseIP(line[start:i]); !ok {
					return valueError(line, c, f, line[start:i], "not an IPv4 or IPv6 address")
				}
			}
			r.setAddr(f.cols[c].field, a)
		default:
			i = tokenEnd(line, i)
			if reason := r.setEnum(f.cols[c].field, line[start:i]); reason != "" {
				return valueError(line, c, f, line[start:i], reason)
			}
		}
		spans[c] = span{uint32(start), uint32(i)}
	}
	for i < n && line[i] == ' ' {
		i++
	}
	if i < n {
		extra := len(bytes.Fields(line[i:]))
		return &ParseError{Column: -1, Reason: fmt.Sprintf("wrong field count: %d, want %d", len(f.cols)+extra, len(f.cols))}
	}
	return nil
}

func countError(got int, f *Format) error {
	return &ParseError{Column: -1, Reason: fmt.Sprintf("wrong field count: %d, want %d", got, len(f.cols))}
}

// valueError reports a value that does not parse, or rather the wrong
// field count when that is what is wrong with the line.
func valueError(line []byte, c int, f *Format, tok []byte, reason string) error {
	if n := len(bytes.Fields(line)); n != len(f.cols) {
		return countError(n, f)
	}
	if len(tok) > 64 {
		tok = tok[:64]
	}
	return &ParseError{Column: c, Field: f.cols[c].name, Value: string(tok), Reason: reason}
}

// tokenEnd returns the index of the first space at or after i, or
// len(line). It looks at 8 bytes at a time.
func tokenEnd(line []byte, i int) int {
	for i+8 <= len(line) {
		x := binary.LittleEndian.Uint64(line[i:]) ^ 0x2020202020202020 // spaces become zero bytes
		// The lowest set high bit marks the first zero byte (higher ones
		// may be false positives, which do not matter).
		if m := (x - 0x0101010101010101) &^ x & 0x8080808080808080; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(line) && line[i] != ' ' {
		i++
	}
	return i
}

// parseUint parses decimal digits (nothing else: no sign, no space) that
// fit an uint64.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(unsafe.String(&b[0], len(b)), 10, 64)
	return v, err == nil
}

// parseIPv4 parses a dotted-quad IPv4 address starting at line[i] and
// followed by a space or the end of line. It returns the address and the
// index after it, or false when the token is anything else.
func parseIPv4(line []byte, i int) ([4]byte, int, bool) {
	var ip [4]byte
	if i+16 <= len(line) {
		// Room for the longest address and the byte after it: read each
		// octet's up to three digits without branching on its length.
		for k := range 4 {
			d0 := uint(line[i] - '0')
			d1 := uint(line[i+1] - '0')
			d2 := uint(line[i+2] - '0')
			v, l := d0, 1
			if d1 <= 9 {
				v, l = d0*10+d1, 2
				if d2 <= 9 {
					v, l = v*10+d2, 3
				}
			}
			sep := line[i+l]
			if d0 > 9 || v > 255 || (l > 1 && d0 == 0) {
				return ip, i, false
			}
			ip[k] = byte(v)
			i += l
			if k < 3 {
				if sep != '.' {
					return ip, i, false
				}
				i++
			} else if sep != ' ' {
				return ip, i, false
			}
		}
		return ip, i, true
	}
	n := len(line)
	for k := range 4 {
		start := i
		var v uint
		for i < n && i-start < 3 {
			d := line[i] - '0'
			if d > 9 {
				break
			}
			v = v*10 + uint(d)
			i++
		}
		if l := i - start; l == 0 || v > 255 || (l > 1 && line[start] == '0') {
			return ip, i, false
		}
		ip[k] = byte(v)
		if k < 3 {
			if i >= n || line[i] != '.' {
				return ip, i, false
			}
			i++
		}
	}
	if i < n && line[i] != ' ' {
		return ip, i, false
	}
	return ip, i, true
}

// parseIP parses an IPv6 address (or IPv4 the fast path refused) without
// allocating: netip reads the text without keeping it. Zones
// ("fe80::1%eth0") are refused: flow logs have none.
func parseIP(b []byte) (netip.Addr, bool) {
	if len(b) == 0 || bytes.IndexByte(b, '%') >= 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	return a, err == nil
}

// setUint stores v in the integer field fld and reports whether it fits.
func (r *Record) setUint(fld Field, v uint64) bool {
	switch fld {
	case FieldVersion:
		r.Version = uint8(v)
		return v <= 255
	case FieldSrcPort:
		r.SrcPort = uint16(v)
		return v <= 65535
	case FieldDstPort:
		r.DstPort = uint16(v)
		return v <= 65535
	case FieldProtocol:
		r.Protocol = uint8(v)
		return v <= 255
	case FieldPackets:
		r.Packets = v
	case FieldBytes:
		r.Bytes = v
	case FieldStart:
		r.Start = int64(v)
		return v < 1<<63
	case FieldEnd:
		r.End = int64(v)
		return v < 1<<63
	case FieldTCPFlags:
		r.TCPFlags = uint16(v)
		return v <= 65535
	case FieldTrafficPath:
		r.TrafficPath = uint8(v)
		return v <= 255
	case FieldEncryptionStatus:
		r.EncryptionStatus = uint8(v)
		return v <= 255
	case FieldPacketsLostNoRoute:
		r.PacketsLostNoRoute = v
	case FieldPacketsLostBlackhole:
		r.PacketsLostBlackhole = v
	case FieldPacketsLostMTUExceeded:
		r.PacketsLostMTUExceeded = v
	case FieldPacketsLostTTLExpired:
		r.PacketsLostTTLExpired = v
	}
	return true
}

// setAddr stores a in the address field fld.
func (r *Record) setAddr(fld Field, a netip.Addr) {
	switch fld {
	case FieldSrcAddr:
		r.SrcAddr = a
	case FieldDstAddr:
		r.DstAddr = a
	case FieldPktSrcAddr:
		r.PktSrcAddr = a
	case FieldPktDstAddr:
		r.PktDstAddr = a
	}
}

// setEnum parses tok into the enumerated field fld and returns why it
// cannot, or "".
func (r *Record) setEnum(fld Field, tok []byte) string {
	switch fld {
	case FieldAction:
		switch string(tok) {
		case "ACCEPT":
			r.Action = ActionAccept
		case "REJECT":
			r.Action = ActionReject
		default:
			return "not ACCEPT or REJECT"
		}
	case FieldLogStatus:
		switch string(tok) {
		case "OK":
			r.LogStatus = LogStatusOK
		case "NODATA":
			r.LogStatus = LogStatusNoData
		case "SKIPDATA":
			r.LogStatus = LogStatusSkipData
		default:
			return "not OK, NODATA or SKIPDATA"
		}
	case FieldFlowDirection:
		switch string(tok) {
		case "ingress":
			r.FlowDirection = DirectionIngress
		case "egress":
			r.FlowDirection = DirectionEgress
		default:
			return "not ingress or egress"
		}
	}
	return ""
}

// clear zeroes the typed field fld, whose value is missing.
func (r *Record) clear(fld Field) {
	switch fieldTable[fld].kind {
	case kindText:
	case kindAddr:
		r.setAddr(fld, netip.Addr{})
	case kindAction:
		r.Action = ActionNone
	case kindLogStatus:
		r.LogStatus = LogStatusNone
	case kindDirection:
		r.FlowDirection = DirectionNone
	default:
		r.setUint(fld, 0)
	}
}

package flowlogs

import "net/netip"

// isDefault reports whether f is laid out as the default format.
func (f *Format) isDefault() bool {
	if len(f.cols) != len(defaultFormatFields) {
		return false
	}
	for i, c := range f.cols {
		if c.field != defaultFormatFields[i] {
			return false
		}
	}
	return true
}

var defaultFormatFields = []Field{FieldVersion, FieldAccountID, FieldInterfaceID, FieldSrcAddr, FieldDstAddr, FieldSrcPort,
	FieldDstPort, FieldProtocol, FieldPackets, FieldBytes, FieldStart, FieldEnd, FieldAction, FieldLogStatus}

// parseDefault parses a line of the default format in straight-line code:
// nearly every line S3 holds. It takes only the plain shape, every value
// present and IPv4, separated by single spaces, and returns false for
// anything else (a "-", IPv6, extra spaces, a bad value), leaving the line
// to the general parser, which then sets r or says what is wrong. r has
// been reset to f.
func parseDefault(line []byte, r *Record) bool {
	sp := r.spans[:14]
	i := 0
	var v uint64
	var ok bool
	if v, i, ok = uintSp(line, i, 255); !ok {
		return false
	}
	r.Version = uint8(v)
	sp[0] = span{0, uint32(i - 1)}
	start := i
	if i, ok = textSp(line, i); !ok {
		return false
	}
	sp[1] = span{uint32(start), uint32(i - 1)}
	start = i
	if i, ok = textSp(line, i); !ok {
		return false
	}
	sp[2] = span{uint32(start), uint32(i - 1)}
	start = i
	ip, i, ok := parseIPv4(line, i)
	if !ok || i >= len(line) {
		return false
	}
	r.SrcAddr = netip.AddrFrom4(ip)
	sp[3] = span{uint32(start), uint32(i)}
	i++
	start = i
	if ip, i, ok = parseIPv4(line, i); !ok || i >= len(line) {
		return false
	}
	r.DstAddr = netip.AddrFrom4(ip)
	sp[4] = span{uint32(start), uint32(i)}
	i++
	start = i
	if v, i, ok = uintSp(line, i, 65535); !ok {
		return false
	}
	r.SrcPort = uint16(v)
	sp[5] = span{uint32(start), uint32(i - 1)}
	start = i
	if v, i, ok = uintSp(line, i, 65535); !ok {
		return false
	}
	r.DstPort = uint16(v)
	sp[6] = span{uint32(start), uint32(i - 1)}
	start = i
	if v, i, ok = uintSp(line, i, 255); !ok {
		return false
	}
	r.Protocol = uint8(v)
	sp[7] = span{uint32(start), uint32(i - 1)}
	start = i
	if r.Packets, i, ok = uintSp(line, i, 1<<64-1); !ok {
		return false
	}
	sp[8] = span{uint32(start), uint32(i - 1)}
	start = i
	if r.Bytes, i, ok = uintSp(line, i, 1<<64-1); !ok {
		return false
	}
	sp[9] = span{uint32(start), uint32(i - 1)}
	start = i
	if v, i, ok = uintSp(line, i, 1<<63-1); !ok {
		return false
	}
	r.Start = int64(v)
	sp[10] = span{uint32(start), uint32(i - 1)}
	start = i
	if v, i, ok = uintSp(line, i, 1<<63-1); !ok {
		return false
	}
	r.End = int64(v)
	sp[11] = span{uint32(start), uint32(i - 1)}
	// The action and the log status end the line.
	rest := line[i:]
	switch {
	case len(rest) == 9 && string(rest[:7]) == "ACCEPT " && string(rest[7:]) == "OK":
		r.Action = ActionAccept
	case len(rest) == 9 && string(rest[:7]) == "REJECT " && string(rest[7:]) == "OK":
		r.Action = ActionReject
	default:
		return false
	}
	r.LogStatus = LogStatusOK
	sp[12] = span{uint32(i), uint32(i + 6)}
	sp[13] = span{uint32(i + 7), uint32(i + 9)}
	return true
}

// uintSp parses the decimal digits at line[i:], which a space must follow,
// into a value no larger than max; it returns the index after the space.
func uintSp(line []byte, i int, max uint64) (uint64, int, bool) {
	start := i
	var v uint64
	for i < len(line) {
		d := line[i] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
		i++
	}
	if i == start || i-start > 19 || i >= len(line) || line[i] != ' ' || v > max {
		return 0, i, false
	}
	return v, i + 1, true
}

// textSp skips the text at line[i:], which a space must follow and which
// is not "-", and returns the index after the space.
func textSp(line []byte, i int) (int, bool) {
	j := tokenEnd(line, i)
	if j == i || j >= len(line) || (j == i+1 && line[i] == '-') {
		return j, false
	}
	return j + 1, true
}

package flowlogs

import (
	"net/netip"
	"strconv"
)

// Action is a record's action field.
type Action uint8

// The actions. ActionNone means the field is missing ("-", as on NODATA
// records) or not in the format.
const (
	ActionNone Action = iota
	ActionAccept
	ActionReject
)

// String returns "ACCEPT", "REJECT" or "-".
func (a Action) String() string {
	switch a {
	case ActionAccept:
		return "ACCEPT"
	case ActionReject:
		return "REJECT"
	}
	return "-"
}

// LogStatus is a record's log-status field.
type LogStatus uint8

// The log statuses. LogStatusNone means the field is missing or not in the
// format.
const (
	LogStatusNone LogStatus = iota
	LogStatusOK
	LogStatusNoData   // no traffic in the capture window
	LogStatusSkipData // records were skipped in the capture window
)

// String returns "OK", "NODATA", "SKIPDATA" or "-".
func (s LogStatus) String() string {
	switch s {
	case LogStatusOK:
		return "OK"
	case LogStatusNoData:
		return "NODATA"
	case LogStatusSkipData:
		return "SKIPDATA"
	}
	return "-"
}

// Direction is a record's flow-direction field.
type Direction uint8

// The directions, relative to the interface that recorded the flow.
// DirectionNone means the field is missing or not in the format.
const (
	DirectionNone Direction = iota
	DirectionIngress
	DirectionEgress
)

// String returns "ingress", "egress" or "-".
func (d Direction) String() string {
	switch d {
	case DirectionIngress:
		return "ingress"
	case DirectionEgress:
		return "egress"
	}
	return "-"
}

// span is where one column's text lies in the line; an empty span means
// the value is missing ("-").
type span struct{ start, end uint32 }

// Record is one flow-log record. A field that is missing ("-") or not in
// the format has its zero value (an invalid netip.Addr for addresses) and
// Has reports false for it, so a zero port is told apart from a missing
// one by Has, not by the value.
//
// A Record is meant to be reused: Reader.Next and Format.ParseLine
// overwrite it, and its text (Text, Column) are slices of the line it was
// parsed from, valid only until the next record is read into it or the
// line's buffer is reused. Copy what must outlive that.
type Record struct {
	Version  uint8
	SrcAddr  netip.Addr
	DstAddr  netip.Addr
	SrcPort  uint16
	DstPort  uint16
	Protocol uint8 // IANA protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6
	Packets  uint64
	Bytes    uint64
	Start    int64 // unix seconds
	End      int64 // unix seconds

	Action    Action
	LogStatus LogStatus

	TCPFlags         uint16 // OR of the TCP flags seen: FIN 1, SYN 2, RST 4, SYN-ACK 18, ...
	PktSrcAddr       netip.Addr
	PktDstAddr       netip.Addr
	FlowDirection    Direction
	TrafficPath      uint8 // 1-8, the path egress traffic takes
	EncryptionStatus uint8 // 0 clear, 1 Nitro, 2 application, 3 both

	PacketsLostNoRoute     uint64 // Transit Gateway only
	PacketsLostBlackhole   uint64
	PacketsLostMTUExceeded uint64
	PacketsLostTTLExpired  uint64

	format *Format
	line   []byte
	spans  []span // one per column of format
}

// Format returns the format the record was parsed with.
func (r *Record) Format() *Format { return r.format }

// Has reports whether field f is in the record's format and not "-".
func (r *Record) Has(f Field) bool {
	if r.format == nil || f >= numFields {
		return false
	}
	i := r.format.index[f]
	return i >= 0 && r.spans[i].end > r.spans[i].start
}

// Text returns field f as written in the line ("eni-0a1b...", "10.0.0.1",
// "443"), or nil when it is missing or not in the format. The bytes belong
// to the line buffer: see Record.
func (r *Record) Text(f Field) []byte {
	if r.format == nil || f >= numFields {
		return nil
	}
	i := r.format.index[f]
	if i < 0 {
		return nil
	}
	return r.Column(int(i))
}

// Column returns the text of column i of the record's format, known field
// or not, or nil when it is "-". The bytes belong to the line buffer.
func (r *Record) Column(i int) []byte {
	if i < 0 || i >= len(r.spans) {
		return nil
	}
	s := r.spans[i]
	if s.end <= s.start {
		return nil
	}
	return r.line[s.start:s.end:s.end]
}

// reset zeroes every typed field and binds the record to format f.
func (r *Record) reset(f *Format) {
	spans := r.spans
	*r = Record{format: f}
	if cap(spans) < len(f.cols) {
		spans = make([]span, len(f.cols))
	}
	r.spans = spans[:len(f.cols)]
}

// AppendField appends field f as AWS writes it: the typed value formatted
// canonically for numbers, addresses and enumerations, the text as read
// for text fields, "-" when missing.
func (r *Record) AppendField(dst []byte, f Field) []byte {
	if !r.Has(f) {
		return append(dst, '-')
	}
	switch f {
	case FieldVersion:
		return strconv.AppendUint(dst, uint64(r.Version), 10)
	case FieldSrcAddr:
		return r.SrcAddr.AppendTo(dst)
	case FieldDstAddr:
		return r.DstAddr.AppendTo(dst)
	case FieldPktSrcAddr:
		return r.PktSrcAddr.AppendTo(dst)
	case FieldPktDstAddr:
		return r.PktDstAddr.AppendTo(dst)
	case FieldSrcPort:
		return strconv.AppendUint(dst, uint64(r.SrcPort), 10)
	case FieldDstPort:
		return strconv.AppendUint(dst, uint64(r.DstPort), 10)
	case FieldProtocol:
		return strconv.AppendUint(dst, uint64(r.Protocol), 10)
	case FieldPackets:
		return strconv.AppendUint(dst, r.Packets, 10)
	case FieldBytes:
		return strconv.AppendUint(dst, r.Bytes, 10)
	case FieldStart:
		return strconv.AppendInt(dst, r.Start, 10)
	case FieldEnd:
		return strconv.AppendInt(dst, r.End, 10)
	case FieldAction:
		return append(dst, r.Action.String()...)
	case FieldLogStatus:
		return append(dst, r.LogStatus.String()...)
	case FieldTCPFlags:
		return strconv.AppendUint(dst, uint64(r.TCPFlags), 10)
	case FieldFlowDirection:
		return append(dst, r.FlowDirection.String()...)
	case FieldTrafficPath:
		return strconv.AppendUint(dst, uint64(r.TrafficPath), 10)
	case FieldEncryptionStatus:
		return strconv.AppendUint(dst, uint64(r.EncryptionStatus), 10)
	case FieldPacketsLostNoRoute:
		return strconv.AppendUint(dst, r.PacketsLostNoRoute, 10)
	case FieldPacketsLostBlackhole:
		return strconv.AppendUint(dst, r.PacketsLostBlackhole, 10)
	case FieldPacketsLostMTUExceeded:
		return strconv.AppendUint(dst, r.PacketsLostMTUExceeded, 10)
	case FieldPacketsLostTTLExpired:
		return strconv.AppendUint(dst, r.PacketsLostTTLExpired, 10)
	}
	return append(dst, r.Text(f)...)
}

// AppendLine appends the record as a line of its format, without the
// newline: each column formatted by AppendField (unknown columns as read),
// separated by single spaces.
func (r *Record) AppendLine(dst []byte) []byte {
	if r.format == nil {
		return dst
	}
	for i, c := range r.format.cols {
		if i > 0 {
			dst = append(dst, ' ')
		}
		if c.field == FieldUnknown {
			if b := r.Column(i); b != nil {
				dst = append(dst, b...)
			} else {
				dst = append(dst, '-')
			}
			continue
		}
		dst = r.AppendField(dst, c.field)
	}
	return dst
}

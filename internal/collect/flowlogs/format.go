package flowlogs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/skymap/skymap/internal/lines"
)

// Errors callers branch on (with errors.Is). None of them is fixed by
// reading the same object again.
var (
	// ErrBadFormat: a header line or LogFormat string that does not
	// describe a flow-log format (empty, a field named twice, not ${...}).
	ErrBadFormat = errors.New("invalid flow-log format")
	// ErrMissingFields: the format lacks fields that attributing traffic
	// to components needs; the error is a *MissingFieldsError naming them.
	ErrMissingFields = errors.New("flow-log format lacks fields needed for attribution")
	// ErrCorrupt: the compressed stream is corrupt or truncated; for
	// gzip text the error is a *CorruptError saying where. It is package
	// lines' own, which reads the text.
	ErrCorrupt = lines.ErrCorrupt
)

// column is one column of a format.
type column struct {
	name  string // as written in the header
	field Field  // FieldUnknown for a name skymap does not know
}

// Format is the layout of the records of one flow log: which field each
// space-separated column holds. It comes from the header line of an S3
// text object (ParseHeader), from the flow log's LogFormat
// (ParseLogFormat), or is the default version 2 format (DefaultFormat).
// A Format is immutable and safe for concurrent use.
type Format struct {
	cols  []column
	index [numFields]int16 // column of each field, -1 when absent
	kinds []kind           // of each column

	isDefaultLayout bool // the default format's fields in its order: ParseLine has a fast path
}

// defaultNames is AWS's default format: the version 2 fields in order.
const defaultNames = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

var defaultFormat = mustFormat(ParseHeader(defaultNames))

func mustFormat(f *Format, err error) *Format {
	if err != nil {
		panic(err)
	}
	return f
}

// DefaultFormat returns AWS's default format: the 14 version 2 fields,
// from version to log-status.
func DefaultFormat() *Format { return defaultFormat }

// ParseHeader returns the format a header line describes: field names
// separated by spaces, as the first line of every S3 text object has it.
// A name skymap does not know becomes an unknown column (Record.Column
// still reads it); a name given twice is an error.
func ParseHeader(line string) (*Format, error) {
	names := strings.Fields(line)
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: empty header", ErrBadFormat)
	}
	return newFormat(names)
}

// ParseLogFormat returns the format a flow log's LogFormat describes, as
// DescribeFlowLogs returns it: "${version} ${account-id} ...". Use it for
// objects that have no header line (CloudWatch Logs exports, Firehose).
func ParseLogFormat(s string) (*Format, error) {
	toks := strings.Fields(s)
	if len(toks) == 0 {
		return nil, fmt.Errorf("%w: empty log format", ErrBadFormat)
	}
	names := make([]string, len(toks))
	for i, t := range toks {
		name, ok := strings.CutPrefix(t, "${")
		if ok {
			name, ok = strings.CutSuffix(name, "}")
		}
		if !ok || name == "" || strings.ContainsAny(name, "${}") {
			return nil, fmt.Errorf("%w: log format item %d %q is not ${field}", ErrBadFormat, i+1, t)
		}
		names[i] = name
	}
	return newFormat(names)
}

func newFormat(names []string) (*Format, error) {
	if len(names) > 1<<14 {
		return nil, fmt.Errorf("%w: %d fields", ErrBadFormat, len(names))
	}
	f := &Format{cols: make([]column, len(names))}
	for i := range f.index {
		f.index[i] = -1
	}
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		if seen[name] {
			return nil, fmt.Errorf("%w: field %q appears twice", ErrBadFormat, name)
		}
		seen[name] = true
		fld, _ := fieldByName[name]
		f.cols[i] = column{name: name, field: fld}
		if fld != FieldUnknown {
			f.index[fld] = int16(i)
		}
		f.kinds = append(f.kinds, fieldTable[fld].kind)
	}
	f.isDefaultLayout = f.isDefault()
	return f, nil
}

// Len returns the number of columns.
func (f *Format) Len() int { return len(f.cols) }

// Names returns the column names in order, as a header line has them.
func (f *Format) Names() []string {
	out := make([]string, len(f.cols))
	for i, c := range f.cols {
		out[i] = c.name
	}
	return out
}

// Field returns the field of column i, FieldUnknown for an unknown name.
func (f *Format) Field(i int) Field { return f.cols[i].field }

// Has reports whether the format has field fl.
func (f *Format) Has(fl Field) bool { return fl < numFields && fl != FieldUnknown && f.index[fl] >= 0 }

// Unknown returns the names of the columns skymap does not know.
func (f *Format) Unknown() []string {
	var out []string
	for _, c := range f.cols {
		if c.field == FieldUnknown {
			out = append(out, c.name)
		}
	}
	return out
}

// String returns the format as a header line.
func (f *Format) String() string { return strings.Join(f.Names(), " ") }

// TransitGateway reports whether the format is a Transit Gateway flow
// log's: it has resource-type or a tgw-* or packets-lost-* field.
func (f *Format) TransitGateway() bool {
	for _, c := range f.cols {
		if c.field.IsTransitGateway() {
			return true
		}
	}
	return false
}

// MissingFieldsError names the fields a format lacks for attribution.
// Each entry is a field name, or alternatives joined by " or " of which
// the format has none ("interface-id or pkt-srcaddr+pkt-dstaddr").
type MissingFieldsError struct {
	Missing []string
}

func (e *MissingFieldsError) Error() string {
	return ErrMissingFields.Error() + ": " + strings.Join(e.Missing, ", ")
}

// Unwrap returns ErrMissingFields.
func (e *MissingFieldsError) Unwrap() error { return ErrMissingFields }

// CheckAttribution returns a *MissingFieldsError when the format lacks a
// field that attributing a record's traffic to components needs, nil
// otherwise. The set, for VPC flow logs:
//
//   - srcaddr, dstaddr: the addresses whose owners are looked up;
//   - srcport, dstport, protocol: which side is the client and which the
//     server, and the relation's protocol and server port;
//   - packets, bytes: the traffic figures;
//   - start or end: when, since addresses are reused over time;
//   - action: accepted and rejected traffic are counted apart;
//   - interface-id, or both pkt-srcaddr and pkt-dstaddr: which network
//     interface saw the flow (the same private address may exist in two
//     VPCs) or the packets' original addresses.
//
// Transit Gateway flow logs have no action and no interface-id; for them
// the last two are replaced by tgw-attachment-id, or both tgw-src-eni and
// tgw-dst-eni.
func (f *Format) CheckAttribution() error {
	var missing []string
	need := func(alts ...[]Field) {
		for _, alt := range alts {
			all := true
			for _, fl := range alt {
				all = all && f.Has(fl)
			}
			if all {
				return
			}
		}
		names := make([]string, len(alts))
		for i, alt := range alts {
			parts := make([]string, len(alt))
			for j, fl := range alt {
				parts[j] = fl.String()
			}
			names[i] = strings.Join(parts, "+")
		}
		missing = append(missing, strings.Join(names, " or "))
	}
	one := func(fl Field) []Field { return []Field{fl} }
	for _, fl := range []Field{FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort, FieldProtocol, FieldPackets, FieldBytes} {
		need(one(fl))
	}
	need(one(FieldStart), one(FieldEnd))
	if f.TransitGateway() {
		need(one(FieldTGWAttachmentID), []Field{FieldTGWSrcENI, FieldTGWDstENI})
	} else {
		need(one(FieldAction))
		need(one(FieldInterfaceID), []Field{FieldPktSrcAddr, FieldPktDstAddr})
	}
	if missing != nil {
		return &MissingFieldsError{Missing: missing}
	}
	return nil
}

// headerFields looks at a line as a header: when every token looks like
// a field name (lower-case letters, digits, '-' and '_', starting with a
// letter) it returns how many tokens are fields skymap knows and how many
// there are; otherwise 0, 0. A file's first line is its header when one
// of its names is known; record values always have a token that is no
// field name (a number, an address, "-", an upper-case action).
func headerFields(line []byte) (known, all int) {
	start := -1
	for i := 0; i <= len(line); i++ {
		if i == len(line) || line[i] == ' ' || line[i] == '\t' {
			if start >= 0 {
				all++
				if _, ok := fieldByName[string(line[start:i])]; ok {
					known++
				}
				start = -1
			}
			continue
		}
		c := line[i]
		switch {
		case c >= 'a' && c <= 'z':
		case (c >= '0' && c <= '9' || c == '-' || c == '_') && start >= 0:
		default:
			return 0, 0
		}
		if start < 0 {
			start = i
		}
	}
	return known, all
}

package flowlogs

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
)

// Summary totals the records of flow-log objects and groups their traffic
// by (interface-id, srcaddr, dstaddr, dstport, protocol, action).
type Summary struct {
	Records   int64 // records read (every log status)
	OK        int64 // records with log-status OK, or without a log-status field
	NoData    int64 // NODATA records: no traffic in the capture window
	SkipData  int64 // SKIPDATA records: records were lost in the capture window
	Malformed int64 // lines skipped as malformed
	Groups    []Group
}

// Group is the traffic of the OK records sharing one key. Records without
// traffic (NODATA, SKIPDATA) are in no group.
type Group struct {
	InterfaceID string     // "" when missing
	SrcAddr     netip.Addr // invalid when missing
	DstAddr     netip.Addr // invalid when missing
	DstPort     int32      // -1 when missing
	Protocol    int16      // -1 when missing
	Action      Action     // ActionNone when missing
	Packets     uint64
	Bytes       uint64
	Records     uint64
}

// FileResult is what Summarize made of one file.
type FileResult struct {
	Path       string
	Records    int64       // records counted
	Malformed  int64       // lines skipped
	LineErrors []LineError // the first 100 malformed lines
	// Err: the file could not be opened or read, is corrupt (a
	// *CorruptError: the records before the fault are counted), has a
	// header that is no format, or lacks fields needed for attribution
	// (a *MissingFieldsError: none of its records are counted).
	Err error
}

// Failed reports whether the file had any problem.
func (f FileResult) Failed() bool { return f.Err != nil || f.Malformed > 0 }

// SummarizeOptions tune Summarize. The zero value is usable.
type SummarizeOptions struct {
	// Workers is how many files are read at once; 0 means GOMAXPROCS.
	Workers int
	// Format is the format of files without a header line; nil means the
	// default version 2 format.
	Format *Format
}

// Summarize reads the flow-log files at paths (gzip or plain text), several
// at a time, and totals them. It returns the summary, with groups sorted
// by bytes (largest first) then by key, and one result per path in the
// order given. A problem with one file does not stop the others; the
// records read before it count. It stops early when ctx is cancelled, and
// says so in the results of the files it did not finish.
func Summarize(ctx context.Context, paths []string, opts SummarizeOptions) (Summary, []FileResult) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(len(paths), 1))
	results := make([]FileResult, len(paths))
	tallies := make([]*tally, workers)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		t := newTally()
		tallies[w] = t
		wg.Go(func() {
			var rd *Reader
			for i := range next {
				rd = t.file(ctx, paths[i], opts.Format, rd, &results[i])
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	total := tallies[0]
	for _, t := range tallies[1:] {
		total.merge(t)
	}
	return total.summary(), results
}

// file reads one file into t, reusing rd when not nil, and returns the
// reader for the next file.
func (t *tally) file(ctx context.Context, path string, fallback *Format, rd *Reader, res *FileResult) *Reader {
	res.Path = path
	if err := ctx.Err(); err != nil {
		res.Err = err
		return rd
	}
	f, err := os.Open(path)
	if err != nil {
		res.Err = err
		return rd
	}
	defer f.Close()
	if rd == nil {
		rd = NewReader(f, path, fallback)
	} else {
		rd.Reset(f, path, fallback)
	}
	format, err := rd.ReadHeader()
	if err == nil && format != nil {
		if err = format.CheckAttribution(); err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
	}
	if err != nil {
		res.Err = err
		res.Malformed, res.LineErrors = rd.Malformed()
		t.malformed += res.Malformed
		return rd
	}
	var n int64
	for rd.Next() {
		t.add(rd.Record())
		n++
		if n&(1<<16-1) == 0 && ctx.Err() != nil {
			res.Err = fmt.Errorf("%s: %w", path, ctx.Err())
			break
		}
	}
	res.Records = n
	if res.Err == nil {
		res.Err = rd.Err()
	}
	res.Malformed, res.LineErrors = rd.Malformed()
	t.malformed += res.Malformed
	return rd
}

// groupKey is a Group's key in 24 bytes, so that adding a record to its
// group allocates nothing and hashes little. Interface ids of the usual
// form (eni- and 17 hex digits) and IPv4 addresses are stored as numbers;
// anything else is interned in the tally and stored as its index.
type groupKey struct {
	iface   uint64 // the last 16 hex digits of the interface id, or its intern index
	src     uint32 // IPv4 address, or intern index
	dst     uint32
	dstPort uint16
	ifaceHi uint8 // the first hex digit of the interface id
	proto   uint8
	action  Action
	flags   uint8
	pad     [2]byte
}

// groupKey flags.
const (
	hasPort     = 1 << iota
	hasProto    // proto is set
	ifaceOther  // iface is an intern index; with ifaceHi 0xff, no interface id
	srcOther    // src is an intern index (IPv6, or no address)
	dstOther    // dst is an intern index
	noInterface = 0xff
)

type counters struct{ packets, bytes, records uint64 }

// tally accumulates records; one per worker.
type tally struct {
	records, ok, nodata, skipdata, malformed int64

	groups *groupTable
	keys   [batchSize]packedKey // records waiting to be added to groups
	counts [batchSize]counters
	nbatch int

	ifaces   map[string]uint64 // interned interface ids of unusual form
	ifaceIDs []string
	addrs    map[netip.Addr]uint32 // interned addresses other than IPv4
	addrList []netip.Addr
}

func newTally() *tally {
	return &tally{
		groups: newGroupTable(),
		ifaces: map[string]uint64{},
		addrs:  map[netip.Addr]uint32{},
	}
}

// hexValue is the value of each lower-case hex digit, 0xff for other bytes.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

func hexDigit(c byte) byte { return hexValue[c] }

// setIface stores interface id id in k.
func (t *tally) setIface(k *groupKey, id []byte) {
	if len(id) == 21 && string(id[:4]) == "eni-" {
		hi := hexDigit(id[4])
		var v uint64
		for _, c := range id[5:] {
			d := hexDigit(c)
			hi |= d // 0xff stays 0xff
			v = v<<4 | uint64(d&0xf)
		}
		if hi != 0xff {
			k.iface, k.ifaceHi = v, hexDigit(id[4])
			return
		}
	}
	k.flags |= ifaceOther
	if id == nil {
		k.ifaceHi = noInterface
		return
	}
	n, ok := t.ifaces[string(id)]
	if !ok {
		n = uint64(len(t.ifaceIDs))
		t.ifaceIDs = append(t.ifaceIDs, string(id))
		t.ifaces[string(id)] = n
	}
	k.iface = n
}

func (t *tally) ifaceString(k groupKey) string {
	switch {
	case k.flags&ifaceOther == 0:
		b := make([]byte, 0, 21)
		b = append(b, "eni-"...)
		b = append(b, "0123456789abcdef"[k.ifaceHi])
		for i := 60; i >= 0; i -= 4 {
			b = append(b, "0123456789abcdef"[k.iface>>i&0xf])
		}
		return string(b)
	case k.ifaceHi == noInterface:
		return ""
	}
	return t.ifaceIDs[k.iface]
}

// addr returns a's key value, and whether it is an intern index.
func (t *tally) addr(a netip.Addr) (uint32, bool) {
	if a.Is4() {
		b := a.As4()
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), false
	}
	n, ok := t.addrs[a]
	if !ok {
		n = uint32(len(t.addrList))
		t.addrList = append(t.addrList, a)
		t.addrs[a] = n
	}
	return n, true
}

func (t *tally) addrOf(v uint32, other bool) netip.Addr {
	if other {
		return t.addrList[v]
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// add counts one record.
func (t *tally) add(r *Record) {
	t.records++
	switch r.LogStatus {
	case LogStatusNoData:
		t.nodata++
		return
	case LogStatusSkipData:
		t.skipdata++
		return
	}
	t.ok++
	k := groupKey{action: r.Action}
	t.setIface(&k, r.Text(FieldInterfaceID))
	var other bool
	if k.src, other = t.addr(r.SrcAddr); other {
		k.flags |= srcOther
	}
	if k.dst, other = t.addr(r.DstAddr); other {
		k.flags |= dstOther
	}
	if r.Has(FieldDstPort) {
		k.dstPort, k.flags = r.DstPort, k.flags|hasPort
	}
	if r.Has(FieldProtocol) {
		k.proto, k.flags = r.Protocol, k.flags|hasProto
	}
	t.keys[t.nbatch], t.counts[t.nbatch] = k.pack(), counters{r.Packets, r.Bytes, 1}
	if t.nbatch++; t.nbatch == batchSize {
		t.flush()
	}
}

// flush adds the waiting records to the groups.
func (t *tally) flush() {
	t.groups.addBatch(t.keys[:t.nbatch], t.counts[:t.nbatch])
	t.nbatch = 0
}

// merge adds o's counts to t, translating o's intern indexes into t's.
func (t *tally) merge(o *tally) {
	t.flush()
	o.flush()
	t.records += o.records
	t.ok += o.ok
	t.nodata += o.nodata
	t.skipdata += o.skipdata
	t.malformed += o.malformed
	o.groups.each(func(p packedKey, c counters) {
		k := p.unpack()
		if k.flags&ifaceOther != 0 && k.ifaceHi != noInterface {
			t.setIface(&k, []byte(o.ifaceIDs[k.iface]))
		}
		if k.flags&srcOther != 0 {
			k.src, _ = t.addr(o.addrList[k.src])
		}
		if k.flags&dstOther != 0 {
			k.dst, _ = t.addr(o.addrList[k.dst])
		}
		t.groups.add(k.pack(), c)
	})
}

func (t *tally) summary() Summary {
	t.flush()
	s := Summary{Records: t.records, OK: t.ok, NoData: t.nodata, SkipData: t.skipdata, Malformed: t.malformed}
	s.Groups = make([]Group, 0, t.groups.n)
	t.groups.each(func(p packedKey, c counters) {
		k := p.unpack()
		g := Group{
			InterfaceID: t.ifaceString(k),
			SrcAddr:     t.addrOf(k.src, k.flags&srcOther != 0),
			DstAddr:     t.addrOf(k.dst, k.flags&dstOther != 0),
			DstPort:     -1, Protocol: -1,
			Action:  k.action,
			Packets: c.packets, Bytes: c.bytes, Records: c.records,
		}
		if k.flags&hasPort != 0 {
			g.DstPort = int32(k.dstPort)
		}
		if k.flags&hasProto != 0 {
			g.Protocol = int16(k.proto)
		}
		s.Groups = append(s.Groups, g)
	})
	slices.SortFunc(s.Groups, compareGroups)
	return s
}

// compareGroups orders groups by bytes, largest first, then by key.
func compareGroups(a, b Group) int {
	return cmp.Or(
		cmp.Compare(b.Bytes, a.Bytes),
		cmp.Compare(a.InterfaceID, b.InterfaceID),
		a.SrcAddr.Compare(b.SrcAddr),
		a.DstAddr.Compare(b.DstAddr),
		cmp.Compare(a.DstPort, b.DstPort),
		cmp.Compare(a.Protocol, b.Protocol),
		cmp.Compare(a.Action, b.Action),
	)
}

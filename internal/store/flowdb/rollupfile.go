package flowdb

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/skymap/skymap/internal/model"
)

// A rollups file is written here column by column, not through
// parquet-go's row writer: an object's rollups are about as many as its
// records, and converting, hashing and dictionary-inserting 19 values a
// row cost more than the rest of the ingest. model.FlowRollups already
// number the interfaces and endpoints of an object, so every text column
// is dictionary-encoded with dictionaries made once per object from those
// two tables, and a row is only numbers to copy.
//
// The file: one row group, every column REQUIRED, data pages v1 of at
// most rollupPageRows values, snappy; text columns RLE_DICTIONARY (one
// PLAIN dictionary page, indices bit-packed), numbers PLAIN; min/max
// statistics on minute, by which DuckDB skips files. Types as
// rollupColumns says: minute a TIMESTAMP(MICROS) not adjusted to UTC,
// unsigned integers with their width.

// rollupPageRows is the most rows of a data page.
const rollupPageRows = 1 << 14

// The columns of a rollups file, in rollupColumns' order.
const (
	colMinute = iota
	colAccount
	colRegion
	colInterface
	colReporter
	colClient
	colServer
	colClientAddr
	colServerAddr
	colServerPort
	colProtocol
	colAction
	colBytesToServer
	colBytesToClient
	colPacketsToServer
	colPacketsToClient
	colRecords
	colClientAddrKey
	colServerAddrKey
	numRollupCols
)

// pqDict is a dictionary of text values, PLAIN-encoded.
type pqDict struct {
	plain []byte
	n     int
	index map[string]uint32
	// page is the dictionary page as written (header and compressed
	// body), made once for the columns sharing the dictionary.
	page       []byte
	pageUncomp int64
}

// add returns v's index, adding it.
func (d *pqDict) add(v string) uint32 {
	if i, ok := d.index[v]; ok {
		return i
	}
	if d.index == nil {
		d.index = map[string]uint32{}
	}
	d.plain = binary.LittleEndian.AppendUint32(d.plain, uint32(len(v)))
	d.plain = append(d.plain, v...)
	d.index[v] = uint32(d.n)
	d.n++
	return uint32(d.n - 1)
}

// width is the bit width of d's indices (at least 1).
func (d *pqDict) width() int { return max(1, bits.Len32(uint32(max(d.n, 1)-1))) }

// appendAddr adds a, which the dictionary lacks: its text, or as key its
// 32 hex digits (addrText, addrKey).
func (d *pqDict) appendAddr(a netip.Addr, key bool) {
	at := len(d.plain)
	d.plain = append(d.plain, 0, 0, 0, 0)
	if a.IsValid() {
		a = a.Unmap()
		if key {
			b := a.As16()
			d.plain = hex.AppendEncode(d.plain, b[:])
		} else {
			d.plain = a.AppendTo(d.plain)
		}
	}
	binary.LittleEndian.PutUint32(d.plain[at:], uint32(len(d.plain)-at-4))
	d.n++
}

// fixedDict is a dictionary of known values.
func fixedDict(vs ...string) *pqDict {
	d := &pqDict{}
	for _, v := range vs {
		d.add(v)
	}
	return d
}

// pqChunk is one column chunk being written: its pages, compressed, and
// what its metadata needs.
type pqChunk struct {
	dict       *pqDict
	data       []byte // page headers and bodies, the dictionary page first
	dictPage   int    // bytes of the dictionary page (header included), 0: none
	values     int64
	uncompSize int64
}

// rollupFile writes one object's rollups (see above). It is reused from
// object to object (DB.writers), so that its buffers, about the size of
// the file and of an object's tables, are not taken afresh each time.
type rollupFile struct {
	chunks [numRollupCols]pqChunk
	// One page's values: dictionary indices, 8-byte and 4-byte numbers.
	idx  [numRollupCols][]uint32
	u64  [numRollupCols][]uint64
	u32  [numRollupCols][]uint32
	page []byte // a page's uncompressed body
	comp []byte // and compressed

	// The dictionaries and, per interface and endpoint, its indices in
	// them.
	accounts, regions, ifaces, ids, addrTexts, addrKeys pqDict
	ifAcct, ifRegion, ifID, epID, epAddr                []uint32
	addrs                                               map[netip.Addr]uint32
}

// reset readies w for another object.
func (w *rollupFile) reset() {
	for c := range w.chunks {
		w.chunks[c] = pqChunk{data: w.chunks[c].data[:0]}
	}
	for _, d := range []*pqDict{&w.accounts, &w.regions, &w.ifaces, &w.ids, &w.addrTexts, &w.addrKeys} {
		clear(d.index)
		*d = pqDict{plain: d.plain[:0], index: d.index, page: d.page[:0]}
	}
	clear(w.addrs)
}

// size is about the memory w holds.
func (w *rollupFile) size() int {
	n := cap(w.page) + cap(w.comp) + 4*(cap(w.ifAcct)+cap(w.ifRegion)+cap(w.ifID)+cap(w.epID)+cap(w.epAddr)) + 40*len(w.addrs)
	for c := range w.chunks {
		n += cap(w.chunks[c].data) + 8*(cap(w.idx[c])+cap(w.u64[c])+cap(w.u32[c]))
	}
	for _, d := range []*pqDict{&w.accounts, &w.regions, &w.ifaces, &w.ids, &w.addrTexts, &w.addrKeys} {
		n += cap(d.plain) + cap(d.page) + 40*len(d.index)
	}
	return n
}

// maxKeptWriter is the most memory a rollupFile kept for reuse may hold.
const maxKeptWriter = 128 << 20

// writer returns a rollupFile to use, and a function giving it back.
func (d *DB) writer() (*rollupFile, func()) {
	var w *rollupFile
	select {
	case w = <-d.writers:
		w.reset()
	default:
		w = &rollupFile{addrs: map[netip.Addr]uint32{}}
	}
	return w, func() {
		if w.size() > maxKeptWriter {
			return
		}
		select {
		case d.writers <- w:
		default:
		}
	}
}

// writeRollups writes rs, sorted by minute, as a rollups file at path
// through a temporary file in flows.tmp, and returns the last minute.
func (d *DB) writeRollups(path string, rs *model.FlowRollups) (last time.Time, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	w, done := d.writer()
	defer done()
	body, lastMinute, err := w.encode(rs)
	if err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	f, err := os.CreateTemp(d.tmp, "rollups-*")
	if err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	for _, b := range body {
		if _, err = f.Write(b); err != nil {
			return last, fmt.Errorf("write rollups: %w", err)
		}
	}
	if err = f.Sync(); err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	if err = f.Close(); err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return last, fmt.Errorf("write rollups: %w", err)
	}
	return time.Unix(int64(lastMinute)*60, 0).UTC(), nil
}

// byMinute returns rows sorted by minute, stably: rows themselves when
// they are (as the flows Processor makes them), else a sorted copy.
func byMinute(rows []model.FlowRollupRow) []model.FlowRollupRow {
	sorted := true
	for i := 1; i < len(rows) && sorted; i++ {
		sorted = rows[i-1].Minute <= rows[i].Minute
	}
	if sorted {
		return rows
	}
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b model.FlowRollupRow) int { return cmp.Compare(a.Minute, b.Minute) })
	return out
}

// encode returns the file's bytes, in pieces to write one after the
// other, and the last minute.
func (w *rollupFile) encode(rs *model.FlowRollups) ([][]byte, uint32, error) {
	if len(rs.Rows) == 0 {
		return nil, 0, fmt.Errorf("no rollups")
	}
	for _, r := range rs.Rows {
		if int(r.Interface) >= len(rs.Interfaces) || int(r.Client) >= len(rs.Endpoints) || int(r.Server) >= len(rs.Endpoints) {
			return nil, 0, fmt.Errorf("a rollup names interface %d, endpoints %d and %d of %d and %d",
				r.Interface, r.Client, r.Server, len(rs.Interfaces), len(rs.Endpoints))
		}
	}
	rows := byMinute(rs.Rows)

	// Dictionaries of the interfaces' and endpoints' texts, from the
	// entries rows name, and each entry's index in them.
	nif, nep := len(rs.Interfaces), len(rs.Endpoints)
	accounts, regions, ifaces := &w.accounts, &w.regions, &w.ifaces
	ids, addrTexts, addrKeys := &w.ids, &w.addrTexts, &w.addrKeys
	const none = ^uint32(0)
	w.ifAcct, w.ifRegion, w.ifID = fill(w.ifAcct, nif, none), fill(w.ifRegion, nif, none), fill(w.ifID, nif, none)
	w.epID, w.epAddr = fill(w.epID, nep, none), fill(w.epAddr, nep, none)
	ifAcct, ifRegion, ifID, epID, epAddr, addrs := w.ifAcct, w.ifRegion, w.ifID, w.epID, w.epAddr, w.addrs
	for i := range rows {
		r := &rows[i]
		if f := r.Interface; ifID[f] == none {
			in := &rs.Interfaces[f]
			ifAcct[f], ifRegion[f], ifID[f] = accounts.add(in.Account), regions.add(in.Region), ifaces.add(in.ID)
		}
		for _, e := range [2]uint32{r.Client, r.Server} {
			if epID[e] != none {
				continue
			}
			ep := &rs.Endpoints[e]
			epID[e] = ids.add(ep.ID)
			a, ok := addrs[ep.Addr]
			if !ok {
				a = uint32(len(addrs))
				addrs[ep.Addr] = a
				addrTexts.appendAddr(ep.Addr, false)
				addrKeys.appendAddr(ep.Addr, true)
			}
			epAddr[e] = a
		}
	}
	dicts := [numRollupCols]*pqDict{
		colAccount: accounts, colRegion: regions, colInterface: ifaces,
		colReporter: fixedDict(model.FlowClient.String(), model.FlowServer.String()),
		colClient:   ids, colServer: ids, colClientAddr: addrTexts, colServerAddr: addrTexts,
		colAction: fixedDict("ACCEPT", "REJECT"), colClientAddrKey: addrKeys, colServerAddrKey: addrKeys,
	}
	for c, d := range dicts {
		if d == nil {
			continue
		}
		ch := &w.chunks[c]
		ch.dict = d
		if len(d.page) == 0 {
			var pc pqChunk
			d.page = w.appendPage(d.page[:0], format.PageHeader{Type: format.DictionaryPage,
				DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{NumValues: int32(d.n), Encoding: format.Plain})}, d.plain, &pc)
			d.pageUncomp = pc.uncompSize
		}
		ch.data = append(ch.data, d.page...)
		ch.uncompSize += d.pageUncomp
		ch.dictPage = len(ch.data)
	}

	// The pages, a column at a time within each slice of rows.
	n := min(len(rows), rollupPageRows)
	for c := range w.chunks {
		switch {
		case w.chunks[c].dict != nil:
			w.idx[c] = slices.Grow(w.idx[c][:0], n)[:n]
		case c == colServerPort || c == colProtocol:
			w.u32[c] = slices.Grow(w.u32[c][:0], n)[:n]
		default:
			w.u64[c] = slices.Grow(w.u64[c][:0], n)[:n]
		}
	}
	firstMinute, lastMinute := rows[0].Minute, rows[len(rows)-1].Minute
	for start := 0; start < len(rows); start += rollupPageRows {
		page := rows[start:min(start+rollupPageRows, len(rows))]
		n := len(page)
		for j := range page {
			r := &page[j]
			w.u64[colMinute][j] = uint64(r.Minute) * 60_000_000
			f := r.Interface
			w.idx[colAccount][j], w.idx[colRegion][j], w.idx[colInterface][j] = ifAcct[f], ifRegion[f], ifID[f]
			w.idx[colReporter][j] = 0
			if r.Reporter == model.FlowServer {
				w.idx[colReporter][j] = 1
			}
			w.idx[colClient][j], w.idx[colServer][j] = epID[r.Client], epID[r.Server]
			ca, sa := epAddr[r.Client], epAddr[r.Server]
			w.idx[colClientAddr][j], w.idx[colServerAddr][j] = ca, sa
			w.idx[colClientAddrKey][j], w.idx[colServerAddrKey][j] = ca, sa
			w.u32[colServerPort][j], w.u32[colProtocol][j] = uint32(r.ServerPort), uint32(r.Protocol)
			w.idx[colAction][j] = 1
			if r.Accepted {
				w.idx[colAction][j] = 0
			}
			w.u64[colBytesToServer][j], w.u64[colBytesToClient][j] = r.BytesToServer, r.BytesToClient
			w.u64[colPacketsToServer][j], w.u64[colPacketsToClient][j] = r.PacketsToServer, r.PacketsToClient
			w.u64[colRecords][j] = r.Records
		}
		for c := range w.chunks {
			ch := &w.chunks[c]
			body := w.page[:0]
			enc := format.Plain
			switch {
			case ch.dict != nil:
				enc = format.RLEDictionary
				body = appendDictIndices(body, w.idx[c][:n], ch.dict.width())
			case w.u32[c] != nil:
				for _, v := range w.u32[c][:n] {
					body = binary.LittleEndian.AppendUint32(body, v)
				}
			default:
				for _, v := range w.u64[c][:n] {
					body = binary.LittleEndian.AppendUint64(body, v)
				}
			}
			w.page = body
			ch.data = w.appendPage(ch.data, format.PageHeader{Type: format.DataPage,
				DataPageHeader: thrift.New(format.DataPageHeader{NumValues: int32(n), Encoding: enc,
					DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE})}, body, ch)
			ch.values += int64(n)
		}
	}

	// The footer.
	var schema []format.SchemaElement
	schema = append(schema, format.SchemaElement{Name: "flow_rollups", NumChildren: thrift.New(int32(numRollupCols))})
	var cols []format.ColumnChunk
	var orders []format.ColumnOrder
	out := [][]byte{[]byte("PAR1")}
	offset, total, totalComp := int64(4), int64(0), int64(0)
	for c := range w.chunks {
		ch := &w.chunks[c]
		el, typ := rollupSchema(c)
		schema = append(schema, el)
		orders = append(orders, format.ColumnOrder{Value: &format.TypeDefinedOrder{}})
		md := format.ColumnMetaData{Type: typ, Encoding: []format.Encoding{format.Plain, format.RLE},
			PathInSchema: []string{el.Name}, Codec: format.Snappy, NumValues: ch.values,
			TotalUncompressedSize: ch.uncompSize, TotalCompressedSize: int64(len(ch.data)), DataPageOffset: offset}
		if ch.dict != nil {
			md.Encoding = append(md.Encoding, format.RLEDictionary)
			md.DictionaryPageOffset = offset
			md.DataPageOffset = offset + int64(ch.dictPage)
		}
		if c == colMinute {
			lo := binary.LittleEndian.AppendUint64(nil, uint64(firstMinute)*60_000_000)
			hi := binary.LittleEndian.AppendUint64(nil, uint64(lastMinute)*60_000_000)
			md.Statistics = format.Statistics{Min: lo, Max: hi, MinValue: lo, MaxValue: hi}
		}
		cols = append(cols, format.ColumnChunk{FileOffset: offset, MetaData: md})
		out = append(out, ch.data)
		offset += int64(len(ch.data))
		total += ch.uncompSize
		totalComp += int64(len(ch.data))
	}
	meta := format.FileMetaData{Version: 1, Schema: schema, NumRows: int64(len(rows)),
		RowGroups: []format.RowGroup{{Columns: cols, TotalByteSize: total, NumRows: int64(len(rows)),
			FileOffset: 4, TotalCompressedSize: totalComp}},
		CreatedBy: "skymap", ColumnOrders: orders}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &meta)
	if err != nil {
		return nil, 0, err
	}
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	out = append(out, append(footer, "PAR1"...))
	return out, lastMinute, nil
}

// appendPage appends to dst a page: h, with its sizes filled in, and
// body compressed with snappy; it counts the uncompressed size in ch.
func (w *rollupFile) appendPage(dst []byte, h format.PageHeader, body []byte, ch *pqChunk) []byte {
	w.comp = s2.EncodeSnappy(w.comp[:cap(w.comp)], body)
	h.UncompressedPageSize, h.CompressedPageSize = int32(len(body)), int32(len(w.comp))
	hb, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
	if err != nil {
		panic(err) // a page header always encodes
	}
	ch.uncompSize += int64(len(hb) + len(body))
	return append(append(dst, hb...), w.comp...)
}

// appendDictIndices appends vs as a data page of dictionary indices: the
// bit width, then one bit-packed run (padded to a multiple of 8 values).
func appendDictIndices(dst []byte, vs []uint32, width int) []byte {
	dst = append(dst, byte(width))
	groups := (len(vs) + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
	end := len(dst) + groups*width
	var acc uint64
	var nb int
	for _, v := range vs {
		acc |= uint64(v) << nb
		if nb += width; nb >= 32 {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(acc))
			acc >>= 32
			nb -= 32
		}
	}
	for ; nb > 0; nb -= 8 {
		dst = append(dst, byte(acc))
		acc >>= 8
	}
	for len(dst) < end {
		dst = append(dst, 0)
	}
	return dst
}

// rollupSchema is column c's schema element and physical type.
func rollupSchema(c int) (format.SchemaElement, format.Type) {
	el := format.SchemaElement{Name: rollupColumns[c].name, RepetitionType: thrift.New(format.Required)}
	var typ format.Type
	unsigned := func(width int8, conv deprecated.ConvertedType) {
		el.ConvertedType = thrift.New(conv)
		el.LogicalType = format.LogicalType{Value: &format.IntType{BitWidth: width}}
	}
	switch c {
	case colMinute:
		typ = format.Int64
		el.LogicalType = format.LogicalType{Value: &format.TimestampType{Unit: format.TimeUnit{Value: &format.MicroSeconds{}}}}
	case colServerPort:
		typ = format.Int32
		unsigned(16, deprecated.Uint16)
	case colProtocol:
		typ = format.Int32
		unsigned(8, deprecated.Uint8)
	case colBytesToServer, colBytesToClient, colPacketsToServer, colPacketsToClient, colRecords:
		typ = format.Int64
		unsigned(64, deprecated.Uint64)
	default:
		typ = format.ByteArray
		el.ConvertedType = thrift.New(deprecated.UTF8)
		el.LogicalType = format.LogicalType{Value: &format.StringType{}}
	}
	el.Type = thrift.New(typ)
	return el, typ
}

// fill returns s holding n copies of v.
func fill(s []uint32, n int, v uint32) []uint32 {
	s = slices.Grow(s[:0], n)[:n]
	for i := range s {
		s[i] = v
	}
	return s
}

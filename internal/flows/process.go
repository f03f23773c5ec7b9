package flows

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// PublicPolicy says what becomes of traffic with a public address that no
// monitored component owns.
type PublicPolicy uint8

// The policies. The zero value keeps public traffic.
const (
	// PublicKeep attributes each public address to its own endpoint,
	// urn:host:/<ip>.
	PublicKeep PublicPolicy = iota
	// PublicAggregate attributes every public address to one endpoint,
	// model.PublicAggregate, and leaves the address out of the rollup
	// (an invalid netip.Addr), so that the internet is one row per
	// conversation, not one per address.
	PublicAggregate
	// PublicDrop leaves records with a public address out of the rollups;
	// they are counted in Result.Dropped.
	PublicDrop
)

// ParsePublicPolicy returns the policy named keep, aggregate or drop.
func ParsePublicPolicy(s string) (PublicPolicy, error) {
	switch strings.ToLower(s) {
	case "keep", "":
		return PublicKeep, nil
	case "aggregate":
		return PublicAggregate, nil
	case "drop":
		return PublicDrop, nil
	}
	return 0, fmt.Errorf("public traffic policy %q: want keep, aggregate or drop", s)
}

// String returns keep, aggregate or drop.
func (p PublicPolicy) String() string {
	switch p {
	case PublicAggregate:
		return "aggregate"
	case PublicDrop:
		return "drop"
	}
	return "keep"
}

// Options tune a Processor. The zero value processes every account's
// records and keeps public traffic.
type Options struct {
	// Accounts are the monitored accounts: records whose account-id is
	// another are counted in Result.Filtered and left out. Empty: every
	// account.
	Accounts []string
	// Public is what becomes of public traffic.
	Public PublicPolicy
}

// ObjectMeta describes a flow-log object to Process.
type ObjectMeta struct {
	// Bucket, Key and ETag name the object.
	Bucket, Key, ETag string
	// Account and Region are the flow log's, from the key. Records
	// without an account-id are taken as Account's.
	Account, Region string
	// Format is the flow log's LogFormat (DescribeFlowLogs), for objects
	// without a header line; nil means AWS's default format. A header
	// line wins.
	Format *flowlogs.Format
}

// Result is what Process made of one object: the FlowObject to commit,
// and how its records were counted. Records = OK + NoData + SkipData, and
// OK records are either rolled up or counted in Filtered or Dropped.
type Result struct {
	store.FlowObject

	OK       int64 // records with log-status OK (or without log-status)
	NoData   int64 // NODATA: no traffic in the capture window
	SkipData int64 // SKIPDATA: records lost in the capture window
	// Filtered counts OK records of accounts that are not monitored.
	Filtered int64
	// Dropped counts OK records left out of the rollups: public traffic
	// under PublicDrop, and records without both addresses.
	Dropped int64
	// LineErrors are the first malformed lines (FlowObject.Malformed
	// counts them all).
	LineErrors []flowlogs.LineError
}

// Processor reads flow-log objects and rolls their records up into
// traffic between components. It is safe for concurrent use: each
// Process call uses its own state, taken from a free list.
type Processor struct {
	index    *Index
	accounts map[string]bool
	public   PublicPolicy
	// runs and released keep what calls can reuse: runs their tables,
	// released the rollup slices given back by Release. Free lists, not
	// sync.Pools: a pool forgets at every other garbage collection, and
	// an object's processing sees several, each forgetting tens of
	// megabytes that the next call would take again.
	runs     chan *run
	released chan model.FlowRollups
}

// maxFree is how many runs and released slices a Processor keeps.
const maxFree = 8

// Release hands back res's rollups once they are committed, for the next
// Process call to reuse their memory: an object's rollups are about as
// many as its records, 64 bytes each, and taking fresh memory for them
// costs more than filling it. res must not be used after. Calling
// Release is optional.
func (p *Processor) Release(res *Result) {
	if res == nil || cap(res.Rollups.Rows) == 0 {
		return
	}
	select {
	case p.released <- res.Rollups:
	default:
	}
	res.Rollups = model.FlowRollups{}
}

// NewProcessor returns a Processor attributing addresses with index.
func NewProcessor(index *Index, opts Options) *Processor {
	p := &Processor{index: index, public: opts.Public,
		runs: make(chan *run, maxFree), released: make(chan model.FlowRollups, maxFree)}
	if len(opts.Accounts) > 0 {
		p.accounts = make(map[string]bool, len(opts.Accounts))
		for _, a := range opts.Accounts {
			p.accounts[a] = true
		}
	}
	return p
}

// records is what reads an object's records: a text Reader or a
// ParquetReader.
type records interface {
	Next() bool
	Record() *flowlogs.Record
	Err() error
	Malformed() (int64, []flowlogs.LineError)
}

// Process reads one flow-log object, body as stored (gzip or plain text
// with its header line, or Parquet), and returns its rollups: the OK
// records of monitored accounts, attributed to the components owning
// their addresses at the record's start, per minute (the start truncated)
// and per (interface, client, server, addresses, server port, protocol,
// action). Result.Body is body.
//
// A format that lacks fields needed for attribution gives no result and
// an error wrapping flowlogs.ErrMissingFields. A compressed object that
// is corrupt or truncated gives the rollups of the records read before
// the fault and an error wrapping flowlogs.ErrCorrupt: such an object is
// not fully processed and must not be deleted. Other errors (a header
// that is no format) also come with what was read before them, when
// anything was.
func (p *Processor) Process(ctx context.Context, obj ObjectMeta, body []byte) (*Result, error) {
	name := "s3://" + obj.Bucket + "/" + obj.Key
	res := &Result{FlowObject: store.FlowObject{
		Bucket: obj.Bucket, Key: obj.Key, ETag: obj.ETag,
		Account: obj.Account, Region: obj.Region, Body: body,
	}}
	var r *run
	select {
	case r = <-p.runs:
	default:
		r = newRun()
	}
	defer func() {
		select {
		case p.runs <- r:
		default:
		}
	}()
	r.begin(p, obj)

	var recs records
	var format *flowlogs.Format
	if flowlogs.IsParquet(body) {
		pr, err := flowlogs.NewParquetReader(bytes.NewReader(body), int64(len(body)), name)
		if err != nil {
			return nil, err
		}
		res.Parquet = true
		recs, format = pr, pr.Format()
	} else {
		if r.rd == nil {
			r.rd = flowlogs.NewReader(nil, name, obj.Format)
		}
		r.rd.ResetBytes(body, name, obj.Format)
		recs = r.rd
		var err error
		if format, err = r.rd.ReadHeader(); err != nil {
			if errors.Is(err, flowlogs.ErrCorrupt) {
				var lineErrs []flowlogs.LineError
				res.Malformed, lineErrs = recs.Malformed()
				res.LineErrors = slices.Clone(lineErrs)
				return res, err
			}
			return nil, err
		}
	}
	if err := format.CheckAttribution(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	res.Format = format.String()

	var start, end int64
	var err error
	for recs.Next() {
		rec := recs.Record()
		if f := rec.Format(); f != format {
			// A header further down: objects of several formats
			// concatenated.
			if err = f.CheckAttribution(); err != nil {
				err = fmt.Errorf("%s: a later header: %w", name, err)
				break
			}
			format = f
		}
		if res.Records&(1<<16-1) == 0 && ctx.Err() != nil {
			err = fmt.Errorf("%s: %w", name, ctx.Err())
			break
		}
		res.Records++
		if rec.Start != 0 && (start == 0 || rec.Start < start) {
			start = rec.Start
		}
		end = max(end, rec.End)
		switch rec.LogStatus {
		case flowlogs.LogStatusNoData:
			res.NoData++
			continue
		case flowlogs.LogStatusSkipData:
			res.SkipData++
			continue
		}
		res.OK++
		r.add(rec, res)
	}
	if err == nil {
		err = recs.Err()
	}
	var lineErrs []flowlogs.LineError
	res.Malformed, lineErrs = recs.Malformed()
	res.LineErrors = slices.Clone(lineErrs) // the reader's, reused by the next call
	if start != 0 {
		res.Start = time.Unix(start, 0).UTC()
	}
	if end != 0 {
		res.End = time.Unix(end, 0).UTC()
	}
	var out model.FlowRollups
	select {
	case out = <-p.released:
	default:
	}
	res.Rollups = r.finish(out)
	// The text reader got to the end of the body without error: the store
	// need not check that it decompresses.
	res.ReadWhole = err == nil && !res.Parquet
	if err != nil && res.Records == 0 && !errors.Is(err, flowlogs.ErrCorrupt) {
		return nil, err
	}
	return res, err
}

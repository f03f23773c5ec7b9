// Package traces receives OpenTelemetry traces over OTLP/HTTP and turns
// the calls they record into uses-service relations: from the component a
// span's resource names (a Lambda function, a service) to the component
// its client or producer spans called (a DynamoDB table, an SQS queue, a
// database endpoint, another service), with the calls, errors and latency
// of each relation over a window.
package traces

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/skymap/skymap/internal/model"
)

// Source is the value of the "source" key of the data of trace relations,
// and Scope the scope type of their snapshot.
const (
	Source = "trace"
	Scope  = "trace"
)

// Options configure a Receiver. The zero value is usable.
type Options struct {
	// Window is how long a relation lives without calls and how far back
	// its figures count; 0 means an hour.
	Window time.Duration
	// MaxRelations bounds the relations held (distinct pairs of ends,
	// names of unknown services included); spans of new pairs beyond it
	// are rejected. 0 means 10,000.
	MaxRelations int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Receiver holds the relations the spans it received make. It is safe for
// concurrent use; its zero value is not: call NewReceiver.
type Receiver struct {
	window  time.Duration
	slotLen time.Duration
	maxRels int
	now     func() time.Time
	changed chan struct{}

	mu   sync.Mutex
	rels map[pair]*relation

	stats struct{ spans, mapped, rejected, stale atomic.Int64 }
}

// pair is a relation's two ends as the spans name them.
type pair struct{ source, target string }

// NewReceiver returns an empty receiver.
func NewReceiver(o Options) *Receiver {
	r := &Receiver{window: cmp.Or(o.Window, time.Hour), maxRels: cmp.Or(o.MaxRelations, 10_000),
		now: o.Now, changed: make(chan struct{}, 1), rels: map[pair]*relation{}}
	if r.now == nil {
		r.now = time.Now
	}
	r.slotLen = r.window / slots
	return r
}

// Changed is signalled when spans made a new relation or a new operation
// of one, so that a publisher need not wait for its next round.
func (r *Receiver) Changed() <-chan struct{} { return r.changed }

// observation is one call a span recorded.
type observation struct {
	pair
	end    time.Time
	d      time.Duration
	failed bool
	system string
	op     string
}

// result is what ingesting a request did: spans rejected, and why.
type result struct {
	rejected int64
	message  string
}

// ingest maps every client and producer span of req to observations and
// adds them. Spans of other kinds are accepted and make nothing; client
// spans whose resource names no caller, and spans of new relations past
// MaxRelations, are rejected.
func (r *Receiver) ingest(req *coltracepb.ExportTraceServiceRequest) result {
	var obs []observation
	var noCaller int64
	var spans int64
	var a callAttrs
	var c call
	for _, rs := range req.GetResourceSpans() {
		from := callerOf(rs.GetResource().GetAttributes())
		var all []*tracepb.Span
		for _, ss := range rs.GetScopeSpans() {
			all = append(all, ss.GetSpans()...)
		}
		spans += int64(len(all))
		from = from.withInvokedARN(all)
		for _, s := range all {
			if k := s.GetKind(); k != tracepb.Span_SPAN_KIND_CLIENT && k != tracepb.Span_SPAN_KIND_PRODUCER {
				continue
			}
			readCallAttrs(s.GetAttributes(), &a)
			callOf(from, &a, &c)
			if len(c.targets) == 0 {
				continue
			}
			if from.ref == "" {
				noCaller++
				continue
			}
			op := c.operation
			if op == "" {
				op = s.GetName()
			}
			o := observation{end: time.Unix(0, int64(s.GetEndTimeUnixNano())), failed: s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR,
				system: c.system, op: op}
			if e, st := s.GetEndTimeUnixNano(), s.GetStartTimeUnixNano(); e > st {
				o.d = time.Duration(e - st)
			}
			for _, t := range c.targets {
				if t == from.ref {
					continue
				}
				o.pair = pair{from.ref, t}
				obs = append(obs, o)
			}
		}
	}
	r.stats.spans.Add(spans)
	res := r.add(obs)
	if noCaller > 0 {
		res.rejected += noCaller
		res.message = join(res.message, "client spans of resources naming no caller (cloud.resource_id, faas.name or service.name) rejected")
	}
	r.stats.rejected.Add(res.rejected)
	return res
}

// add counts observations, under one lock.
func (r *Receiver) add(obs []observation) result {
	var res result
	now := r.now()
	oldest := now.Add(-r.window)
	fresh := false
	r.mu.Lock()
	for i := range obs {
		o := &obs[i]
		if o.end.IsZero() || o.end.After(now) || o.end.Unix() == 0 {
			o.end = now
		}
		if o.end.Before(oldest) {
			r.stats.stale.Add(1)
			continue
		}
		rel := r.rels[o.pair]
		if rel == nil {
			if len(r.rels) >= r.maxRels {
				res.rejected++
				continue
			}
			rel = &relation{}
			r.rels[o.pair] = rel
			fresh = true
		}
		n := len(rel.operations)
		rel.add(o.end, o.end.UnixNano()/int64(r.slotLen), o.d, o.failed, o.system, o.op)
		fresh = fresh || len(rel.operations) != n
		r.stats.mapped.Add(1)
	}
	r.mu.Unlock()
	if res.rejected > 0 {
		res.message = "calls of new relations beyond the limit of relations held rejected"
	}
	if fresh {
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}
	return res
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Resolver finds components by reference; *topology.Graph is one.
type Resolver interface {
	Lookup(ref string) (model.Component, bool)
}

// Names finds the one component a name (component name or identifier)
// stands for; ok is false when none or several do.
type Names func(name string) (id string, ok bool)

// Relation is one trace relation with its figures, as GET
// /api/traces/relations serves it.
type Relation struct {
	Source     string   `json:"source"`
	Target     string   `json:"target"`
	System     string   `json:"system"`
	Operations []string `json:"operations"`
	Figures
}

// Relations drops the relations without calls in the window and returns
// the others with their ends as published: references resolved by
// resolve, sorted by source and target.
func (r *Receiver) Relations(resolve func(ref string) string) []Relation {
	now := r.now()
	from := now.Add(-r.window)
	fromEpoch := from.UnixNano()/int64(r.slotLen) + 1
	r.mu.Lock()
	out := make([]Relation, 0, len(r.rels))
	for p, rel := range r.rels {
		if rel.last.Before(from) {
			delete(r.rels, p)
			continue
		}
		out = append(out, Relation{Source: p.source, Target: p.target, System: rel.system,
			Operations: slices.Clone(rel.operations), Figures: rel.figures(fromEpoch)})
	}
	r.mu.Unlock()
	if resolve != nil {
		for i := range out {
			out[i].Source, out[i].Target = resolve(out[i].Source), resolve(out[i].Target)
		}
	}
	slices.SortFunc(out, func(a, b Relation) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Target, b.Target))
	})
	return out
}

// Stats count the spans received: all of them, the calls mapped to
// relations, spans rejected, and calls that ended before the window.
type Stats struct {
	Spans    int64 `json:"spans"`
	Mapped   int64 `json:"mapped_calls"`
	Rejected int64 `json:"rejected_spans"`
	Stale    int64 `json:"stale_calls"`
}

// Stats returns the counts since the receiver was made.
func (r *Receiver) Stats() Stats {
	return Stats{Spans: r.stats.spans.Load(), Mapped: r.stats.mapped.Load(),
		Rejected: r.stats.rejected.Load(), Stale: r.stats.stale.Load()}
}

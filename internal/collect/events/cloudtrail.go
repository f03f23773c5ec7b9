package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/skymap/skymap/internal/store"
)

// TrailAPI is what TrailReader calls of CloudTrail.
type TrailAPI interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

var _ TrailAPI = (*cloudtrail.Client)(nil)

// TrailReader is the fallback when no EventBridge pipeline delivers events:
// it polls CloudTrail LookupEvents for the write calls (ReadOnly=false) of
// one account and region. CloudTrail makes events visible up to about 15
// minutes after they happened, so each poll looks back Overlap before the
// newest event it has seen, and remembers the ids it handled in that window
// instead of re-reading the last hour every time; the cursor is persisted,
// so a restart neither loses nor repeats events. LookupEvents allows 2 calls
// per second per account and region: the client should come from awsconn,
// whose rate limits keep to that. The zero value is not usable.
type TrailReader struct {
	CloudTrail      TrailAPI
	Account, Region string
	Handle          func(ctx context.Context, evs ...Event) error
	State           store.State
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Start is how far back a reader without a cursor begins: 15 minutes
	// when 0. Overlap is the window re-read for late events: 15 minutes
	// when 0.
	Start, Overlap time.Duration
	Logger         *slog.Logger
}

// trailBatch is how many records are handled at once: a page of LookupEvents.
const trailBatch = 50

// TrailReport says what one Poll did.
type TrailReport struct {
	Calls, Events, Handled int
	// Bad are records that could not be parsed (counted, not kept: CloudTrail keeps them).
	Bad int
}

// trailCursor is the persisted position of a TrailReader.
type trailCursor struct {
	// Newest is the time of the newest event handled.
	Newest time.Time `json:"newest"`
	// Seen are the ids handled within Overlap of Newest, with their times.
	Seen map[string]time.Time `json:"seen"`
}

func (r *TrailReader) key() string { return "events/cloudtrail/" + r.Account + "/" + r.Region }

func (r *TrailReader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Poll reads the write events since the cursor, handles them oldest first
// and persists the cursor after each. It fails when CloudTrail cannot be
// read, an event cannot be committed or the cursor cannot be stored; what
// was handled before stays handled.
func (r *TrailReader) Poll(ctx context.Context) (TrailReport, error) {
	var rep TrailReport
	cur, err := r.load(ctx)
	if err != nil {
		return rep, err
	}
	now := r.now().UTC()
	overlap := orDefault(r.Overlap, 15*time.Minute)
	from := now.Add(-orDefault(r.Start, 15*time.Minute))
	if !cur.Newest.IsZero() {
		from = cur.Newest.Add(-overlap)
	}
	var records []cttypes.Event
	in := &cloudtrail.LookupEventsInput{
		StartTime: aws.Time(from), EndTime: aws.Time(now), MaxResults: aws.Int32(50),
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyReadOnly, AttributeValue: aws.String("false")}},
	}
	p := cloudtrail.NewLookupEventsPaginator(r.CloudTrail, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		rep.Calls++
		if err != nil {
			return rep, fmt.Errorf("lookup events of %s %s: %w", r.Account, r.Region, err)
		}
		records = append(records, page.Events...)
	}
	rep.Events = len(records)
	// LookupEvents answers newest first; changes are applied in order.
	sort.SliceStable(records, func(i, j int) bool {
		return aws.ToTime(records[i].EventTime).Before(aws.ToTime(records[j].EventTime))
	})
	// Handled a page's worth at a time, the cursor saved after each.
	var batch []Event
	var ids []string
	var times []time.Time
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		if len(batch) > 0 {
			if err := r.Handle(ctx, batch...); err != nil {
				return err
			}
			rep.Handled += len(batch)
		}
		for i, id := range ids {
			cur.Seen[id] = times[i]
			if times[i].After(cur.Newest) {
				cur.Newest = times[i]
			}
		}
		batch, ids, times = batch[:0], ids[:0], times[:0]
		return r.save(ctx, cur, overlap)
	}
	for _, rec := range records {
		id, at := aws.ToString(rec.EventId), aws.ToTime(rec.EventTime)
		if _, done := cur.Seen[id]; done || slices.Contains(ids, id) {
			continue
		}
		e, err := Parse([]byte(aws.ToString(rec.CloudTrailEvent)))
		if err != nil {
			rep.Bad++
			r.logger().Warn("cloudtrail record skipped", "account", r.Account, "region", r.Region, "event", id, "err", err)
		} else {
			if e.Account == "" {
				e.Account = r.Account
			}
			batch = append(batch, e)
		}
		ids, times = append(ids, id), append(times, at)
		if len(ids) == trailBatch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	return rep, nil
}

func (r *TrailReader) load(ctx context.Context) (trailCursor, error) {
	cur := trailCursor{Seen: map[string]time.Time{}}
	b, err := r.State.GetState(ctx, r.key())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return cur, nil
	case err != nil:
		return cur, fmt.Errorf("load cloudtrail cursor: %w", err)
	}
	if err := json.Unmarshal(b, &cur); err != nil {
		return trailCursor{Seen: map[string]time.Time{}}, fmt.Errorf("load cloudtrail cursor %s: %w", r.key(), err)
	}
	if cur.Seen == nil {
		cur.Seen = map[string]time.Time{}
	}
	return cur, nil
}

// save persists the cursor, forgetting ids older than the overlap window.
func (r *TrailReader) save(ctx context.Context, cur trailCursor, overlap time.Duration) error {
	for id, at := range cur.Seen {
		if at.Before(cur.Newest.Add(-overlap)) {
			delete(cur.Seen, id)
		}
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return err
	}
	if err := r.State.PutState(ctx, r.key(), b); err != nil {
		return fmt.Errorf("store cloudtrail cursor: %w", err)
	}
	return nil
}

func (r *TrailReader) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

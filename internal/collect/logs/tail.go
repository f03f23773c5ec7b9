package logs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/skymap/skymap/internal/store"
)

// Target is a log group of a component, for a Tail.
type Target struct {
	Component string
	Group     Group
}

// Tail reads the log groups of components every poll, each from a cursor
// persisted per (account, region, group), and keeps the last events of
// each component in memory for the UI. Safe for concurrent use.
type Tail struct {
	// Client returns the CloudWatch Logs client of an account and region.
	Client func(ctx context.Context, account, region string) (API, error)
	// State keeps the cursors across restarts.
	State store.State
	// Targets returns the groups to read, now (they follow the map).
	Targets func() []Target
	// Keep is how many events are kept per component; 0 means 100.
	Keep int
	// MaxPerPoll bounds the events read of a group in one poll; 0 means
	// 1,000. The cursor stops at the last one read, so the rest is read
	// next poll.
	MaxPerPoll int
	// Overlap is how far before its cursor a group is read again, for
	// events ingested late; events already read are known by id. 0 means
	// 2 minutes.
	Overlap time.Duration
	// CallsPerPoll bounds the FilterLogEvents calls of one poll per
	// account and region; 0 means 150, half of what CloudWatch Logs
	// allows a minute (5 a second): the groups left are read first next
	// poll.
	CallsPerPoll int
	// Regions bounds the accounts and regions read at once; 0 means 8.
	Regions int
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// OnEvents, when set, is given the new events of a group for each of
	// its components, once per read that found some: never an event
	// given before, also across restarts (the cursor is persisted before
	// it is called, so an event is given at most once). It runs in the
	// poll, for different accounts and regions at once, and must return
	// quickly and not modify events; nil gives nothing.
	OnEvents func(component string, events []Event)

	mu      sync.Mutex
	readAt  map[string]int // cursor key -> poll it was last read in
	recent  map[string][]Event
	status  map[string]*TailStatus // by account/region
	polls   int
	missing map[string]int // cursor key -> poll to look again
}

// TailStatus counts what a Tail did in an account and region.
type TailStatus struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Groups  int    `json:"groups"`
	Missing int    `json:"missing_groups"`
	Events  int64  `json:"events_read"`
	// Deferred are the groups the last poll left to the next one, its
	// call budget spent.
	Deferred int       `json:"deferred_groups"`
	Errors   int64     `json:"errors"`
	LastPoll time.Time `json:"last_poll"`
	// LastError is the last group that could not be read and why.
	LastError string `json:"last_error,omitempty"`
}

// cursor is where a group was read to: the newest event timestamp and the
// ids of the events read within Overlap of it.
type cursor struct {
	Newest time.Time            `json:"newest"`
	Seen   map[string]time.Time `json:"seen"`
}

// missingEvery is how many polls pass before a missing group is looked for
// again.
const missingEvery = 10

// Run polls every interval until ctx is cancelled, and returns ctx's error.
func (t *Tail) Run(ctx context.Context, interval time.Duration) error {
	return every(ctx, interval, t.Poll)
}

// every calls poll at once and then every interval until ctx is
// cancelled, and returns ctx's error.
func every(ctx context.Context, interval time.Duration, poll func(context.Context)) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		poll(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Poll reads every group of the targets once, within the call budget of
// its account and region: a group of several components (a configured
// mapping beside the table's) is read once and its events kept for each.
// What went wrong is in the statuses; a group that failed keeps its
// cursor and is read again next poll.
func (t *Tail) Poll(ctx context.Context) {
	t.mu.Lock()
	t.polls++
	poll := t.polls
	t.mu.Unlock()
	now := t.now()
	type job struct {
		api        API
		st         *TailStatus
		name       string
		components []string
	}
	jobs := map[string]*job{} // by cursor key
	var order []string
	counts := map[string]*TailStatus{}
	clients := map[string]API{}
	for _, tg := range t.Targets() {
		g := tg.Group
		sk := g.Account + "/" + g.Region
		st := counts[sk]
		if st == nil {
			st = &TailStatus{Account: g.Account, Region: g.Region}
			counts[sk] = st
		}
		api := clients[sk]
		if api == nil {
			var err error
			if api, err = t.Client(ctx, g.Account, g.Region); err != nil {
				t.fail(st, err.Error())
				continue
			}
			clients[sk] = api
		}
		names := []string{g.Name}
		if g.Prefix {
			var err error
			if names, err = expand(ctx, api, g.Name); err != nil {
				t.fail(st, fmt.Sprintf("logs:DescribeLogGroups with prefix %q in %s: %v", g.Name, sk, err))
				continue
			}
		}
		for _, name := range names {
			key := "logs/cursor/" + sk + "/" + name
			j := jobs[key]
			if j == nil {
				j = &job{api: api, st: st, name: name}
				jobs[key] = j
				order = append(order, key)
			}
			if !slices.Contains(j.components, tg.Component) {
				j.components = append(j.components, tg.Component)
			}
		}
	}
	// Each account and region is read on its own (its own rate limit),
	// a few at a time; within one, the groups read longest ago come first
	// and the calls stop at the budget, so that the tail leaves room for
	// the API's reads and for the account's other callers, and the groups
	// left are read first next poll.
	byRegion := map[*TailStatus][]string{}
	var regions []*TailStatus
	for _, key := range order {
		st := jobs[key].st
		if byRegion[st] == nil {
			regions = append(regions, st)
		}
		byRegion[st] = append(byRegion[st], key)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, cmp.Or(t.Regions, 8))
	for _, st := range regions {
		keys := byRegion[st]
		t.mu.Lock()
		slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(t.readAt[a], t.readAt[b]) })
		t.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			budget := cmp.Or(t.CallsPerPoll, 150)
			for _, key := range keys {
				if ctx.Err() != nil {
					return
				}
				j := jobs[key]
				j.st.Groups++
				t.mu.Lock()
				skip := t.missing[key] > poll
				t.mu.Unlock()
				if skip {
					j.st.Missing++
					continue
				}
				if budget <= 0 {
					j.st.Deferred++
					continue
				}
				fresh, err := t.read(ctx, j.api, key, j.name, now, &budget)
				t.mu.Lock()
				if t.readAt == nil {
					t.readAt = map[string]int{}
				}
				t.readAt[key] = poll
				t.mu.Unlock()
				var nf *types.ResourceNotFoundException
				switch {
				case errors.As(err, &nf):
					j.st.Missing++
					t.mu.Lock()
					if t.missing == nil {
						t.missing = map[string]int{}
					}
					t.missing[key] = poll + missingEvery
					t.mu.Unlock()
				case err != nil && ctx.Err() == nil:
					t.fail(j.st, fmt.Sprintf("logs:FilterLogEvents on log group %s in %s/%s: %v", j.name, j.st.Account, j.st.Region, err))
				}
				j.st.Events += int64(len(fresh))
				for _, c := range j.components {
					t.keep(c, fresh)
					if t.OnEvents != nil && len(fresh) > 0 {
						t.OnEvents(c, fresh)
					}
				}
			}
		}()
	}
	wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status == nil {
		t.status = map[string]*TailStatus{}
	}
	for sk, st := range counts {
		if prev := t.status[sk]; prev != nil {
			st.Events += prev.Events
			st.Errors += prev.Errors
			if st.LastError == "" {
				st.LastError = prev.LastError
			}
		}
		st.LastPoll = now
		t.status[sk] = st
	}
}

// fail counts a failure in st, which is merged after the poll.
func (t *Tail) fail(st *TailStatus, msg string) {
	st.Errors++
	st.LastError = msg
	t.logger().Debug("log group not read", "account", st.Account, "region", st.Region, "err", msg)
}

// read reads one group from its cursor and returns its new events; each
// FilterLogEvents call takes one from budget, and the group's next pages
// wait for the next poll when it runs out.
func (t *Tail) read(ctx context.Context, api API, key, name string, now time.Time, budget *int) ([]Event, error) {
	cur, err := t.load(ctx, key)
	if err != nil {
		return nil, err
	}
	overlap := cmp.Or(t.Overlap, 2*time.Minute)
	from := cur.Newest.Add(-overlap)
	if cur.Newest.IsZero() {
		from = now.Add(-overlap) // a new group: from now on, no backfill
	}
	maxEvents := cmp.Or(t.MaxPerPoll, 1000)
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(name), StartTime: aws.Int64(from.UnixMilli()), EndTime: aws.Int64(now.UnixMilli())}
	var fresh []Event
	for page := 0; page < maxPages && len(fresh) < maxEvents && *budget > 0; page++ {
		in.Limit = aws.Int32(int32(min(MaxLimit, maxEvents-len(fresh)+len(cur.Seen))))
		*budget--
		out, err := api.FilterLogEvents(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, e := range out.Events {
			id := aws.ToString(e.EventId)
			if _, dup := cur.Seen[id]; dup || len(fresh) >= maxEvents {
				continue
			}
			ev := event(name, e)
			cur.Seen[id] = ev.Timestamp
			if ev.Timestamp.After(cur.Newest) {
				cur.Newest = ev.Timestamp
			}
			fresh = append(fresh, ev)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if cur.Newest.IsZero() {
		cur.Newest = from.Add(overlap) // nothing yet: start from this poll next time
	}
	if err := t.save(ctx, key, cur, overlap); err != nil {
		return nil, err
	}
	return fresh, nil
}

// Add keeps events of a component read elsewhere (the logs delivered to
// S3) with those the Tail reads, as its last events: Recent answers both.
func (t *Tail) Add(component string, evs []Event) { t.keep(component, evs) }

// keep adds events to a component's last ones.
func (t *Tail) keep(component string, evs []Event) {
	if len(evs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.recent == nil {
		t.recent = map[string][]Event{}
	}
	all := append(t.recent[component], evs...)
	slices.SortStableFunc(all, func(a, b Event) int { return a.Timestamp.Compare(b.Timestamp) })
	if n := cmp.Or(t.Keep, 100); len(all) > n {
		all = slices.Clone(all[len(all)-n:])
	}
	t.recent[component] = all
}

// Recent returns the last events read of a component, oldest first.
func (t *Tail) Recent(component string) []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.recent[component])
}

// Statuses returns what the Tail did per account and region, sorted.
func (t *Tail) Statuses() []TailStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TailStatus, 0, len(t.status))
	for _, st := range t.status {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b TailStatus) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	return out
}

func (t *Tail) load(ctx context.Context, key string) (cursor, error) {
	cur := cursor{Seen: map[string]time.Time{}}
	if err := loadState(ctx, t.State, key, &cur); err != nil {
		return cursor{Seen: map[string]time.Time{}}, err
	}
	if cur.Seen == nil {
		cur.Seen = map[string]time.Time{}
	}
	return cur, nil
}

// save persists a cursor, forgetting ids older than the overlap.
func (t *Tail) save(ctx context.Context, key string, cur cursor, overlap time.Duration) error {
	for id, at := range cur.Seen {
		if at.Before(cur.Newest.Add(-overlap)) {
			delete(cur.Seen, id)
		}
	}
	return saveState(ctx, t.State, key, cur)
}

// loadState decodes into v the JSON kept under key; v is left as it is
// when there is none.
func loadState(ctx context.Context, st store.State, key string, v any) error {
	b, err := st.GetState(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("load cursor %s: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("load cursor %s: %w", key, err)
	}
	return nil
}

// saveState keeps v as JSON under key.
func saveState(ctx context.Context, st store.State, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := st.PutState(ctx, key, b); err != nil {
		return fmt.Errorf("store cursor %s: %w", key, err)
	}
	return nil
}

func (t *Tail) now() time.Time {
	if t.Now == nil {
		return time.Now().UTC()
	}
	return t.Now().UTC()
}

func (t *Tail) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}

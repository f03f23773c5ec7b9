package logs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/model"
)

// API is what a Fetcher calls of CloudWatch Logs.
type API interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
	DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
}

var _ API = (*cloudwatchlogs.Client)(nil)

// Limits of a fetch.
const (
	// MaxLimit is the most events one Fetch returns (FilterLogEvents'
	// own limit per call).
	MaxLimit = 10_000
	// MaxMessageBytes is the longest message returned whole: CloudWatch's
	// limit of an event (256 KB); longer ones are cut and flagged.
	MaxMessageBytes = 256 * 1024
	// MaxGroups bounds the groups a prefix expands to.
	MaxGroups = 50
	// maxPages bounds the FilterLogEvents calls per group: CloudWatch may
	// answer pages without events while it searches.
	maxPages = 100
)

// Fetcher reads log events through FilterLogEvents. Safe for concurrent use.
type Fetcher struct {
	// Client returns the CloudWatch Logs client of an account and region.
	Client func(ctx context.Context, account, region string) (API, error)
	// Mappings are the groups mapped to components by configuration.
	Mappings []Mapping
	// Parallel bounds the groups read at a time by one Fetch; 0 means 4.
	Parallel int
	// S3 reads the logs AWS delivers to S3 of load balancers and
	// distributions (groups of Source "s3"); nil when logs.s3 names no
	// bucket.
	S3 *S3Logs
}

// Query is what to read: events of [From, To) matching Filter, at most
// Limit of them.
type Query struct {
	From, To time.Time
	// Filter is plain text an event must contain; "" matches all. It is
	// quoted (TermPattern), never taken as pattern syntax.
	Filter string
	// Limit is at most MaxLimit; 0 means 100.
	Limit int
}

// Event is one log event: of a CloudWatch Logs group, or a line of a log
// object AWS delivered to S3.
type Event struct {
	Timestamp time.Time `json:"timestamp"`
	// IngestionTime is when CloudWatch took the event in; for a line of
	// an S3 object, when the object was written (its LastModified).
	IngestionTime time.Time `json:"ingestion_time"`
	// Source is where the event was read: SourceCloudWatch or SourceS3.
	Source string `json:"source"`
	// Group is the log group; for S3, s3://<bucket>/<prefix>.
	Group string `json:"group"`
	// Stream is the log stream; for S3, the object's key.
	Stream  string `json:"stream"`
	Message string `json:"message"`
	// Fields are what skymap read of an S3 log line (the record's
	// documented fields: elb_status_code, client, target, request,
	// sent_bytes, ...); nil for CloudWatch events.
	Fields map[string]any `json:"fields,omitempty"`
	// InvalidUTF8 says bytes of the message that were not UTF-8 were
	// replaced by U+FFFD.
	InvalidUTF8 bool `json:"invalid_utf8,omitempty"`
	// Truncated says the message was cut to MaxMessageBytes; Size is then
	// its length in bytes.
	Truncated bool `json:"truncated,omitempty"`
	Size      int  `json:"size,omitempty"`
}

// The sources of events.
const (
	SourceCloudWatch = "cloudwatch"
	SourceS3         = "s3"
)

// GroupResult is what reading one group gave.
type GroupResult struct {
	Group
	// Events is how many events of the group the answer holds.
	Events int `json:"events"`
	// Missing says the group (or, for a prefix, every group) does not
	// exist: the component has not logged yet, or logs elsewhere.
	Missing bool `json:"missing,omitempty"`
	// Error says why the group was not read, or only in part, naming the
	// IAM action (logs:FilterLogEvents, logs:DescribeLogGroups;
	// s3:ListBucket, s3:GetObject for delivered logs).
	Error string `json:"error,omitempty"`
	// Objects is how many S3 objects were read for the answer, Unread how
	// many of the time range were not, past the bytes read per request
	// (the answer is then truncated).
	Objects int `json:"objects,omitempty"`
	Unread  int `json:"unread_objects,omitempty"`
}

// Result is the answer of a Fetch.
type Result struct {
	// Events are sorted by timestamp, oldest first, as CloudWatch answers
	// them; Truncated says the window held more than Limit and those
	// after the last were left out.
	Events    []Event       `json:"events"`
	Truncated bool          `json:"truncated"`
	Groups    []GroupResult `json:"groups"`
}

// Fetch reads the events of groups matching q. A group that cannot be read
// is marked with its error and the others are still answered; Fetch itself
// fails only for a bad filter or when ctx ends.
func (f *Fetcher) Fetch(ctx context.Context, groups []Group, q Query) (Result, error) {
	pattern, err := TermPattern(q.Filter)
	if err != nil {
		return Result{}, fmt.Errorf("filter: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxLimit)
	res := Result{Events: []Event{}, Groups: make([]GroupResult, len(groups))}
	var mu sync.Mutex
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(cmp.Or(f.Parallel, 4))
	for i, g := range groups {
		res.Groups[i].Group = g
		eg.Go(func() error {
			var events []Event
			var more bool
			var gr GroupResult
			if g.S3 != nil && f.S3 != nil {
				events, more, gr = f.S3.fetch(ctx, g, q.Filter, q.From, q.To, limit)
			} else {
				events, more, gr = f.group(ctx, g, pattern, q.From, q.To, limit)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			mu.Lock()
			defer mu.Unlock()
			gr.Group = g
			res.Groups[i] = gr
			res.Events = append(res.Events, events...)
			res.Truncated = res.Truncated || more
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return Result{}, err
	}
	slices.SortStableFunc(res.Events, func(a, b Event) int {
		return cmp.Or(a.Timestamp.Compare(b.Timestamp), strings.Compare(a.Group, b.Group), strings.Compare(a.Stream, b.Stream))
	})
	if len(res.Events) > limit {
		res.Events, res.Truncated = res.Events[:limit], true
	}
	return res, nil
}

// group reads one group, or the groups of a prefix: at most limit events,
// and whether there were more.
func (f *Fetcher) group(ctx context.Context, g Group, pattern string, from, to time.Time, limit int) ([]Event, bool, GroupResult) {
	var gr GroupResult
	api, err := f.Client(ctx, g.Account, g.Region)
	if err != nil {
		gr.Error = err.Error()
		return nil, false, gr
	}
	names := []string{g.Name}
	if g.Prefix {
		names, err = expand(ctx, api, g.Name)
		if err != nil {
			gr.Error = fmt.Sprintf("logs:DescribeLogGroups with prefix %q in %s/%s: %v", g.Name, g.Account, g.Region, err)
			return nil, false, gr
		}
		if len(names) == 0 {
			gr.Missing = true
			return nil, false, gr
		}
	}
	var events []Event
	more, missing := false, 0
	var errs []string
	for _, name := range names {
		ev, m, err := read(ctx, api, name, pattern, from, to, limit)
		events = append(events, ev...)
		more = more || m
		var nf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
			missing++
		case err != nil:
			errs = append(errs, fmt.Sprintf("logs:FilterLogEvents on log group %s in %s/%s: %v", name, g.Account, g.Region, err))
		}
	}
	gr.Events, gr.Missing, gr.Error = len(events), missing == len(names), strings.Join(errs, "; ")
	return events, more, gr
}

// expand lists the log groups whose names start with prefix, at most MaxGroups.
func expand(ctx context.Context, api API, prefix string) ([]string, error) {
	var names []string
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(api, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(prefix)})
	for p.HasMorePages() && len(names) < MaxGroups {
		page, err := p.NextPage(ctx)
		if err != nil {
			return names, err
		}
		for _, lg := range page.LogGroups {
			if n := aws.ToString(lg.LogGroupName); strings.HasPrefix(n, prefix) && len(names) < MaxGroups {
				names = append(names, n)
			}
		}
	}
	return names, nil
}

// read reads one log group: at most limit events of [from, to) matching
// pattern, and whether there were more.
func read(ctx context.Context, api API, name, pattern string, from, to time.Time, limit int) ([]Event, bool, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(name),
		StartTime: aws.Int64(from.UnixMilli()), EndTime: aws.Int64(to.UnixMilli() - 1)} // EndTime is inclusive
	if pattern != "" {
		in.FilterPattern = aws.String(pattern)
	}
	var out []Event
	for page := 0; page < maxPages; page++ {
		in.Limit = aws.Int32(int32(limit - len(out)))
		resp, err := api.FilterLogEvents(ctx, in)
		if err != nil {
			return out, false, err
		}
		for _, e := range resp.Events {
			out = append(out, event(name, e))
		}
		if len(out) >= limit {
			return out[:limit], len(out) > limit || resp.NextToken != nil, nil
		}
		if resp.NextToken == nil || aws.ToString(resp.NextToken) == aws.ToString(in.NextToken) {
			return out, false, nil
		}
		in.NextToken = resp.NextToken
	}
	return out, true, nil
}

// event converts a filtered event, making its message valid UTF-8 of at
// most MaxMessageBytes.
func event(group string, e types.FilteredLogEvent) Event {
	ev := Event{Timestamp: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(), IngestionTime: time.UnixMilli(aws.ToInt64(e.IngestionTime)).UTC(),
		Source: SourceCloudWatch, Group: group, Stream: aws.ToString(e.LogStreamName)}
	ev.Message, ev.InvalidUTF8, ev.Truncated = Clean(aws.ToString(e.Message))
	if ev.Truncated {
		ev.Size = len(aws.ToString(e.Message))
	}
	return ev
}

// Clean returns msg as valid UTF-8 (invalid bytes replaced by U+FFFD) of
// at most MaxMessageBytes (cut at a character boundary), and whether
// either was needed.
func Clean(msg string) (out string, invalid, truncated bool) {
	if !utf8.ValidString(msg) {
		msg, invalid = strings.ToValidUTF8(msg, "\uFFFD"), true
	}
	if len(msg) > MaxMessageBytes {
		cut := MaxMessageBytes
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg, truncated = msg[:cut], true
	}
	return msg, invalid, truncated
}

// Groups returns the log groups of c: those of the table and of f.Mappings
// (resolve maps a mapping's component reference to a component id), and
// where f.S3 may find its delivered logs.
func (f *Fetcher) Groups(c *model.Component, resolve func(ref string) (id string, ok bool)) ([]Group, error) {
	groups, err := Groups(c, f.Mappings, resolve)
	if f.S3 != nil {
		if locs := f.S3.Locations(c); len(locs) > 0 {
			return append(groups, locs...), nil
		}
	}
	return groups, err
}

package logs

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// fakeLogs answers FilterLogEvents from canned pages per group, and denies
// the groups in denied.
type fakeLogs struct {
	pages  map[string][][]types.FilteredLogEvent
	denied map[string]bool
	mu     sync.Mutex
	inputs []cloudwatchlogs.FilterLogEventsInput
}

func (f *fakeLogs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	f.mu.Lock()
	f.inputs = append(f.inputs, *in)
	f.mu.Unlock()
	name := aws.ToString(in.LogGroupName)
	if f.denied[name] {
		return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: logs:FilterLogEvents"}
	}
	pages, ok := f.pages[name]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("The specified log group does not exist.")}
	}
	i, _ := strconv.Atoi(aws.ToString(in.NextToken))
	out := &cloudwatchlogs.FilterLogEventsOutput{Events: pages[i]}
	if len(out.Events) > int(aws.ToInt32(in.Limit)) {
		out.Events = out.Events[:aws.ToInt32(in.Limit)]
	}
	if i+1 < len(pages) {
		out.NextToken = aws.String(strconv.Itoa(i + 1))
	}
	return out, nil
}

func (f *fakeLogs) DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: logs:DescribeLogGroups"}
}

func ev(ts int64, msg string) types.FilteredLogEvent {
	return types.FilteredLogEvent{Timestamp: aws.Int64(ts), IngestionTime: aws.Int64(ts + 5), LogStreamName: aws.String("s"), Message: aws.String(msg)}
}

// A denied group is reported with the action and the group; the other
// groups are still read, through empty pages, merged oldest first and
// cut to the limit; invalid UTF-8 is replaced and flagged.
func TestFetchPartial(t *testing.T) {
	api := &fakeLogs{
		pages: map[string][][]types.FilteredLogEvent{
			"a": {{ev(1000, "a1")}, {}, {ev(3000, "a3 \xff")}},
			"b": {{ev(2000, "b2"), ev(4000, "b4")}},
		},
		denied: map[string]bool{"secret": true},
	}
	f := &Fetcher{Client: func(context.Context, string, string) (API, error) { return api, nil }}
	grp := func(name string, prefix bool) Group {
		return Group{Account: "123456789012", Region: "eu-west-1", Name: name, Prefix: prefix}
	}
	from := time.UnixMilli(0)
	res, err := f.Fetch(context.Background(), []Group{grp("a", false), grp("secret", false), grp("b", false), grp("rds/", true), grp("none", false)},
		Query{From: from, To: from.Add(time.Hour), Filter: `say "hi"`, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range res.Events {
		msgs = append(msgs, e.Group+":"+e.Message)
	}
	if got := strings.Join(msgs, ","); got != "a:a1,b:b2,a:a3 \uFFFD" || !res.Truncated || !res.Events[2].InvalidUTF8 || res.Events[1].InvalidUTF8 {
		t.Errorf("events %s, truncated %v", got, res.Truncated)
	}
	if g := res.Groups[1]; !strings.Contains(g.Error, "logs:FilterLogEvents on log group secret in 123456789012/eu-west-1") || g.Events != 0 {
		t.Errorf("denied group %+v", g)
	}
	if g := res.Groups[3]; !strings.Contains(g.Error, "logs:DescribeLogGroups with prefix \"rds/\"") {
		t.Errorf("denied prefix %+v", g)
	}
	if g := res.Groups[4]; !g.Missing || g.Error != "" {
		t.Errorf("missing group %+v", g)
	}
	if g := res.Groups[0]; g.Events != 2 || g.Error != "" {
		t.Errorf("group a %+v", g)
	}
	var in cloudwatchlogs.FilterLogEventsInput
	for _, i := range api.inputs {
		if aws.ToString(i.LogGroupName) == "a" {
			in = i
			break
		}
	}
	if aws.ToString(in.FilterPattern) != `"say \"hi\""` || aws.ToInt64(in.StartTime) != 0 || aws.ToInt64(in.EndTime) != 3600_000-1 {
		t.Errorf("input pattern %q, start %d, end %d", aws.ToString(in.FilterPattern), aws.ToInt64(in.StartTime), aws.ToInt64(in.EndTime))
	}
	if _, err := f.Fetch(context.Background(), nil, Query{Filter: "a\x00"}); err == nil {
		t.Error("a filter with a control character was taken")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Fetch(ctx, []Group{grp("a", false)}, Query{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled fetch: %v", err)
	}
}

func TestClean(t *testing.T) {
	long := strings.Repeat("é", MaxMessageBytes/2) + "z" // 'é' is 2 bytes: the cut falls inside one
	for _, tt := range []struct {
		in                 string
		invalid, truncated bool
	}{
		{"plain", false, false},
		{"a\xffb", true, false},
		{long, false, true},
		{"\xff" + long, true, true},
	} {
		out, inv, tr := Clean(tt.in)
		if inv != tt.invalid || tr != tt.truncated || len(out) > MaxMessageBytes || !utf8.ValidString(out) {
			t.Errorf("Clean(%.20q...) = %d bytes, %v, %v", tt.in, len(out), inv, tr)
		}
		if tr && len(out) < MaxMessageBytes-4 {
			t.Errorf("Clean cut too much: %d bytes", len(out))
		}
	}
}

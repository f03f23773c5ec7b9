package logs

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/skymap/skymap/internal/awstest"
)

// The SDK's default protocol works against moto: events written there are
// read back through a Fetcher, filtered, limited, cleaned and cut, and a
// prefix expands to its groups.
func TestFetchMoto(t *testing.T) {
	m := awstest.StartT(t)
	ctx := context.Background()
	cfg, err := m.Config(ctx, "eu-west-1", "")
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(cfg)
	now := time.Now().UTC().Truncate(time.Second)
	long := strings.Repeat("x", MaxMessageBytes+10)
	put := func(group string, msgs ...string) {
		t.Helper()
		if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s1")}); err != nil {
			t.Fatal(err)
		}
		var evs []types.InputLogEvent
		for i, msg := range msgs {
			evs = append(evs, types.InputLogEvent{Message: aws.String(msg), Timestamp: aws.Int64(now.Add(time.Duration(i-len(msgs)) * time.Minute).UnixMilli())})
		}
		if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s1"), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	put("/aws/lambda/fn", "START request 1", "ERROR boom \"quoted\"", "bad \xff\xfe bytes", long, "END request 1")
	put("/aws/rds/instance/db1/error", "rds error one")
	put("/aws/rds/instance/db1/slowquery", "rds slow one")

	f := &Fetcher{Client: func(context.Context, string, string) (API, error) { return c, nil }}
	q := Query{From: now.Add(-time.Hour), To: now.Add(time.Minute)}
	fn := Group{Account: "123456789012", Region: "eu-west-1", Name: "/aws/lambda/fn"}
	res, err := f.Fetch(ctx, []Group{fn}, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 5 || res.Truncated || res.Groups[0].Events != 5 || res.Groups[0].Error != "" {
		t.Fatalf("all events: %d, truncated %v, groups %+v", len(res.Events), res.Truncated, res.Groups)
	}
	for i, e := range res.Events {
		if !utf8.ValidString(e.Message) || len(e.Message) > MaxMessageBytes {
			t.Errorf("event %d: invalid or too long message (%d bytes)", i, len(e.Message))
		}
		if i > 0 && e.Timestamp.Before(res.Events[i-1].Timestamp) {
			t.Errorf("event %d is older than the one before", i)
		}
	}
	if e := res.Events[3]; !e.Truncated || e.Size != len(long) || e.Stream != "s1" || e.Group != "/aws/lambda/fn" {
		t.Errorf("long event: truncated %v size %d stream %q group %q", e.Truncated, e.Size, e.Stream, e.Group)
	}
	t.Logf("invalid UTF-8 event as read back: %q (flagged %v)", res.Events[2].Message, res.Events[2].InvalidUTF8)

	q.Filter = "boom"
	if res, err = f.Fetch(ctx, []Group{fn}, q); err != nil || len(res.Events) != 1 || res.Events[0].Message != "ERROR boom \"quoted\"" {
		t.Errorf("filter boom: %v %+v", err, res.Events)
	}
	q.Filter, q.Limit = "", 2
	if res, err = f.Fetch(ctx, []Group{fn}, q); err != nil || len(res.Events) != 2 || !res.Truncated || res.Events[0].Message != "START request 1" {
		t.Errorf("limit 2: %v truncated %v %+v", err, res.Truncated, res.Events)
	}
	q.Limit = 0
	rds := Group{Account: "123456789012", Region: "eu-west-1", Name: "/aws/rds/instance/db1/", Prefix: true}
	gone := Group{Account: "123456789012", Region: "eu-west-1", Name: "/aws/lambda/never-ran"}
	if res, err = f.Fetch(ctx, []Group{rds, gone}, q); err != nil || len(res.Events) != 2 || res.Groups[0].Events != 2 || !res.Groups[1].Missing {
		t.Errorf("prefix and missing group: %v %+v %+v", err, res.Events, res.Groups)
	}
}

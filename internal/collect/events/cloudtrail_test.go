package events

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/store/storetest"
)

// trailServer replays LookupEvents as CloudTrail answers it (JSON 1.1, epoch
// timestamps, newest first, NextToken), two events a page to exercise
// paging. It records whether each request asked for write events only.
type trailServer struct {
	mu       sync.Mutex
	events   []trailEvent
	readOnly []string
}

type trailEvent struct {
	id   string
	at   time.Time
	name string
}

func (s *trailServer) add(id string, at time.Time, name string) {
	s.mu.Lock()
	s.events = append(s.events, trailEvent{id, at, name})
	s.mu.Unlock()
}

func (s *trailServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		StartTime, EndTime float64
		NextToken          string
		LookupAttributes   []struct{ AttributeKey, AttributeValue string }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range in.LookupAttributes {
		s.readOnly = append(s.readOnly, a.AttributeKey+"="+a.AttributeValue)
	}
	var hits []trailEvent
	for _, e := range s.events {
		if t := float64(e.at.Unix()); t >= in.StartTime && t <= in.EndTime {
			hits = append(hits, e)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].at.After(hits[j].at) })
	from, _ := strconv.Atoi(in.NextToken)
	out := map[string]any{}
	var page []map[string]any
	for i := from; i < len(hits) && i < from+2; i++ {
		e := hits[i]
		rec, _ := json.Marshal(map[string]any{"eventVersion": "1.08", "eventID": e.id, "eventTime": e.at.Format(time.RFC3339),
			"eventSource": "sqs.amazonaws.com", "eventName": e.name, "awsRegion": "eu-west-1", "recipientAccountId": "123456789012",
			"userIdentity":      map[string]any{"arn": "arn:aws:iam::123456789012:user/ann"},
			"requestParameters": map[string]any{"queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/q-" + e.id}})
		page = append(page, map[string]any{"EventId": e.id, "EventName": e.name, "EventTime": e.at.Unix(),
			"EventSource": "sqs.amazonaws.com", "CloudTrailEvent": string(rec)})
	}
	out["Events"] = page
	if from+2 < len(hits) {
		out["NextToken"] = strconv.Itoa(from + 2)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func TestTrailReader(t *testing.T) {
	srv := &trailServer{}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := cloudtrail.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	now := t0.Add(20 * time.Minute)
	state := &storetest.MemState{}
	var handled []string
	var fail error
	reader := func() *TrailReader {
		return &TrailReader{CloudTrail: client, Account: "123456789012", Region: "eu-west-1", State: state,
			Now: func() time.Time { return now },
			Handle: func(_ context.Context, evs ...Event) error {
				if fail != nil {
					return fail
				}
				for _, e := range evs {
					handled = append(handled, e.ID)
				}
				return nil
			}}
	}
	ctx := context.Background()
	srv.add("e1", t0.Add(10*time.Minute), "DeleteQueue")
	srv.add("e2", t0.Add(12*time.Minute), "CreateQueue")
	srv.add("e3", t0.Add(11*time.Minute), "SetQueueAttributes")
	srv.add("old", t0.Add(-time.Hour), "CreateQueue") // before the first window

	rep, err := reader().Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"e1", "e3", "e2"}, handled); d != "" {
		t.Errorf("first poll handled (-want +got):\n%s", d)
	}
	if rep.Calls != 2 || rep.Handled != 3 {
		t.Errorf("first poll %+v, want 2 calls (two pages) and 3 handled", rep)
	}

	// A minute later: nothing new but one event CloudTrail shows late, with
	// a time before the newest seen.
	now = now.Add(time.Minute)
	handled = nil
	srv.add("late", t0.Add(9*time.Minute), "DeleteQueue")
	if _, err := reader().Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"late"}, handled); d != "" {
		t.Errorf("second poll handled (-want +got):\n%s", d)
	}

	// A commit that fails leaves the event for the next poll.
	now = now.Add(time.Minute)
	handled = nil
	srv.add("e5", t0.Add(21*time.Minute), "DeleteQueue")
	fail = errors.New("disk full")
	if _, err := reader().Poll(ctx); !errors.Is(err, fail) {
		t.Fatalf("poll with a failing commit = %v", err)
	}
	fail = nil
	if _, err := reader().Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"e5"}, handled); d != "" {
		t.Errorf("after the failed commit handled (-want +got):\n%s", d)
	}

	// A restarted reader on the same state repeats nothing.
	handled = nil
	if _, err := reader().Poll(ctx); err != nil || len(handled) != 0 {
		t.Errorf("restarted reader handled %v (err %v), want nothing", handled, err)
	}
	for _, a := range srv.readOnly {
		if a != "ReadOnly=false" {
			t.Errorf("lookup attribute %s, want ReadOnly=false", a)
		}
	}
	if len(srv.readOnly) == 0 {
		t.Error("LookupEvents was not asked for write events only")
	}
}

package flowlogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/skymap/skymap/internal/store/storetest"
)

func TestStatusProblems(t *testing.T) {
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	b := newBook("s3://b", Options{Now: func() time.Time { return now }}.withDefaults())
	var wg sync.WaitGroup
	for i := range 3 * maxProblems {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.Report(Problem{Category: LogParse, Severity: SeverityError, Bucket: "b", Key: fmt.Sprintf("k%d", i%(maxProblems+10)),
				Time: now.Add(-time.Duration(i) * time.Second)})
			b.AddRecords(2)
			_ = b.Status()
		}()
	}
	wg.Wait()
	// A handler reports filtered records with their count.
	b.Report(Problem{Category: LogFilter, Bucket: "b", Key: "k", Detail: "records of accounts not monitored: 210987654321", Count: 40})
	b.Report(Problem{Category: LogFilter, Bucket: "b", Key: "k", Detail: "records of accounts not monitored: 210987654321", Count: 2})
	b.polled(true)
	st := b.Status()
	if len(st.Problems) != maxProblems || st.Records != 6*maxProblems {
		t.Fatalf("%d problems, %d records", len(st.Problems), st.Records)
	}
	f, ok := problem(st, LogFilter, "k")
	if !ok || f.Count != 42 || f.Severity != SeverityWarning || !f.Time.Equal(now) {
		t.Errorf("filter problem %+v", f)
	}
	for i := 1; i < len(st.Problems); i++ {
		if st.Problems[i].Time.After(st.Problems[i-1].Time) {
			t.Fatalf("problems not newest first at %d", i)
		}
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	json.Unmarshal(raw, &keys)
	for k := range keys {
		if strings.ToLower(k) != k || strings.Contains(k, "-") {
			t.Errorf("JSON key %q is not snake_case", k)
		}
	}
	for _, k := range []string{"source", "objects", "bytes", "records", "last_poll", "last_success", "problems"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON has no %q: %s", k, raw)
		}
	}
	if d := cmp.Diff([]string{"category", "severity", "bucket", "key", "detail", "time", "count"}, jsonKeys(t, st.Problems[0])); d != "" {
		t.Errorf("problem JSON keys (-want +got):\n%s", d)
	}
}

func jsonKeys(t *testing.T, v any) []string {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return keys
}

// emptyBucket lists nothing.
type emptyBucket struct{ BucketAPI }

func (emptyBucket) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{Contents: []s3types.Object{}, IsTruncated: aws.Bool(false)}, nil
}

// TestRun checks that both sources run until ctx is cancelled and leave
// no goroutine behind.
func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	st := &storetest.MemState{}
	b := NewBucketSource(emptyBucket{}, "b", []Scope{{acct1, region1}}, newFakeHandler(), st, Options{Interval: 10 * time.Millisecond})
	q := NewQueueSource(deniedQueue{}, "q", nil, newFakeHandler(), Options{Interval: 10 * time.Millisecond})
	for name, run := range map[string]func(context.Context) error{"bucket": b.Run, "queue": q.Run} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := run(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: Run = %v", name, err)
		}
	}
	if bs, qs := b.Status(), q.Status(); bs.LastSuccess.IsZero() || qs.LastPoll.IsZero() || !qs.LastSuccess.IsZero() {
		t.Errorf("bucket %+v, queue %+v", bs, qs)
	}
	if st.Get("flowlogs/s3/b/"+acct1+"/"+region1) == "" {
		t.Error("no checkpoint saved")
	}
}

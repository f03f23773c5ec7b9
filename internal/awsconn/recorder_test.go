package awsconn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

// fakeClock returns a clock that advances one minute per reading.
func fakeClock() func() time.Time {
	t := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Minute)
		return t
	}
}

func at(minute int) time.Time { return time.Date(2026, 1, 2, 3, minute, 0, 0, time.UTC) }

func TestRecorder(t *testing.T) {
	r := NewRecorder(fakeClock())
	denied := &smithy.GenericAPIError{Code: "UnauthorizedOperation"}
	throttled := &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}

	r.Record("222222222222", "eu-west-1", "ec2:DescribeVpcs", nil)                                 // 1
	r.Record("111111111111", "global", "iam:ListRoles", throttled)                                 // 2
	r.Record("111111111111", "eu-west-1", "ec2:DescribeInstances", denied)                         // 3
	r.Record("111111111111", "eu-west-1", "ec2:DescribeVpcs", errors.New("boom"))                  // 4
	r.Record("111111111111", "eu-west-1", "ec2:DescribeVpcs", nil)                                 // 5: recovered
	r.Record("111111111111", "eu-west-1", "ec2:DescribeSubnets", nil)                              // 6
	r.Record("111111111111", "eu-west-1", "ec2:DescribeSubnets", context.Canceled)                 // not recorded
	r.Record("111111111111", "eu-west-1", "ec2:DescribeInstances", fmt.Errorf("list: %w", denied)) // 7

	want := []model.CallStatus{
		{Account: "111111111111", Region: "eu-west-1", API: "ec2:DescribeInstances", Outcome: model.OutcomeDenied,
			Detail: "not authorized to perform ec2:DescribeInstances (UnauthorizedOperation)", Calls: 2, Time: at(7)},
		{Account: "111111111111", Region: "eu-west-1", API: "ec2:DescribeSubnets", Outcome: model.OutcomeOK, Calls: 1, Time: at(6)},
		{Account: "111111111111", Region: "eu-west-1", API: "ec2:DescribeVpcs", Outcome: model.OutcomeOK, Calls: 2, Time: at(5)},
		{Account: "111111111111", Region: "global", API: "iam:ListRoles", Outcome: model.OutcomeThrottled,
			Detail: "api error Throttling: Rate exceeded", Calls: 1, Time: at(2)},
		{Account: "222222222222", Region: "eu-west-1", API: "ec2:DescribeVpcs", Outcome: model.OutcomeOK, Calls: 1, Time: at(1)},
	}
	if diff := cmp.Diff(want, r.Statuses()); diff != "" {
		t.Errorf("Statuses() mismatch (-want +got):\n%s", diff)
	}

	r.Reset()
	if got := r.Statuses(); len(got) != 0 {
		t.Errorf("Statuses() after Reset = %v, want none", got)
	}
}

func TestRecorderConcurrent(t *testing.T) {
	var r Recorder // the zero value is ready
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				r.Record("111111111111", "eu-west-1", "ec2:DescribeVpcs", nil)
				r.Record("111111111111", fmt.Sprintf("region-%d", i), "ec2:DescribeVpcs", nil)
				r.Statuses()
			}
		})
	}
	wg.Wait()
	got := r.Statuses()
	if len(got) != 9 || got[0].Calls != 800 {
		t.Errorf("Statuses() = %d entries, first with %d calls; want 9 entries, 800 calls", len(got), got[0].Calls)
	}
}

func TestRecorderRedactsSecrets(t *testing.T) {
	r := NewRecorder(nil)
	r.addSecrets("my-external-id-1234", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "ab")
	r.Record("1", "global", "sts:AssumeRole",
		errors.New("bad external id my-external-id-1234 for secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, about"))
	want := "bad external id [redacted] for secret [redacted], about"
	if got := r.Statuses()[0].Detail; got != want {
		t.Errorf("Detail = %q, want %q", got, want)
	}
	err := r.redactErr(fmt.Errorf("assume with my-external-id-1234: %w", context.DeadlineExceeded))
	if want := "assume with [redacted]: context deadline exceeded"; err.Error() != want {
		t.Errorf("redactErr text = %q, want %q", err, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("redactErr lost the error chain: %v", err)
	}
}

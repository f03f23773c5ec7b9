package inventory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/skymap/skymap/internal/model"
)

// TestDescribeEachPanickingItemFailsAlone makes one item of a fan-out
// panic: the others are still described, and the error names the item and
// wraps ErrUnexpectedAnswer, so that the listing is incomplete instead of
// the process ending.
func TestDescribeEachPanickingItemFailsAlone(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	items := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	var res Result
	err := describeEach(t.Context(), &res, items, func(s string) string { return "item " + s },
		func(_ context.Context, s string, out *Result) error {
			out.Components = append(out.Components, model.Component{ID: s})
			if s == "e" {
				var p *struct{ ID *string }
				_ = *p.ID
			}
			return nil
		})
	if !errors.Is(err, ErrUnexpectedAnswer) || !strings.Contains(err.Error(), "item e: ") ||
		!strings.Contains(err.Error(), "nil pointer") {
		t.Errorf("err = %v, want ErrUnexpectedAnswer naming item e and the panic", err)
	}
	var got []string
	for _, c := range res.Components {
		got = append(got, c.ID)
	}
	slices.Sort(got)
	want := slices.DeleteFunc(slices.Clone(items), func(s string) bool { return s == "e" })
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("components (-want +got):\n%s", d)
	}
}

// TestWorkerPanicLeavesListingIncomplete runs, as a scan does, a listing
// one of whose detail workers panics: the listing returns the other items,
// incomplete, instead of the panic ending the scan.
func TestWorkerPanicLeavesListingIncomplete(t *testing.T) {
	tg := Target{Account: "123456789012", Region: "eu-west-1"}
	tk := task{l: listing{types: []string{typeQueue}, run: func(ctx context.Context, _ Target) (Result, error) {
		var res Result
		return res, describeEach(ctx, &res, []string{"q1", "q2", "q3"}, func(s string) string { return "queue " + s },
			func(_ context.Context, s string, out *Result) error {
				if s == "q2" {
					panic("unexpected shape")
				}
				out.Components = append(out.Components, model.Component{ID: s, Type: typeQueue, Region: "eu-west-1"})
				return nil
			})
	}}, t: tg}
	res, err := runListing(t.Context(), tk)
	if !errors.Is(err, ErrUnexpectedAnswer) || !strings.Contains(err.Error(), "queue q2: ") {
		t.Errorf("err = %v, want ErrUnexpectedAnswer naming queue q2", err)
	}
	snaps := split(tk, res, err == nil)
	if len(snaps) != 1 || snaps[0].Complete || len(snaps[0].Components) != 2 {
		t.Errorf("snapshots %+v, want one incomplete with q1 and q3", snaps)
	}
}

// TestForEachBoundedAndNamed checks that the fan-out under describeEach
// runs no more than detailConcurrency items at once, and returns every
// failure after its item's name.
func TestForEachBoundedAndNamed(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var (
		mu             sync.Mutex
		inFlight, most int
		items          []int
	)
	for i := range 5 * detailConcurrency {
		items = append(items, i)
	}
	err := forEach(t.Context(), items, func(i int) string { return fmt.Sprint("item ", i) },
		func(_ context.Context, i int) error {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			inFlight--
			mu.Unlock()
			if i%10 == 3 {
				return errors.New("throttled")
			}
			return nil
		})
	if most > detailConcurrency || most < 2 {
		t.Errorf("%d items at once, want 2 to %d", most, detailConcurrency)
	}
	for _, want := range []string{"item 3: throttled", "item 13: throttled", "item 23: throttled", "item 33: throttled"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to hold %q", err, want)
		}
	}
}

// TestDetailOutcome sorts the answers of detail calls.
func TestDetailOutcome(t *testing.T) {
	code := func(c string) error { return fmt.Errorf("op: %w", &smithy.GenericAPIError{Code: c}) }
	for _, tt := range []struct {
		err      error
		keep     bool
		failures bool
	}{
		{nil, true, false},
		{code("AccessDeniedException"), true, false},
		{code("ResourceNotFoundException"), false, false},
		{code("NoSuchEntity"), false, false},
		{code("ValidationError"), false, true}, // CloudFormation's "gone", too general for the table
		{code("ThrottlingException"), false, true},
		{context.DeadlineExceeded, false, true},
	} {
		keep, failure := detailOutcome(tt.err)
		if keep != tt.keep || (failure != nil) != tt.failures {
			t.Errorf("detailOutcome(%v) = %v, %v; want keep %v, failure %v", tt.err, keep, failure, tt.keep, tt.failures)
		}
	}
}

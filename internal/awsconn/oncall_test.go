package awsconn

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

// TestOnCall checks what Options.OnCall is told of calls that AWS (a fake
// server answering EC2's documented error shape) answers in each way.
func TestOnCall(t *testing.T) {
	tests := []struct {
		name string
		// answers are the status and error code of each DescribeVpcs
		// attempt, 0 and "" for success; the last repeats.
		answers []answer
		want    Call
	}{
		{"ok", nil, Call{"ec2", "DescribeVpcs", model.OutcomeOK, 1}},
		{"ok after a retry", []answer{{http.StatusInternalServerError, "InternalError"}, {}},
			Call{"ec2", "DescribeVpcs", model.OutcomeOK, 2}},
		{"throttled to the last attempt", []answer{{http.StatusServiceUnavailable, "RequestLimitExceeded"}},
			Call{"ec2", "DescribeVpcs", model.OutcomeThrottled, 3}},
		{"throttled, another code", []answer{{http.StatusBadRequest, "Throttling"}},
			Call{"ec2", "DescribeVpcs", model.OutcomeThrottled, 3}},
		{"unauthorized operation", []answer{{http.StatusForbidden, "UnauthorizedOperation"}},
			Call{"ec2", "DescribeVpcs", model.OutcomeDenied, 1}},
		{"access denied", []answer{{http.StatusForbidden, "AccessDenied"}},
			Call{"ec2", "DescribeVpcs", model.OutcomeDenied, 1}},
		{"bad credentials are no denial", []answer{{http.StatusUnauthorized, "AuthFailure"}},
			Call{"ec2", "DescribeVpcs", model.OutcomeFailed, 1}},
		{"server error to the last attempt", []answer{{http.StatusInternalServerError, "InternalError"}},
			Call{"ec2", "DescribeVpcs", model.OutcomeFailed, 3}},
		{"bad request", []answer{{http.StatusBadRequest, "InvalidParameterValue"}},
			Call{"ec2", "DescribeVpcs", model.OutcomeFailed, 1}},
		{"a missing setting is ok", []answer{{http.StatusNotFound, "NoSuchTagSet"}},
			Call{"ec2", "DescribeVpcs", model.OutcomeOK, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeAWS(t, func(action string, n int) (int, string) {
				if action != "DescribeVpcs" || len(tt.answers) == 0 {
					return 0, ""
				}
				a := tt.answers[min(n, len(tt.answers))-1]
				if a.status == 0 {
					return 0, ""
				}
				return a.status, ec2Error(a.code)
			})
			var (
				mu    sync.Mutex
				calls []Call
			)
			onCall := func(c Call) {
				mu.Lock()
				calls = append(calls, c)
				mu.Unlock()
			}
			_, a := fakeProvider(t, fake, Options{MaxAttempts: 3, OnCall: onCall})
			mu.Lock()
			calls = nil // the account's GetCallerIdentity
			mu.Unlock()
			ec2.NewFromConfig(a.Config("eu-west-1"), quickRetries).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]Call{tt.want}, calls); diff != "" {
				t.Errorf("calls told (-want +got):\n%s", diff)
			}
		})
	}
}

type answer struct {
	status int
	code   string
}

// TestOnCallNotToldOfCancelledCalls: a call its caller gave up on says
// nothing about AWS.
func TestOnCallNotToldOfCancelledCalls(t *testing.T) {
	fake := newFakeAWS(t, nil)
	var told []Call
	_, a := fakeProvider(t, fake, Options{OnCall: func(c Call) { told = append(told, c) }})
	told = nil
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ec2.NewFromConfig(a.Config("eu-west-1")).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err == nil {
		t.Fatal("DescribeVpcs succeeded with a cancelled context")
	}
	if len(told) != 0 {
		t.Errorf("told %+v, want nothing", told)
	}
}

package awsconn

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/skymap/skymap/internal/model"
)

// fakeProvider returns a Provider on the fake server and its base account.
func fakeProvider(t *testing.T, fake *fakeAWS, o Options) (*Provider, *Account) {
	t.Helper()
	isolateEnv(t)
	o.AccessKeyID, o.SecretAccessKey, o.EndpointURL = "testing", "testing", fake.URL
	o.HTTPClient = testHTTPClient(t)
	p, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Account(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return p, a
}

// quickRetries keeps the SDK's retryer but shortens its backoff.
func quickRetries(o *ec2.Options) {
	o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
}

func TestRateLimitBurstThenWait(t *testing.T) {
	fake := newFakeAWS(t, nil)
	_, a := fakeProvider(t, fake, Options{Limits: map[string]Limit{"ec2": {PerSecond: 2, Burst: 3}}})
	ctx := context.Background()
	call := func(region string) time.Duration {
		start := time.Now()
		if _, err := ec2.NewFromConfig(a.Config(region)).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	start := time.Now()
	for range 3 {
		call("eu-west-1")
	}
	if burst := time.Since(start); burst > 400*time.Millisecond {
		t.Errorf("the burst of 3 calls took %s, want no wait", burst)
	}
	// The bucket is empty: the next token comes 500 ms after the burst began.
	if d := call("eu-west-1"); d < 300*time.Millisecond {
		t.Errorf("the call after the burst took %s, want a wait for the refill", d)
	}
	// Another region has its own bucket.
	if d := call("us-east-1"); d > 300*time.Millisecond {
		t.Errorf("the first call in another region took %s, want no wait", d)
	}
}

func TestEveryAttemptTakesAToken(t *testing.T) {
	fake := newFakeAWS(t, func(action string, n int) (int, string) {
		if action == "DescribeVpcs" && n <= 2 {
			return http.StatusInternalServerError, ec2Error("InternalError")
		}
		return 0, ""
	})
	p, a := fakeProvider(t, fake, Options{MaxAttempts: 5, Limits: map[string]Limit{"ec2": {PerSecond: 0.001, Burst: 10}}})
	if _, err := ec2.NewFromConfig(a.Config("eu-west-1"), quickRetries).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	if n := fake.count("DescribeVpcs"); n != 3 {
		t.Fatalf("DescribeVpcs attempts = %d, want 3", n)
	}
	if tokens := math.Round(p.limiters.get(a.ID, "eu-west-1", "EC2").Tokens()); tokens != 7 {
		t.Errorf("tokens left = %v, want 7 (one per attempt)", tokens)
	}
	want := model.CallStatus{Account: "123456789012", Region: "eu-west-1", API: "ec2:DescribeVpcs", Outcome: model.OutcomeOK, Calls: 1}
	if diff := cmp.Diff([]model.CallStatus{want}, p.Recorder().Statuses(), ignoreTime); diff != "" {
		t.Errorf("Statuses() mismatch (-want +got):\n%s", diff)
	}
}

func TestThrottledToTheLastAttemptIsRecorded(t *testing.T) {
	fake := newFakeAWS(t, func(action string, n int) (int, string) {
		if action == "DescribeVpcs" {
			return http.StatusServiceUnavailable, ec2Error("RequestLimitExceeded")
		}
		return 0, ""
	})
	p, a := fakeProvider(t, fake, Options{MaxAttempts: 2})
	_, err := ec2.NewFromConfig(a.Config("global"), quickRetries).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	if err == nil {
		t.Fatal("DescribeVpcs succeeded, want throttled")
	}
	if outcome, _ := Classify(err); outcome != model.OutcomeThrottled {
		t.Errorf("Classify(%v) = %s, want throttled", err, outcome)
	}
	got := p.Recorder().Statuses()
	if len(got) != 1 || got[0].Region != "global" || got[0].Outcome != model.OutcomeThrottled || got[0].Calls != 1 {
		t.Errorf("Statuses() = %+v, want one throttled call in region global", got)
	}
	if n := fake.count("DescribeVpcs"); n != 2 {
		t.Errorf("DescribeVpcs attempts = %d, want 2", n)
	}
}

func TestLimitersTable(t *testing.T) {
	l := newLimiters(map[string]Limit{"ec2": {PerSecond: 20, Burst: 100}, "cloudwatch_logs": {PerSecond: 5}, AnyService: {PerSecond: 10, Burst: 20}})
	tests := []struct {
		service   string
		wantLimit rate.Limit
		wantBurst int
	}{
		{"EC2", 20, 100},
		{"CloudWatch Logs", 5, 1},
		{"Lambda", 10, 20},
	}
	for _, tt := range tests {
		b := l.get("1", "eu-west-1", tt.service)
		if b.Limit() != tt.wantLimit || b.Burst() != tt.wantBurst {
			t.Errorf("bucket of %s = %v/%d, want %v/%d", tt.service, b.Limit(), b.Burst(), tt.wantLimit, tt.wantBurst)
		}
		if l.get("1", "eu-west-1", tt.service) != b || l.get("2", "eu-west-1", tt.service) == b {
			t.Errorf("bucket of %s is not one per (account, region, service)", tt.service)
		}
	}
	if b := newLimiters(map[string]Limit{}).get("1", "eu-west-1", "EC2"); b.Limit() != rate.Inf {
		t.Errorf("bucket without any table entry = %v, want unlimited", b.Limit())
	}
}

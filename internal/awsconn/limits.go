package awsconn

import (
	"context"
	"errors"
	"fmt"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// Limit is a token bucket: Burst calls at once, refilled at PerSecond.
// PerSecond <= 0 means unlimited; a Burst below 1 counts as 1.
type Limit struct {
	PerSecond float64
	Burst     int
}

// AnyService is the key of the Limit used for services without their own entry.
const AnyService = "*"

// DefaultLimits are the buckets per (account, region, service), keyed like
// Options.Endpoints. They are sized to the limits AWS publishes per account
// and region, so that skymap alone never triggers throttling; the adaptive
// retry absorbs what other callers in the account add.
var DefaultLimits = map[string]Limit{
	// EC2 non-mutating actions (Describe*): bucket 100, refill 20 per second.
	// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
	"ec2": {PerSecond: 20, Burst: 100},
	// S3 publishes data-plane rates only (5,500 GET/HEAD per second per prefix,
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html);
	// bucket configuration calls (GetBucket*) have no published rate: stay modest.
	"s3": {PerSecond: 20, Burst: 40},
	// CloudWatch: DescribeAlarms 9 TPS, the lowest of the read APIs skymap
	// calls (GetMetricData 50 TPS, ListMetrics 25 TPS).
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html
	"cloudwatch": {PerSecond: 9, Burst: 9},
	// CloudWatch Logs: FilterLogEvents 5 TPS, not adjustable.
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
	// https://repost.aws/knowledge-center/cloudwatch-logs-throttling
	"cloudwatch_logs": {PerSecond: 5, Burst: 5},
	// CloudTrail LookupEvents: 2 per second per account and region.
	// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html
	"cloudtrail": {PerSecond: 2, Burst: 2},
	// Lambda control plane (other than GetFunction, GetPolicy): 15 per second.
	// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
	"lambda": {PerSecond: 15, Burst: 15},
	// Route 53: five requests per second per account, all APIs together.
	// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html
	"route_53": {PerSecond: 5, Burst: 5},
	// SQS publishes no API rate for standard queues ("nearly unlimited"
	// calls per second per action): skymap reads its event queue and
	// describes queues at event rates, so the bucket is wide.
	// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
	"sqs": {PerSecond: 200, Burst: 400},
	// IAM and STS throttle with token buckets whose sizes AWS does not publish.
	// https://aws.amazon.com/blogs/security/how-to-monitor-and-query-iam-resources-at-scale-part-2/
	"iam": {PerSecond: 10, Burst: 20},
	"sts": {PerSecond: 10, Burst: 20},
	// Other control planes mostly allow tens of reads per second; stay below.
	AnyService: {PerSecond: 10, Burst: 20},
}

func (l Limit) limiter() *rate.Limiter {
	if l.PerSecond <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(l.PerSecond), max(l.Burst, 1))
}

type limiterKey struct{ account, region, service string }

// limiters holds one token bucket per (account, region, service), made on first use.
type limiters struct {
	table map[string]Limit

	mu      sync.Mutex
	buckets map[limiterKey]*rate.Limiter
}

func newLimiters(table map[string]Limit) *limiters {
	return &limiters{table: table, buckets: map[limiterKey]*rate.Limiter{}}
}

func (l *limiters) get(account, region, serviceID string) *rate.Limiter {
	k := limiterKey{account, region, serviceKey(serviceID)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[k]; ok {
		return b
	}
	lim, ok := l.table[k.service]
	if !ok {
		lim, ok = l.table[AnyService]
	}
	if !ok {
		lim = Limit{}
	}
	b := lim.limiter()
	l.buckets[k] = b
	return b
}

// middlewares returns the APIOptions of a config for (account, region).
func (p *Provider) middlewares(account, region string) []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{
		func(s *middleware.Stack) error {
			// First in Initialize: it sees the final error, after all retries.
			// Clients of older code generation (Redshift) name the service
			// and operation in an Initialize middleware of their own; the
			// recorder goes right after it, or it would see neither.
			m := &recordCalls{p.rec, p.opts.OnCall, account, region}
			if _, ok := s.Initialize.Get(serviceMetadataID); ok {
				return s.Initialize.Insert(m, serviceMetadataID, middleware.After)
			}
			return s.Initialize.Add(m, middleware.Before)
		},
		func(s *middleware.Stack) error {
			m := &limitAttempts{p.limiters, account, region}
			// After the retry middleware: every attempt takes a token.
			if _, ok := s.Finalize.Get(retryMiddlewareID); ok {
				return s.Finalize.Insert(m, retryMiddlewareID, middleware.After)
			}
			return s.Finalize.Add(m, middleware.Before)
		},
	}
}

// serviceMetadataID is the id of the SDK's awsmiddleware.RegisterServiceMetadata.
const serviceMetadataID = "RegisterServiceMetadata"

// retryMiddlewareID is the id of the SDK's retry middleware (retry.Attempt).
const retryMiddlewareID = "Retry"

// limitAttempts waits for a token of the call's bucket before each attempt.
type limitAttempts struct {
	limiters        *limiters
	account, region string
}

func (*limitAttempts) ID() string { return "SkymapRateLimit" }

func (m *limitAttempts) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	svc, _ := callNames(ctx)
	if err := m.limiters.get(m.account, m.region, svc).Wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for %s rate limit: %w", serviceKey(svc), err)
	}
	return next.HandleFinalize(ctx, in)
}

// Call is one API call as Options.OnCall is told of it.
type Call struct {
	// Service is the SDK service id as Options.Endpoints keys it ("ec2",
	// "cloudwatch_logs"); Operation the SDK operation ("DescribeInstances").
	Service, Operation string
	// Outcome is model.OutcomeOK, OutcomeDenied, OutcomeThrottled or
	// OutcomeFailed, as Classify decides.
	Outcome string
	// Attempts is how often the call was sent, retries included; 0 when
	// it never was (no credentials).
	Attempts int
}

// recordCalls records the final outcome of every call.
type recordCalls struct {
	rec             *Recorder
	onCall          func(Call)
	account, region string
}

func (*recordCalls) ID() string { return "SkymapRecordOutcome" }

func (m *recordCalls) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleInitialize(ctx, in)
	svc, op := callNames(ctx)
	api := IAMAction(svc, op)
	m.rec.Record(m.account, m.region, api, err)
	if m.onCall != nil && !errors.Is(err, context.Canceled) {
		outcome, _ := classify(err, api)
		attempts, _ := retry.GetAttemptResults(md)
		m.onCall(Call{Service: serviceKey(svc), Operation: op, Outcome: outcome, Attempts: len(attempts.Results)})
	}
	return out, md, err
}

// callNames returns the SDK service id and operation name of the call in
// ctx. Clients built on older SDK cores set them as smithy's stack values
// rather than aws/middleware's (Step Functions v1.41): both are read.
func callNames(ctx context.Context) (service, operation string) {
	service, operation = awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	if service == "" {
		service = middleware.GetServiceID(ctx)
	}
	if operation == "" {
		operation = middleware.GetOperationName(ctx)
	}
	return service, operation
}

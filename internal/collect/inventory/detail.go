package inventory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/model"
)

// detailConcurrency bounds the per-resource detail calls (tags, aliases,
// definitions, sub-listings) one listing has in flight: every item of a
// fan-out makes its calls one after the other.
const detailConcurrency = 8

// describeEach describes every item, at most detailConcurrency at a time:
// describe adds what it saw of its item to a Result of its own, and
// describeEach gathers them into res. It returns the errors of the items
// that failed, each after the item's name, joined with ctx's error: the
// caller returns them, so that the listing is incomplete.
//
// An item whose describe panics (on an answer the code did not expect)
// fails with an error wrapping ErrUnexpectedAnswer, and what it added is
// left out; the other items go on. describe runs concurrently: it writes
// only to out, and guards anything else it shares.
func describeEach[T any](ctx context.Context, res *Result, items []T, name func(T) string,
	describe func(ctx context.Context, item T, out *Result) error) error {
	var mu sync.Mutex
	return forEach(ctx, items, name, func(ctx context.Context, it T) error {
		var part Result
		err := describe(ctx, it, &part)
		mu.Lock()
		defer mu.Unlock()
		res.Components = append(res.Components, part.Components...)
		res.Relations = append(res.Relations, part.Relations...)
		res.Malformed = append(res.Malformed, part.Malformed...)
		return err
	})
}

// forEach calls fn for every item as describeEach does (bounded, each
// error after its item's name, a panic turned into ErrUnexpectedAnswer),
// for a fan-out whose items yield something other than a Result (ELB tags,
// read in batches): fn guards what it shares. Listings start no goroutines
// but through these two.
func forEach[T any](ctx context.Context, items []T, name func(T) string, fn func(ctx context.Context, item T) error) error {
	var (
		mu   sync.Mutex
		errs []error
		g    errgroup.Group
	)
	g.SetLimit(detailConcurrency)
	for _, it := range items {
		g.Go(func() error {
			if err := recovering(ctx, it, fn); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name(it), err))
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	return errors.Join(append(errs, ctx.Err())...)
}

// recovering calls fn, and turns a panic into an error wrapping
// ErrUnexpectedAnswer: a worker's panic would end the whole process, where
// runListing recovers only the listing's own goroutine.
func recovering[T any](ctx context.Context, it T, fn func(context.Context, T) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrUnexpectedAnswer, r)
		}
	}()
	return fn(ctx, it)
}

// detailOutcome sorts the error of a detail call (tags, attributes,
// sub-listings) about a listed resource: keep says whether the resource is
// described in this scan, failure is the error that makes the listing
// incomplete.
//
//   - no error, or denied: keep, no failure (a denial is a lasting state,
//     which the call status reports);
//   - gone, deleted since it was listed: drop, no failure;
//   - any other (throttled, unreachable): drop, and fail. The listing is
//     incomplete, so the engine keeps the resource as it was stored rather
//     than overwriting it with a description missing what the call would
//     have told (its tags, say): a hiccup never rewrites history.
func detailOutcome(err error) (keep bool, failure error) {
	switch {
	case err == nil, denied(err):
		return true, nil
	case gone(err):
		return false, nil
	}
	return false, err
}

// notFoundCodes are the error codes with which the services answer a call
// about a resource deleted since it was listed. CloudFormation's answer,
// ValidationError, is too general for the table: collectStacks checks it.
var notFoundCodes = map[string]bool{
	"NotFoundException":                       true, // API Gateway
	"ClusterNotFoundException":                true, // ECS
	"ResourceNotFoundException":               true, // DynamoDB, EKS, EventBridge, Firehose, Kinesis, Lambda
	"NoSuchEntity":                            true, // IAM
	"NoSuchBucket":                            true, // S3
	"NoSuchResource":                          true, // CloudFront
	"NoSuchDistribution":                      true,
	"NoSuchHostedZone":                        true, // Route 53
	"LoadBalancerNotFound":                    true, // ELB
	"TargetGroupNotFound":                     true,
	"AccessPointNotFound":                     true,
	"StateMachineDoesNotExist":                true, // Step Functions
	"ActivityDoesNotExist":                    true,
	"ResourceNotFound":                        true,
	"NotFound":                                true, // SNS
	"AWS.SimpleQueueService.NonExistentQueue": true, // SQS, query protocol
	"QueueDoesNotExist":                       true, // SQS, JSON protocol
	"CacheClusterNotFound":                    true, // ElastiCache
	"CacheClusterNotFoundFault":               true,
	"DBInstanceNotFound":                      true, // RDS
	"DBClusterNotFoundFault":                  true,
	"ClusterNotFound":                         true, // Redshift
}

// gone tells whether err says the resource no longer exists.
func gone(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && notFoundCodes[ae.ErrorCode()]
}

// denied tells whether err is a missing permission.
func denied(err error) bool {
	outcome, _ := awsconn.Classify(err)
	return err != nil && outcome == model.OutcomeDenied
}

// isCode tells whether err is an AWS error with code.
func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

package inventory

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/errgroup"
)

// describeEach calls describe for every item, at most detailConcurrency at
// a time, and gathers what each added to its own Result into res. It
// returns the errors of the items that failed, joined, and ctx's error:
// the caller returns them so that the listing is incomplete.
func describeEach[T any](ctx context.Context, res *Result, items []T, describe func(ctx context.Context, item T, out *Result) error) error {
	var (
		mu   sync.Mutex
		errs []error
		g    errgroup.Group
	)
	g.SetLimit(detailConcurrency)
	for _, it := range items {
		g.Go(func() error {
			var part Result
			err := describe(ctx, it, &part)
			mu.Lock()
			defer mu.Unlock()
			res.Components = append(res.Components, part.Components...)
			res.Relations = append(res.Relations, part.Relations...)
			res.Malformed = append(res.Malformed, part.Malformed...)
			if err != nil {
				errs = append(errs, err)
			}
			return nil
		})
	}
	g.Wait()
	return errors.Join(append(errs, ctx.Err())...)
}

// notFoundCodes are the error codes with which the services answer a
// detail call about a resource deleted since it was listed.
var notFoundCodes = map[string]bool{
	"ResourceNotFoundException":               true, // DynamoDB, Kinesis, Firehose
	"NotFound":                                true, // SNS
	"NotFoundException":                       true,
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
	code := ""
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	return notFoundCodes[code]
}

package inventory

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/errgroup"
)

// detailConcurrency bounds the per-resource detail calls (tags, aliases,
// definitions) one listing has in flight.
const detailConcurrency = 8

// forEachLimit calls fn for every item, at most detailConcurrency at a time,
// and returns the errors fn returned, joined, with ctx's error if it ended.
// fn runs concurrently: it must guard what it shares.
func forEachLimit[T any](ctx context.Context, items []T, fn func(ctx context.Context, item T) error) error {
	var (
		mu   sync.Mutex
		errs []error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(detailConcurrency)
	for _, it := range items {
		g.Go(func() error {
			if err := fn(gctx, it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	return errors.Join(append(errs, ctx.Err())...)
}

// detailOutcome sorts the error of a detail call (tags, attributes) of a
// listed resource: keep says whether the resource is still described (the
// call worked or was denied, a lasting state the call status reports);
// failure is the error that makes the listing incomplete (throttled,
// unreachable), nil otherwise. A resource AWS says is gone (one of the
// notFound codes) is dropped without a failure.
func detailOutcome(err error, notFound ...string) (keep bool, failure error) {
	if err == nil || denied(err) {
		return true, nil
	}
	for _, code := range notFound {
		if isCode(err, code) {
			return false, nil
		}
	}
	return true, err
}

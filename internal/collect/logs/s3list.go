package logs

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/skymap/skymap/internal/partition"
)

// Listing delivered log objects a load balancer or a distribution at a
// time, from a time on: the folders and stems are found with delimited
// listings, and each stem's keys listed after the stem and the time
// (StartAfter), so that no listing goes through more than the objects
// asked for.

// listRecent lists the objects of b whose keys say from or later, a load
// balancer or a distribution at a time, and calls fn for each.
func listRecent(ctx context.Context, api S3API, b Bucket, from, now time.Time, fn func(*s3Object)) error {
	each := func(stem string, kind Kind) error {
		_, err := listObjects(ctx, api, b, stem, stem+stemTime(kind, from), func(o *s3Object) bool {
			if o.Object.Kind == b.Kind {
				fn(o)
			}
			return true
		})
		return err
	}
	if b.Kind == KindCloudFront {
		stems, err := commonPrefixes(ctx, api, b.Bucket, b.Prefix, ".")
		if err != nil {
			return err
		}
		for _, stem := range stems {
			if id := strings.TrimSuffix(strings.TrimPrefix(stem, b.Prefix), "."); !distributionIDs.MatchString(id) {
				continue // another file under the prefix
			}
			if err := each(stem, KindCloudFront); err != nil {
				return err
			}
		}
		return nil
	}
	accounts, err := commonPrefixes(ctx, api, b.Bucket, elbAccounts(b.Prefix), "/")
	if err != nil {
		return err
	}
	for _, a := range accounts {
		account := strings.TrimSuffix(strings.TrimPrefix(a, elbAccounts(b.Prefix)), "/")
		if !partition.IsAccountID(account) {
			continue
		}
		for day := utcDay(from); !day.After(now); day = day.AddDate(0, 0, 1) {
			dayPrefix := elbDay(b.Prefix, account, b.Region, day)
			stems, err := commonPrefixes(ctx, api, b.Bucket, dayPrefix, "_")
			if err != nil {
				return err
			}
			for _, stem := range stems {
				if kind, ok := stemKind(strings.TrimPrefix(stem, dayPrefix)); ok && kind == b.Kind {
					if err := each(stem, kind); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// commonPrefixes lists the common prefixes under prefix up to delimiter,
// at most maxListPages pages of them.
func commonPrefixes(ctx context.Context, api S3API, bucket, prefix, delimiter string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String(delimiter)}
	var out []string
	for page := 0; page < maxListPages; page++ {
		resp, err := api.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, errors.New(s3Problem("s3:ListBucket", "s3://"+bucket+"/"+prefix, err))
		}
		for _, p := range resp.CommonPrefixes {
			out = append(out, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(resp.IsTruncated) || resp.NextContinuationToken == nil {
			break
		}
		in.ContinuationToken = resp.NextContinuationToken
	}
	return out, nil
}

// listObjects lists the delivered log objects under prefix after
// startAfter, in key order, while fn answers true; keys of no delivered
// log are passed over. whole is false when the listing stopped at
// maxListPages pages.
func listObjects(ctx context.Context, api S3API, b Bucket, prefix, startAfter string, fn func(*s3Object) bool) (whole bool, err error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket), Prefix: aws.String(prefix), StartAfter: aws.String(startAfter)}
	for page := 0; page < maxListPages; page++ {
		resp, err := api.ListObjectsV2(ctx, in)
		if err != nil {
			return false, errors.New(s3Problem("s3:ListBucket", "s3://"+b.Bucket+"/"+prefix, err))
		}
		for _, o := range resp.Contents {
			key := aws.ToString(o.Key)
			k, ok := parseKey(key, b)
			if !ok {
				continue
			}
			if !fn(&s3Object{Key: key, Object: k, LastModified: aws.ToTime(o.LastModified).UTC()}) {
				return true, nil
			}
		}
		if !aws.ToBool(resp.IsTruncated) || resp.NextContinuationToken == nil {
			return true, nil
		}
		in.ContinuationToken = resp.NextContinuationToken
	}
	return false, nil
}

// parseKey reads a key of b's kind.
func parseKey(key string, b Bucket) (ObjectKey, bool) {
	if b.Kind == KindCloudFront {
		return ParseCloudFrontKey(key, b.Prefix)
	}
	return ParseELBKey(key)
}

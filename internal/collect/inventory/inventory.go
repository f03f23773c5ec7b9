// Package inventory lists the resources of AWS accounts and turns them into
// components and relations (TOPOLOGY.md). One file per AWS service holds its
// listing functions; the scanner runs them for every account and region and
// turns what they saw into snapshots per scope.
package inventory

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// Target is the account and region a listing runs against.
type Target struct {
	Account   string
	Partition partition.Partition
	// Region is the region listed, or partition.Global.
	Region string
	// Config is the SDK configuration for Region.
	Config aws.Config
	// Regions are every region configured for the account, for account-wide
	// listings (S3) that keep only the resources in those regions.
	Regions []string
	// ConfigFor returns the SDK configuration for another region of the
	// account (S3 detail calls go to the bucket's region).
	ConfigFor func(region string) aws.Config
	// shared holds what several listings of the same account and region
	// read once per scan (network interfaces); nil reads afresh.
	shared *shared
}

// Result is what one listing saw. Relations may name their ends by any
// identifier.
type Result struct {
	Components []model.Component
	Relations  []model.Relation
	// Malformed are resources the listing left out or described only in
	// part because AWS answered something unexpected (a missing id, an
	// unknown value). They are reported against the listing without making
	// it incomplete.
	Malformed []error
}

// malformed records a resource whose description could not be used.
func (r *Result) malformed(api, id string, format string, args ...any) {
	r.Malformed = append(r.Malformed, &MalformedError{API: api, ID: id, Reason: fmt.Sprintf(format, args...)})
}

// MalformedError names a resource AWS described in a way skymap could not
// use, and the API that described it.
type MalformedError struct {
	API, ID, Reason string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("%s: resource %q: %s", e.API, e.ID, e.Reason)
}

// where says in which loop a listing runs.
type where int

const (
	// regional listings run once per configured region, never in global.
	regional where = iota
	// global listings run once per account, in the partition's global region.
	global
	// accountWide listings run once per account and return resources of
	// every region; their results are split into one scope per region.
	accountWide
)

// listing is one List/Describe call chain producing one or more component
// types. Each type is a scope of its own: a complete listing may delete
// what it no longer saw of each of its types.
type listing struct {
	// api is the service name of apis_to_run (StackState's names); filter
	// is the word of an apis_to_run filter that selects this listing
	// ("ec2|instances vpcs").
	api, filter string
	// types are the component types produced, the first being the main one.
	types []string
	where where
	run   func(ctx context.Context, t Target) (Result, error)
	// actions are the IAM actions the listing needs (for `skymap iam-policy`
	// and for naming what was denied).
	actions []string
}

// listings is every inventory listing skymap runs, service by service.
var listings = slices.Concat(
	ec2Listings,
	vpcListings,
	elbListings,
	elbv2Listings,
	autoscalingListings,
	ecsListings,
	eksListings,
	cloudformationListings,
	route53Listings,
	cloudfrontListings,
	s3Listings,
	lambdaListings,
	sfnListings,
	eventsListings,
	apigatewayListings,
	apigatewayv2Listings,
	iamListings,
	rdsListings, redshiftListings, elasticacheListings, dynamodbListings, sqsListings, snsListings, kinesisListings, firehoseListings,
)

// Types returns every component type the inventory produces.
func Types() []string {
	var out []string
	for _, l := range listings {
		out = append(out, l.types...)
	}
	return out
}

// accessActions are needed besides the listings: expanding `regions: all`.
var accessActions = []string{"ec2:DescribeRegions"}

// IAMActions returns the IAM actions the scans need in a monitored account,
// sorted and without repeats.
func IAMActions() []string {
	out := slices.Clone(accessActions)
	for _, l := range listings {
		out = append(out, l.actions...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

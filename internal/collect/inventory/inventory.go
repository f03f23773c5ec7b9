// Package inventory lists the resources of AWS accounts and turns them into
// components and relations (TOPOLOGY.md). One file per AWS service holds its
// listing functions; the scanner runs them for every account and region and
// turns what they saw into snapshots per scope.
package inventory

import (
	"context"

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
}

// Result is what one listing saw. Relations may name their ends by any
// identifier.
type Result struct {
	Components []model.Component
	Relations  []model.Relation
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

// listing is one List/Describe call chain producing one component type.
type listing struct {
	// api is the service name of apis_to_run (StackState's names).
	api string
	// typ is the component type produced: the scope of the snapshot.
	typ   string
	where where
	run   func(ctx context.Context, t Target) (Result, error)
	// actions are the IAM actions the listing needs (for `skymap iam-policy`
	// and for naming what was denied).
	actions []string
}

// listings is every inventory listing skymap runs.
var listings = []listing{
	{"ec2", typeInstance, regional, collectInstances, []string{"ec2:DescribeInstances"}},
	{"ec2", typeVPC, regional, collectVPCs, []string{"ec2:DescribeVpcs"}},
	{"ec2", typeSubnet, regional, collectSubnets, []string{"ec2:DescribeSubnets"}},
	{"ec2", typeSecurityGroup, regional, collectSecurityGroups, []string{"ec2:DescribeSecurityGroups"}},
	{"ec2", typeVPNGateway, regional, collectVPNGateways, []string{"ec2:DescribeVpnGateways"}},
	{"ec2", typeInternetGateway, regional, collectInternetGateways, []string{"ec2:DescribeInternetGateways"}},
	{"s3", typeBucket, accountWide, collectBuckets, []string{
		"s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketTagging", "s3:GetBucketNotification"}},
}

// Types returns every component type the inventory produces.
func Types() []string {
	out := make([]string, 0, len(listings))
	for _, l := range listings {
		out = append(out, l.typ)
	}
	return out
}

// accessActions are needed besides the listings: expanding `regions: all`.
var accessActions = []string{"ec2:DescribeRegions"}

// IAMActions returns the IAM actions the scans need in a monitored account.
func IAMActions() []string {
	out := append([]string{}, accessActions...)
	for _, l := range listings {
		out = append(out, l.actions...)
	}
	return out
}

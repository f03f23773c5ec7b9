// Package partition knows the AWS partitions: their regions, ARN prefixes,
// console domains and the region that global services are called in.
package partition

import (
	"slices"
	"strings"
)

// Global is the pseudo-region of global services (IAM, Route 53, CloudFront):
// they run once per account, never in a regional loop.
const Global = "global"

// All is the pseudo-region that stands for every region enabled in an account.
const All = "all"

// Partition describes one AWS partition.
type Partition struct {
	// ID is the ARN partition: aws, aws-cn, aws-us-gov, ...
	ID string
	// GlobalRegion is where global services of the partition are called.
	GlobalRegion string
	// ConsoleDomain is the host of the management console, without region prefix.
	ConsoleDomain string
	// RegionalConsole tells whether console URLs are prefixed with "<region>.".
	RegionalConsole bool
	// Regions are the partition's public regions, as of November 2026.
	Regions []string
}

// Partitions lists the partitions skymap knows, the commercial one first.
var Partitions = []Partition{
	{
		ID: "aws", GlobalRegion: "us-east-1", ConsoleDomain: "console.aws.amazon.com", RegionalConsole: true,
		Regions: []string{
			"af-south-1",
			"ap-east-1", "ap-east-2",
			"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
			"ap-south-1", "ap-south-2",
			"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
			"ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
			"ca-central-1", "ca-west-1",
			"eu-central-1", "eu-central-2",
			"eu-north-1",
			"eu-south-1", "eu-south-2",
			"eu-west-1", "eu-west-2", "eu-west-3",
			"il-central-1",
			"me-central-1", "me-south-1",
			"mx-central-1",
			"sa-east-1",
			"us-east-1", "us-east-2",
			"us-west-1", "us-west-2",
		},
	},
	{
		ID: "aws-cn", GlobalRegion: "cn-north-1", ConsoleDomain: "console.amazonaws.cn",
		Regions: []string{"cn-north-1", "cn-northwest-1"},
	},
	{
		ID: "aws-us-gov", GlobalRegion: "us-gov-west-1", ConsoleDomain: "console.amazonaws-us-gov.com",
		Regions: []string{"us-gov-east-1", "us-gov-west-1"},
	},
	{
		ID: "aws-eusc", GlobalRegion: "eusc-de-east-1", ConsoleDomain: "console.amazonaws-eusc.eu", RegionalConsole: true,
		Regions: []string{"eusc-de-east-1"},
	},
}

// ByID returns the partition with the given ARN partition id.
func ByID(id string) (Partition, bool) {
	for _, p := range Partitions {
		if p.ID == id {
			return p, true
		}
	}
	return Partition{}, false
}

// OfRegion returns the partition a region belongs to.
func OfRegion(region string) (Partition, bool) {
	for _, p := range Partitions {
		if slices.Contains(p.Regions, region) {
			return p, true
		}
	}
	return Partition{}, false
}

// KnownRegion tells whether region is a region of partition id, or one of the
// pseudo-regions global and all. An empty id accepts a region of any partition.
func KnownRegion(id, region string) bool {
	if region == Global || region == All {
		return true
	}
	p, ok := OfRegion(region)
	return ok && (id == "" || p.ID == id)
}

// ConsoleBase returns the console's base URL for a region of this partition,
// e.g. "https://eu-west-1.console.aws.amazon.com".
func (p Partition) ConsoleBase(region string) string {
	if region == "" || region == Global {
		region = p.GlobalRegion
	}
	if p.RegionalConsole {
		return "https://" + region + "." + p.ConsoleDomain
	}
	return "https://" + p.ConsoleDomain
}

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits an ARN into its parts. It reports false for a string that
// is not an ARN.
func ParseARN(s string) (ARN, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" {
		return ARN{}, false
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, true
}

// String renders the ARN.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// IsAccountID tells whether s is an AWS account id: 12 digits.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

package alarms

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2 is the call ReadImpaired makes.
type EC2 interface {
	DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error)
}

var _ EC2 = (*ec2.Client)(nil)

// ReadImpaired returns the running instances of one region whose instance
// or system status check is impaired, every page.
func ReadImpaired(ctx context.Context, api EC2, region string) (map[string]bool, error) {
	out := map[string]bool{}
	p := ec2.NewDescribeInstanceStatusPaginator(api, &ec2.DescribeInstanceStatusInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ec2:DescribeInstanceStatus in %s: %w", region, err)
		}
		for _, s := range page.InstanceStatuses {
			if impaired(s.InstanceStatus) || impaired(s.SystemStatus) {
				out[aws.ToString(s.InstanceId)] = true
			}
		}
	}
	return out, nil
}

func impaired(s *types.InstanceStatusSummary) bool {
	return s != nil && s.Status == types.SummaryStatusImpaired
}

package alarms

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2 is the call ReadStatus makes.
type EC2 interface {
	DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error)
}

var _ EC2 = (*ec2.Client)(nil)

// Status is an EC2 instance's run state and status checks as
// DescribeInstanceStatus tells them. The zero value means not known: the
// state of the last scan counts.
type Status struct {
	// State is running, stopped, ...
	State string
	// Impaired is true when the instance or system status check failed.
	Impaired bool
}

// ReadStatus returns the state and status checks of every instance of one
// region (stopped ones included), every page: fresher than a scan's state.
func ReadStatus(ctx context.Context, api EC2, region string) (map[string]Status, error) {
	out := map[string]Status{}
	p := ec2.NewDescribeInstanceStatusPaginator(api, &ec2.DescribeInstanceStatusInput{
		IncludeAllInstances: aws.Bool(true), MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ec2:DescribeInstanceStatus in %s: %w", region, err)
		}
		for _, s := range page.InstanceStatuses {
			st := Status{Impaired: impaired(s.InstanceStatus) || impaired(s.SystemStatus)}
			if s.InstanceState != nil {
				st.State = string(s.InstanceState.Name)
			}
			out[aws.ToString(s.InstanceId)] = st
		}
	}
	return out, nil
}

func impaired(s *types.InstanceStatusSummary) bool {
	return s != nil && s.Status == types.SummaryStatusImpaired
}

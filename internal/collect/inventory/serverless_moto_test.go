package inventory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/partition"
)

// TestServerlessListingsPaginate creates more than a page of each
// serverless listing's main resource in a private moto and checks that
// every one is listed.
func TestServerlessListingsPaginate(t *testing.T) {
	m := awstest.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	target := func(region string) Target {
		cfg, err := m.Config(ctx, region, awstest.DefaultAccount)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := partition.ByID("aws")
		return Target{Account: awstest.DefaultAccount, Partition: p, Region: region, Config: cfg}
	}
	count := func(res Result, typ string) int {
		seen := map[string]bool{}
		for _, c := range res.Components {
			if c.Type == typ {
				seen[c.ID] = true
			}
		}
		return len(seen)
	}

	t.Run("iam roles", func(t *testing.T) {
		const n = 1001 // ListRoles pages at 1,000 (MaxItems)
		tg := target(partition.Global)
		client := iam.NewFromConfig(tg.Config)
		for i := range n {
			if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName:                 aws.String(fmt.Sprintf("role-%03d", i)),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
			}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := collectRoles(ctx, tg)
		if err != nil {
			t.Fatal(err)
		}
		if got := count(res, typeIAMRole); got != n {
			t.Errorf("listed %d roles, want %d", got, n)
		}
	})
}

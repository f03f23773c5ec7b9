package inventory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
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

	t.Run("event rules", func(t *testing.T) {
		const n = 130 // ListRules pages at 100
		tg := target("eu-west-1")
		client := eventbridge.NewFromConfig(tg.Config)
		for i := range n {
			name := aws.String(fmt.Sprintf("rule-%03d", i))
			if _, err := client.PutRule(ctx, &eventbridge.PutRuleInput{Name: name, ScheduleExpression: aws.String("rate(1 hour)")}); err != nil {
				t.Fatal(err)
			}
		}
		var targets []ebtypes.Target
		for i := range 130 { // ListTargetsByRule pages at 100
			targets = append(targets, ebtypes.Target{Id: aws.String(fmt.Sprint(i)),
				Arn: aws.String(fmt.Sprintf("arn:aws:sqs:eu-west-1:123456789012:q%d", i))})
		}
		for i := 0; i < len(targets); i += 10 {
			if _, err := client.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("rule-000"), Targets: targets[i:min(i+10, len(targets))]}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := collectEventRules(ctx, tg)
		if err != nil {
			t.Fatal(err)
		}
		if got := count(res, typeEventRule); got != n {
			t.Errorf("listed %d rules, want %d", got, n)
		}
		if len(res.Relations) != len(targets) {
			t.Errorf("got %d target relations, want %d", len(res.Relations), len(targets))
		}
	})

	t.Run("iam roles", func(t *testing.T) {
		const n = 1001 // ListRoles pages at 1,000 (MaxItems)
		tg := target(partition.Global)
		client := iam.NewFromConfig(tg.Config)
		for i := range n {
			if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName:                 aws.String(fmt.Sprintf("role-%03d", i)),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
			}); awstest.RetriedCreate(err) != nil {
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

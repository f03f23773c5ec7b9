package app

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/collect/devopsguru"
	"github.com/skymap/skymap/internal/config"
)

// DevOps Guru insights (from awstest's DevOps Guru server: moto has none)
// attach to the moto-scanned Lambda functions, DynamoDB table and
// CloudFormation stack they name, through the monitored account's role;
// a denied devops-guru:ListInsights makes the account partially connected
// with the action named, and the insights read before stay.
func TestServeDevOpsGuru(t *testing.T) {
	estate(t)
	dg := awstest.NewDevOpsGuru(t)
	// The SDK's own override: with AWS_ENDPOINT_URL (moto) in the
	// environment, a client takes the service's endpoint from the
	// environment only, not from aws.endpoints.
	t.Setenv("AWS_ENDPOINT_URL_DEVOPS_GURU", dg.URL)
	cfg, err := config.Parse([]byte(`
init_config:
  external_id: skymap-test-external-id
instances:
  - role_arn: arn:aws:iam::123456789012:role/StackStateAwsIntegrationRole
    regions: [global, eu-west-1, us-east-1]
` + optOut + `flowlogs: {enabled: false}
health: {enabled: false}
devopsguru: {enabled: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DevOpsGuru.Interval = 300 * time.Millisecond // the config takes 1m at least
	addr, stop := serveConfig(t, cfg, t.TempDir())
	defer stop()
	waitScan(t, addr, time.Time{})
	base := "http://" + addr

	const (
		apiFn    = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-api"
		workerFn = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-worker"
		orders   = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
		// The insights of the server's data that are ongoing (the closed
		// ones closed in 2021, before the lookback).
		apiGW5xx   = "AIYH6JxdbgkcG0xJmypiL4MAAAAAAAAAL0SLEjkxiNProXWcsTJbLU07EZ7XXXX"
		lambdaErrs = "AKw3fQb1NmZr8pYtV6cLxJ4AAAAAAAAAH1uDsQe7kWnP2gTmYvBzRc5oLa9XXXX"
		workerConc = "APJ2mGQWxVcuT7sYpL0aKqoAAAAAAAAAF3ZkRnWq9tHcVbY5eXoLsM1pUd8XXXX"
	)
	var list api.InsightList
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && list.Total < 3; time.Sleep(100 * time.Millisecond) {
		getJSON(t, base+"/api/insights", &list)
	}
	if d := cmp.Diff([]string{apiGW5xx, lambdaErrs, workerConc}, insightIDs(list.Insights)); d != "" {
		var st StatusDoc
		getJSON(t, base+"/api/status", &st)
		t.Fatalf("insights (-want +got):\n%s\nstatus: %+v", d, st.DevOpsGuru)
	}

	var stacks api.ComponentList
	getJSON(t, base+"/api/components?type=aws.cloudformation.stack&name=shop-infra", &stacks)
	if len(stacks.Components) != 1 {
		t.Fatalf("%d stacks named shop-infra", len(stacks.Components))
	}
	stack := stacks.Components[0].ID
	lambda := list.Insights[1]
	if d := cmp.Diff([]string{stack, orders, apiFn}, lambda.Components); d != "" || lambda.Unmatched != 0 || lambda.Account != "123456789012" ||
		lambda.Region != "eu-west-1" || lambda.Description == "" {
		t.Errorf("insight %s: %+v (components -want +got:\n%s)", lambda.Name, lambda, d)
	}
	if gw := list.Insights[0]; len(gw.Components) != 0 || gw.Unmatched != 3 {
		t.Errorf("insight %s: %+v", gw.Name, gw)
	}

	for id, want := range map[string][]string{apiFn: {lambdaErrs}, orders: {lambdaErrs}, stack: {lambdaErrs}, workerFn: {workerConc}} {
		var ci api.ComponentInsights
		getJSON(t, base+"/api/components/"+url.PathEscape(id)+"/insights", &ci)
		if ci.Component != id || !slices.Equal(insightIDs(ci.Insights), want) {
			t.Errorf("insights of %s: %s %v, want %v", id, ci.Component, insightIDs(ci.Insights), want)
		}
	}
	var d api.ComponentDetail
	getJSON(t, base+"/api/components/"+url.PathEscape(orders), &d)
	if !slices.Equal(insightIDs(d.Insights), []string{lambdaErrs}) {
		t.Errorf("details of %s: insights %v", orders, insightIDs(d.Insights))
	}

	var st StatusDoc
	getJSON(t, base+"/api/status", &st)
	if st.DevOpsGuru == nil || st.DevOpsGuru.Insights != 3 || st.DevOpsGuru.Mapped != 2 || st.DevOpsGuru.Unmatched != 3 {
		t.Fatalf("status devopsguru %+v", st.DevOpsGuru)
	}
	var regions []string
	for _, sc := range st.DevOpsGuru.Scopes {
		regions = append(regions, sc.Account+"/"+sc.Region)
		if sc.LastError != "" {
			t.Errorf("scope %+v", sc)
		}
	}
	if !slices.Equal(regions, []string{"123456789012/eu-west-1", "123456789012/us-east-1"}) {
		t.Errorf("scopes %v", regions)
	}

	dg.Deny("ListInsights", true)
	var acct *AccountStatus
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		getJSON(t, base+"/api/status", &st)
		if acct = accountOf(st, "123456789012"); acct != nil && slices.Contains(acct.Denied, "devops-guru:ListInsights") {
			break
		}
	}
	if acct == nil || acct.State != "partially connected" || !slices.Contains(acct.Denied, "devops-guru:ListInsights") {
		t.Fatalf("account state %+v", acct)
	}
	var eu devopsguru.ScopeStatus
	for _, sc := range st.DevOpsGuru.Scopes {
		if sc.Region == "eu-west-1" {
			eu = sc
		}
	}
	if eu.LastError != "not authorized to perform devops-guru:ListInsights (AccessDeniedException)" || eu.Insights != 3 {
		t.Errorf("scope while denied %+v", eu)
	}
	getJSON(t, base+"/api/insights", &list)
	if list.Total != 3 {
		t.Errorf("%d insights while ListInsights is denied, want the 3 read before", list.Total)
	}
}

func insightIDs(ins []devopsguru.Insight) []string {
	out := []string{}
	for _, in := range ins {
		out = append(out, in.ID)
	}
	return out
}

func accountOf(st StatusDoc, account string) *AccountStatus {
	for i := range st.Accounts {
		if st.Accounts[i].Account == account {
			return &st.Accounts[i]
		}
	}
	return nil
}

package devopsguru

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/devopsguru"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// The insights of awstest's DevOps Guru data (testdata/devopsguru there).
const (
	apiGW5xx   = "AIYH6JxdbgkcG0xJmypiL4MAAAAAAAAAL0SLEjkxiNProXWcsTJbLU07EZ7XXXX" // ongoing, HIGH, nothing in the map
	lambdaErrs = "AKw3fQb1NmZr8pYtV6cLxJ4AAAAAAAAAH1uDsQe7kWnP2gTmYvBzRc5oLa9XXXX" // ongoing, MEDIUM: function api, table orders
	ddbThrottl = "AMd9sTq4HxWb2nKvR7eZcP1AAAAAAAAAB6yFoLu3iGjN8mTsXqVaEw0rKc5XXXX" // closed 2021-11-01T09:30Z: table sessions
	sqsOld     = "ANr5kVx2TqGm7cWbH3pYsL8AAAAAAAAAD4eJnZo1uRfK6vQaMtXyBw9iPe2XXXX" // closed 2021-10-20, before the lookback
	workerConc = "APJ2mGQWxVcuT7sYpL0aKqoAAAAAAAAAF3ZkRnWq9tHcVbY5eXoLsM1pUd8XXXX" // proactive, ongoing, LOW: function worker
)

const (
	acct   = "123456789012"
	region = "eu-west-1"
	fnAPI  = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-api"
	fnWork = "arn:aws:lambda:eu-west-1:123456789012:function:skymap-demo-worker"
	tOrder = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
	tSess  = "arn:aws:dynamodb:eu-west-1:123456789012:table/sessions"
	stack  = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-infra/5e1a2b3c-0000-4000-8000-000000000001"
)

// t0 is the tests' clock: a day after the data's insights began.
var t0 = time.Date(2021, 11, 2, 12, 0, 0, 0, time.UTC)

// testComp is a component of the tests' account and region.
func testComp(id, typ, name string, data map[string]any) model.Component {
	return model.Component{ID: id, Type: typ, Name: name, Account: acct, Region: region, Data: data}
}

// testGraph holds the functions, tables and stack the data names, and
// more.
func testGraph(t *testing.T, more ...model.Component) *topology.Graph {
	t.Helper()
	g := topology.New(nil)
	_, err := g.Apply(context.Background(), "scan", []model.Snapshot{{Scope: model.Scope{Account: acct, Region: region, Type: "x"}, Complete: true,
		Components: append([]model.Component{
			testComp(fnAPI, "aws.lambda.function", "skymap-demo-api", map[string]any{"FunctionName": "skymap-demo-api"}),
			testComp(fnWork, "aws.lambda.function", "skymap-demo-worker", map[string]any{"FunctionName": "skymap-demo-worker"}),
			testComp(tOrder, "aws.dynamodb.table", "orders", map[string]any{"TableName": "orders"}),
			testComp(tSess, "aws.dynamodb.table", "sessions", map[string]any{"TableName": "sessions"}),
			testComp(stack, typeStack, "Shop (tagged Name)", map[string]any{"StackName": "shop-infra"}),
		}, more...)}})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// newTestRefresher returns a refresher of g reading srv, at *now.
func newTestRefresher(g Graph, srv *awstest.DevOpsGuru, now *time.Time) *Refresher {
	client := devopsguru.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	return &Refresher{Graph: g, Now: func() time.Time { return *now },
		Clients: func(_ context.Context, account, reg string) (API, error) { return client, nil }}
}

func ids(ins []Insight) []string {
	out := []string{}
	for _, in := range ins {
		out = append(out, in.ID)
	}
	return out
}

func find(t *testing.T, ins []Insight, id string) Insight {
	t.Helper()
	for _, in := range ins {
		if in.ID == id {
			return in
		}
	}
	t.Fatalf("no insight %s among %v", id, ids(ins))
	return Insight{}
}

func callsOf(st Stats) map[string]model.CallStatus {
	out := map[string]model.CallStatus{}
	for _, c := range st.Calls {
		c.Time = time.Time{}
		out[c.API] = c
	}
	return out
}

// Insights are listed ongoing and closed within the lookback, every page
// of both types; what their anomalies, stacks and ARNs name maps to the
// functions, tables and stack of the map (by CloudFormation type and name,
// by metric dimensions, by stack name); what names nothing known is kept
// and counted; a second refresh reads the anomalies of ongoing insights
// only and describes nothing again.
func TestRefresh(t *testing.T) {
	ctx := context.Background()
	srv := awstest.NewDevOpsGuru(t)
	now := t0
	r := newTestRefresher(testGraph(t), srv, &now)
	r.Refresh(ctx)

	all := r.Insights(Filter{})
	if d := cmp.Diff([]string{apiGW5xx, lambdaErrs, workerConc, ddbThrottl}, ids(all)); d != "" {
		t.Fatalf("insights (-want +got):\n%s", d)
	}

	// What was asked: both types, ongoing and closed in [now-7d, now].
	var filters []string
	for _, body := range srv.Requests("ListInsights") {
		f := body["StatusFilter"].(map[string]any)
		for kind, v := range f {
			m := v.(map[string]any)
			s := kind + " " + m["Type"].(string)
			if tr, ok := m["EndTimeRange"].(map[string]any); ok {
				s += " " + time.Unix(int64(tr["FromTime"].(float64)), 0).UTC().Format(time.RFC3339) +
					" " + time.Unix(int64(tr["ToTime"].(float64)), 0).UTC().Format(time.RFC3339)
			}
			if _, ok := body["NextToken"]; ok {
				s += " (next page)"
			}
			filters = append(filters, s)
		}
	}
	want := []string{"Ongoing REACTIVE", "Ongoing REACTIVE (next page)", "Closed REACTIVE 2021-10-26T12:00:00Z 2021-11-02T12:00:00Z",
		"Ongoing PROACTIVE", "Closed PROACTIVE 2021-10-26T12:00:00Z 2021-11-02T12:00:00Z"}
	if d := cmp.Diff(want, filters); d != "" {
		t.Errorf("ListInsights requests (-want +got):\n%s", d)
	}

	in := find(t, all, lambdaErrs)
	if d := cmp.Diff([]string{stack, tOrder, fnAPI}, in.Components); d != "" {
		t.Errorf("components of %s (-want +got):\n%s", in.Name, d)
	}
	wantRes := []Resource{
		{Kind: KindStack, Type: "AWS::CloudFormation::Stack", Name: "shop-infra", Component: stack},
		{Kind: KindResource, Type: "AWS::Lambda::Function", Name: "skymap-demo-api", Component: fnAPI},
		{Kind: KindMetric, Type: "AWS/Lambda", Name: "Errors", Dimensions: map[string]string{"FunctionName": "skymap-demo-api"}, Component: fnAPI},
		{Kind: KindResource, Type: "AWS::DynamoDB::Table", Name: "orders", Component: tOrder},
		{Kind: KindMetric, Type: "AWS/DynamoDB", Name: "SuccessfulRequestLatency",
			Dimensions: map[string]string{"TableName": "orders", "Operation": "GetItem"}, Component: tOrder},
	}
	if d := cmp.Diff(wantRes, in.Resources); d != "" {
		t.Errorf("resources of %s (-want +got):\n%s", in.Name, d)
	}
	if in.Anomalies != 2 || in.Unmatched != 0 || in.Status != StatusOngoing || in.Severity != SeverityMedium || in.Type != TypeReactive ||
		in.Description != "Lambda Errors Anomalous In Stack shop-infra" || in.End != nil ||
		!in.Start.Equal(time.Date(2021, 11, 1, 18, 0, 0, 0, time.UTC)) ||
		in.ConsoleURL != "https://eu-west-1.console.aws.amazon.com/devops-guru/#/insight/reactive/"+lambdaErrs {
		t.Errorf("insight %+v", in)
	}

	gw := find(t, all, apiGW5xx)
	if len(gw.Components) != 0 || gw.Unmatched != 3 || gw.OpsItem != "oi-1a2b3c4d5e6f" || gw.Severity != SeverityHigh {
		t.Errorf("the API Gateway insight, which names nothing in the map: %+v", gw)
	}
	closed := find(t, all, ddbThrottl)
	if d := cmp.Diff([]string{stack, tSess}, closed.Components); d != "" || closed.Status != StatusClosed ||
		closed.End == nil || !closed.End.Equal(time.Date(2021, 11, 1, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("closed insight %+v (components -want +got:\n%s)", closed, d)
	}
	pro := find(t, all, workerConc)
	if d := cmp.Diff([]string{fnWork}, pro.Components); d != "" || pro.Type != TypeProactive || pro.Unmatched != 0 ||
		pro.PredictedStart == nil || !pro.PredictedStart.Equal(time.Date(2021, 11, 2, 15, 0, 0, 0, time.UTC)) ||
		!cmp.Equal(pro.Tags, []Tag{{AppBoundaryKey: "devops-guru-shop", Values: []string{"checkout"}}}) ||
		!cmp.Equal(pro.Services, []string{"LAMBDA"}) ||
		pro.ConsoleURL != "https://eu-west-1.console.aws.amazon.com/devops-guru/#/insight/proactive/"+workerConc {
		t.Errorf("proactive insight %+v (components -want +got:\n%s)", pro, d)
	}

	if d := cmp.Diff([]string{lambdaErrs, ddbThrottl}, ids(r.InsightsOf(stack))); d != "" {
		t.Errorf("insights of the stack (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{lambdaErrs}, ids(r.InsightsOf(fnAPI))); d != "" {
		t.Errorf("insights of the function (-want +got):\n%s", d)
	}
	for f, want := range map[Filter][]string{
		{Status: "closed"}:                   {ddbThrottl},
		{Severity: "HIGH"}:                   {apiGW5xx},
		{Type: "proactive"}:                  {workerConc},
		{Account: acct, Region: "us-east-1"}: {},
	} {
		if d := cmp.Diff(want, ids(r.Insights(f))); d != "" {
			t.Errorf("Insights(%+v) (-want +got):\n%s", f, d)
		}
	}

	st := r.Stats()
	if st.Insights != 4 || st.Ongoing != 3 || st.Mapped != 3 || st.Unmatched != 3 || !st.Refreshed.Equal(t0) {
		t.Errorf("stats %+v", st)
	}
	if d := cmp.Diff([]string{"stack TestStack", "AWS::ApiGateway::RestApi Test API Service",
		"metric AWS/ApiGateway 5XXError ApiName=Test API Service,Stage=prod"}, st.UnmatchedResources); d != "" {
		t.Errorf("unmatched resources (-want +got):\n%s", d)
	}
	wantCalls := map[string]model.CallStatus{
		actionList:      {Account: acct, Region: region, API: actionList, Outcome: model.OutcomeOK, Calls: 5},
		actionDescribe:  {Account: acct, Region: region, API: actionDescribe, Outcome: model.OutcomeOK, Calls: 4},
		actionAnomalies: {Account: acct, Region: region, API: actionAnomalies, Outcome: model.OutcomeOK, Calls: 5},
	}
	if d := cmp.Diff(wantCalls, callsOf(st)); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]ScopeStatus{{Account: acct, Region: region, Insights: 4, Ongoing: 3, Listed: t0, Calls: 14, Denied: []string{}}}, st.Scopes); d != "" {
		t.Errorf("scopes (-want +got):\n%s", d)
	}

	// Fifteen minutes later nothing changed: the ongoing insights' anomalies
	// are read again (1 + 2 pages + 1), the closed one's are not, and no
	// insight is described again.
	now = t0.Add(15 * time.Minute)
	r.Refresh(ctx)
	st = r.Stats()
	if c := callsOf(st); c[actionAnomalies].Calls != 4 || c[actionDescribe].Calls != 0 || c[actionList].Calls != 5 {
		t.Errorf("second refresh's calls %+v", st.Calls)
	}
	if got := find(t, r.Insights(Filter{}), ddbThrottl); !cmp.Equal(got.Components, []string{stack, tSess}) ||
		got.Description == "" {
		t.Errorf("the closed insight lost what was read of it: %+v", got)
	}
}

// A denied devops-guru:ListInsights is reported naming the action, and the
// account-region keeps the insights of its last complete listing, less
// those closed longer than the lookback ago; a denied
// ListAnomaliesForInsight is asked once a refresh and the insights keep
// the resources read before.
func TestRefreshDenied(t *testing.T) {
	ctx := context.Background()
	srv := awstest.NewDevOpsGuru(t)
	now := t0
	r := newTestRefresher(testGraph(t), srv, &now)
	r.Refresh(ctx)
	if n := len(r.Insights(Filter{})); n != 4 {
		t.Fatalf("%d insights before the denial", n)
	}

	srv.Deny("ListInsights", true)
	now = t0.Add(8 * 24 * time.Hour) // the closed insight ended more than 7 days ago
	r.Refresh(ctx)
	st := r.Stats()
	list := callsOf(st)[actionList]
	if list.Outcome != model.OutcomeDenied || list.Calls != 1 ||
		list.Detail != "not authorized to perform devops-guru:ListInsights (AccessDeniedException)" {
		t.Errorf("ListInsights outcome %+v", list)
	}
	if d := cmp.Diff([]ScopeStatus{{Account: acct, Region: region, Insights: 3, Ongoing: 3, Listed: t0, Calls: 1,
		Denied:    []string{actionList},
		LastError: "not authorized to perform devops-guru:ListInsights (AccessDeniedException)"}}, st.Scopes); d != "" {
		t.Errorf("scopes (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{apiGW5xx, lambdaErrs, workerConc}, ids(r.Insights(Filter{}))); d != "" {
		t.Errorf("insights kept (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{lambdaErrs}, ids(r.InsightsOf(fnAPI))); d != "" {
		t.Errorf("insights of the function while denied (-want +got):\n%s", d)
	}

	srv.Deny("ListInsights", false)
	srv.Deny("ListAnomaliesForInsight", true)
	r.Refresh(ctx)
	st = r.Stats()
	anom := callsOf(st)[actionAnomalies]
	if anom.Outcome != model.OutcomeDenied || anom.Calls != 1 || callsOf(st)[actionList].Outcome != model.OutcomeOK {
		t.Errorf("calls %+v", st.Calls)
	}
	if sc := st.Scopes[0]; !cmp.Equal(sc.Denied, []string{actionAnomalies}) || !sc.Listed.Equal(now) {
		t.Errorf("scope %+v", sc)
	}
	if got := find(t, r.Insights(Filter{}), lambdaErrs); !cmp.Equal(got.Components, []string{stack, tOrder, fnAPI}) || got.Anomalies != 2 {
		t.Errorf("the insight lost its anomalies' resources: %+v", got)
	}
}

// At most MaxPerScope insights are kept, ongoing first, then the most
// recent, and the status says how many were dropped.
func TestRefreshBound(t *testing.T) {
	srv := awstest.NewDevOpsGuru(t)
	srv.SetPageSize(100)
	now := t0
	r := newTestRefresher(testGraph(t), srv, &now)
	r.MaxPerScope = 2
	r.Refresh(context.Background())
	if d := cmp.Diff([]string{lambdaErrs, workerConc}, ids(r.Insights(Filter{}))); d != "" {
		t.Errorf("insights kept (-want +got):\n%s", d)
	}
	if sc := r.Stats().Scopes; len(sc) != 1 || sc[0].Dropped != 2 || sc[0].Insights != 2 {
		t.Errorf("scopes %+v", sc)
	}
	if n := len(srv.Requests("ListInsights")); n != 4 {
		t.Errorf("%d ListInsights calls with pages of 100, want 4", n)
	}
}

func TestMatcher(t *testing.T) {
	// A stack named as the API Gateway insight's, in another account.
	other := testComp("arn:aws:cloudformation:eu-west-1:111111111111:stack/TestStack/1", typeStack, "TestStack", map[string]any{"StackName": "TestStack"})
	other.Account = "111111111111"
	m := newMatcher(testGraph(t, other))
	for _, tt := range []struct {
		name string
		r    Resource
		want string
	}{
		{"function by name", Resource{Kind: KindResource, Type: "AWS::Lambda::Function", Name: "skymap-demo-api"}, fnAPI},
		{"function by ARN", Resource{Kind: KindResource, Type: "AWS::Lambda::Function", Name: fnAPI}, fnAPI},
		{"unknown type by ARN", Resource{Kind: KindResource, Type: "AWS::DynamoDB::GlobalTable", Name: tOrder}, tOrder},
		{"unknown type by name", Resource{Kind: KindResource, Type: "AWS::DynamoDB::GlobalTable", Name: "orders"}, ""},
		{"function not in the map", Resource{Kind: KindResource, Type: "AWS::Lambda::Function", Name: "gone"}, ""},
		{"table metric with more dimensions", Resource{Kind: KindMetric, Type: "AWS/DynamoDB", Name: "ThrottledRequests",
			Dimensions: map[string]string{"TableName": "sessions", "Operation": "PutItem"}}, tSess},
		{"metric of another namespace", Resource{Kind: KindMetric, Type: "AWS/SQS", Name: "NumberOfMessagesSent",
			Dimensions: map[string]string{"TableName": "sessions"}}, ""},
		{"stack by name, not by its Name tag", Resource{Kind: KindStack, Name: "shop-infra"}, stack},
		{"stack of another account", Resource{Kind: KindStack, Name: "TestStack"}, ""},
		{"associated ARN", Resource{Kind: KindARN, Name: fnWork}, fnWork},
	} {
		if got := m.component(acct, region, tt.r); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// An account-region whose client cannot be made (its role cannot be
// assumed) reports the failure naming it, and keeps nothing it never read.
func TestRefreshNoClient(t *testing.T) {
	now := t0
	r := &Refresher{Graph: testGraph(t), Now: func() time.Time { return now },
		Clients: func(context.Context, string, string) (API, error) {
			return nil, errors.New("role cannot be assumed now")
		}}
	r.Refresh(context.Background())
	st := r.Stats()
	want := []ScopeStatus{{Account: acct, Region: region, Calls: 1, Denied: []string{},
		LastError: "devops guru client of 123456789012/eu-west-1: role cannot be assumed now"}}
	if d := cmp.Diff(want, st.Scopes); d != "" || st.Insights != 0 || callsOf(st)[actionList].Outcome != model.OutcomeFailed {
		t.Errorf("stats %+v (scopes -want +got:\n%s)", st, d)
	}
}

// Run refreshes at once and every Interval, and returns when ctx is
// cancelled.
func TestRun(t *testing.T) {
	srv := awstest.NewDevOpsGuru(t)
	now := t0
	r := newTestRefresher(testGraph(t), srv, &now)
	r.Interval = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.Requests("ListInsights")) < 2*5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after ctx was cancelled")
	}
	if n := len(srv.Requests("ListInsights")); n < 2*5 {
		t.Errorf("%d ListInsights calls, want two refreshes' (10) at least", n)
	}
	if got := len(r.Insights(Filter{})); got != 4 {
		t.Errorf("%d insights after Run", got)
	}
}

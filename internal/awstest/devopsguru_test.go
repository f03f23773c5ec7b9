package awstest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/devopsguru"
	"github.com/aws/aws-sdk-go-v2/service/devopsguru/types"
	"github.com/aws/smithy-go"
)

// The fake answers the SDK as DevOps Guru does: filtered, paged insights
// and anomalies in the data's region and none in another, AWS's errors for
// a request breaking the API's constraints, an unknown insight, a denied
// operation and an unsigned request.
func TestDevOpsGuru(t *testing.T) {
	d := NewDevOpsGuru(t)
	ctx := context.Background()
	c := devopsguru.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(d.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return ""
	}

	var statuses []string
	p := devopsguru.NewListInsightsPaginator(c, &devopsguru.ListInsightsInput{StatusFilter: &types.ListInsightsStatusFilter{
		Ongoing: &types.ListInsightsOngoingStatusFilter{Type: types.InsightTypeReactive}}})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, in := range page.ReactiveInsights {
			statuses = append(statuses, string(in.Status))
		}
	}
	if !slices.Equal(statuses, []string{"ONGOING", "ONGOING"}) || pages != 2 {
		t.Errorf("ongoing reactive insights %v in %d pages, want 2 ONGOING in 2", statuses, pages)
	}

	closed, err := c.ListInsights(ctx, &devopsguru.ListInsightsInput{StatusFilter: &types.ListInsightsStatusFilter{
		Closed: &types.ListInsightsClosedStatusFilter{Type: types.InsightTypeReactive, EndTimeRange: &types.EndTimeRange{
			FromTime: aws.Time(time.Date(2021, 10, 30, 0, 0, 0, 0, time.UTC)), ToTime: aws.Time(time.Date(2021, 11, 2, 0, 0, 0, 0, time.UTC))}}}})
	if err != nil || len(closed.ReactiveInsights) != 1 || closed.ReactiveInsights[0].InsightTimeRange.EndTime == nil {
		t.Errorf("closed insights since 2021-10-30: %+v, %v", closed, err)
	}

	_, err = c.ListInsights(ctx, &devopsguru.ListInsightsInput{StatusFilter: &types.ListInsightsStatusFilter{
		Ongoing: &types.ListInsightsOngoingStatusFilter{Type: types.InsightTypeReactive},
		Closed: &types.ListInsightsClosedStatusFilter{Type: types.InsightTypeReactive, EndTimeRange: &types.EndTimeRange{
			FromTime: aws.Time(time.Unix(0, 0))}}}})
	if code(err) != "ValidationException" {
		t.Errorf("two status filters: %v, want ValidationException", err)
	}

	if _, err := c.DescribeInsight(ctx, &devopsguru.DescribeInsightInput{Id: aws.String("nosuchinsight")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("unknown insight: %v, want ResourceNotFoundException", err)
	}
	var anomalies int
	ap := devopsguru.NewListAnomaliesForInsightPaginator(c, &devopsguru.ListAnomaliesForInsightInput{
		InsightId: aws.String("AKw3fQb1NmZr8pYtV6cLxJ4AAAAAAAAAH1uDsQe7kWnP2gTmYvBzRc5oLa9XXXX")})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		anomalies += len(page.ReactiveAnomalies)
		for _, a := range page.ReactiveAnomalies {
			if len(a.AnomalyResources) != 1 || a.SourceDetails == nil || len(a.SourceDetails.CloudWatchMetrics) != 1 {
				t.Errorf("anomaly %s lacks its resource or metric", aws.ToString(a.Id))
			}
		}
	}
	if anomalies != 2 {
		t.Errorf("%d anomalies, want 2", anomalies)
	}

	east := devopsguru.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(d.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	if out, err := east.ListInsights(ctx, &devopsguru.ListInsightsInput{StatusFilter: &types.ListInsightsStatusFilter{
		Ongoing: &types.ListInsightsOngoingStatusFilter{Type: types.InsightTypeReactive}}}); err != nil || len(out.ReactiveInsights) != 0 {
		t.Errorf("insights in us-east-1, which has none: %+v, %v", out, err)
	}

	d.Deny("DescribeInsight", true)
	_, err = c.DescribeInsight(ctx, &devopsguru.DescribeInsightInput{Id: aws.String("AKw3fQb1NmZr8pYtV6cLxJ4AAAAAAAAAH1uDsQe7kWnP2gTmYvBzRc5oLa9XXXX")})
	var denied *types.AccessDeniedException
	if !errors.As(err, &denied) {
		t.Errorf("denied DescribeInsight: %v", err)
	}

	resp, err := http.Post(d.URL+"/insights", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned request: %s %s", resp.Status, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

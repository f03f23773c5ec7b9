package devopsguru

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/devopsguru"
	"github.com/aws/aws-sdk-go-v2/service/devopsguru/types"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/model"
)

// tally records the outcomes of one refresh's calls in one account and
// region, per IAM action: how many calls, the worst outcome and the
// detail of the last failure.
type tally struct {
	account, region string
	now             time.Time
	byAPI           map[string]*model.CallStatus
	// firstErr is the detail of the first call that did not work.
	firstErr string
}

func newTally(account, region string, now time.Time) *tally {
	return &tally{account: account, region: region, now: now, byAPI: map[string]*model.CallStatus{}}
}

// outcomeRank orders outcomes, worst highest.
var outcomeRank = map[string]int{model.OutcomeOK: 0, model.OutcomeThrottled: 1, model.OutcomeFailed: 2, model.OutcomeDenied: 3}

// record counts one call of api that ended with err.
func (t *tally) record(api string, err error) {
	outcome, detail := awsconn.Classify(err)
	c := t.byAPI[api]
	if c == nil {
		c = &model.CallStatus{Account: t.account, Region: t.region, API: api, Outcome: model.OutcomeOK, Time: t.now.UTC()}
		t.byAPI[api] = c
	}
	c.Calls++
	if outcome == model.OutcomeOK {
		return
	}
	if outcomeRank[outcome] >= outcomeRank[c.Outcome] {
		c.Outcome = outcome
	}
	c.Detail = detail
	if t.firstErr == "" {
		t.firstErr = detail
	}
}

// denied tells whether a call of api was denied in this refresh: the
// refresh does not ask again.
func (t *tally) denied(api string) bool {
	c := t.byAPI[api]
	return c != nil && c.Outcome == model.OutcomeDenied
}

// statuses returns the outcomes sorted by action.
func (t *tally) statuses() []model.CallStatus {
	out := make([]model.CallStatus, 0, len(t.byAPI))
	for _, api := range slices.Sorted(maps.Keys(t.byAPI)) {
		out = append(out, *t.byAPI[api])
	}
	return out
}

// listInsights returns the insights of one account and region that are
// ongoing or closed in [since, now], reactive and proactive, every page.
// An insight that closed between two calls is listed once, closed.
func listInsights(ctx context.Context, api API, account, region string, since, now time.Time, calls *tally) ([]Insight, error) {
	var out []Insight
	at := map[string]int{}
	add := func(in Insight) {
		in.Account, in.Region, in.ConsoleURL = account, region, consoleURL(region, in.Type, in.ID)
		if i, ok := at[in.ID]; ok {
			out[i] = in
			return
		}
		at[in.ID] = len(out)
		out = append(out, in)
	}
	for _, typ := range []types.InsightType{types.InsightTypeReactive, types.InsightTypeProactive} {
		for _, filter := range []*types.ListInsightsStatusFilter{
			{Ongoing: &types.ListInsightsOngoingStatusFilter{Type: typ}},
			{Closed: &types.ListInsightsClosedStatusFilter{Type: typ,
				EndTimeRange: &types.EndTimeRange{FromTime: aws.Time(since), ToTime: aws.Time(now)}}},
		} {
			p := devopsguru.NewListInsightsPaginator(api, &devopsguru.ListInsightsInput{StatusFilter: filter, MaxResults: aws.Int32(100)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					err = fmt.Errorf("%s (%s) in %s/%s: %w", actionList, strings.ToLower(string(typ)), account, region, err)
				}
				calls.record(actionList, err)
				if err != nil {
					return nil, err
				}
				for _, s := range page.ReactiveInsights {
					add(reactiveOf(s))
				}
				for _, s := range page.ProactiveInsights {
					add(proactiveOf(s))
				}
			}
		}
	}
	return out, nil
}

func reactiveOf(s types.ReactiveInsightSummary) Insight {
	in := Insight{ID: aws.ToString(s.Id), Name: aws.ToString(s.Name), Type: TypeReactive, Status: string(s.Status),
		Severity: string(s.Severity)}
	in.Start, in.End = timeRange(s.InsightTimeRange)
	in.Tags, in.Resources = collectionOf(s.ResourceCollection, s.AssociatedResourceArns)
	in.Services = servicesOf(s.ServiceCollection)
	return in
}

func proactiveOf(s types.ProactiveInsightSummary) Insight {
	in := Insight{ID: aws.ToString(s.Id), Name: aws.ToString(s.Name), Type: TypeProactive, Status: string(s.Status),
		Severity: string(s.Severity)}
	in.Start, in.End = timeRange(s.InsightTimeRange)
	if r := s.PredictionTimeRange; r != nil {
		in.PredictedStart, in.PredictedEnd = utc(r.StartTime), utc(r.EndTime)
	}
	in.Tags, in.Resources = collectionOf(s.ResourceCollection, s.AssociatedResourceArns)
	in.Services = servicesOf(s.ServiceCollection)
	return in
}

func timeRange(r *types.InsightTimeRange) (time.Time, *time.Time) {
	if r == nil {
		return time.Time{}, nil
	}
	return aws.ToTime(r.StartTime).UTC(), utc(r.EndTime)
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// collectionOf returns the tag boundaries of a resource collection and the
// resources it and the associated ARNs name: stacks by name, ARNs.
func collectionOf(rc *types.ResourceCollection, arns []string) ([]Tag, []Resource) {
	var tags []Tag
	var res []Resource
	if rc != nil {
		if rc.CloudFormation != nil {
			for _, name := range rc.CloudFormation.StackNames {
				res = append(res, Resource{Kind: KindStack, Type: "AWS::CloudFormation::Stack", Name: name})
			}
		}
		for _, t := range rc.Tags {
			tags = append(tags, Tag{AppBoundaryKey: aws.ToString(t.AppBoundaryKey), Values: slices.Clone(t.TagValues)})
		}
	}
	for _, a := range arns {
		res = append(res, Resource{Kind: KindARN, Name: a})
	}
	return tags, dedupe(res)
}

func servicesOf(sc *types.ServiceCollection) []string {
	if sc == nil {
		return nil
	}
	out := make([]string, len(sc.ServiceNames))
	for i, s := range sc.ServiceNames {
		out[i] = string(s)
	}
	return out
}

// describe returns an insight's description and OpsItem id. An insight
// deleted since it was listed has neither, and the call counts as ok.
func describe(ctx context.Context, api API, in *Insight, calls *tally) (desc, opsItem string, err error) {
	out, err := api.DescribeInsight(ctx, &devopsguru.DescribeInsightInput{Id: aws.String(in.ID)})
	if gone(err) {
		calls.record(actionDescribe, nil)
		return "", "", nil
	}
	if err != nil {
		err = fmt.Errorf("%s %s in %s/%s: %w", actionDescribe, in.ID, in.Account, in.Region, err)
	}
	calls.record(actionDescribe, err)
	if err != nil {
		return "", "", err
	}
	if r := out.ReactiveInsight; r != nil {
		return aws.ToString(r.Description), aws.ToString(r.SsmOpsItemId), nil
	}
	if p := out.ProactiveInsight; p != nil {
		return aws.ToString(p.Description), aws.ToString(p.SsmOpsItemId), nil
	}
	return "", "", nil
}

// anomalies returns how many anomalies an insight has and the resources
// and metrics they name, every page.
func anomalies(ctx context.Context, api API, in *Insight, calls *tally) (int, []Resource, error) {
	n := 0
	var res []Resource
	p := devopsguru.NewListAnomaliesForInsightPaginator(api, &devopsguru.ListAnomaliesForInsightInput{
		InsightId: aws.String(in.ID), MaxResults: aws.Int32(500)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if gone(err) {
			calls.record(actionAnomalies, nil)
			return n, dedupe(res), nil
		}
		if err != nil {
			err = fmt.Errorf("%s %s in %s/%s: %w", actionAnomalies, in.ID, in.Account, in.Region, err)
		}
		calls.record(actionAnomalies, err)
		if err != nil {
			return 0, nil, err
		}
		for _, a := range page.ReactiveAnomalies {
			n++
			res = append(res, anomalyResources(a.AnomalyResources, a.SourceDetails)...)
		}
		for _, a := range page.ProactiveAnomalies {
			n++
			res = append(res, anomalyResources(a.AnomalyResources, a.SourceDetails)...)
		}
	}
	return n, dedupe(res), nil
}

// anomalyResources returns the resources and CloudWatch metrics an anomaly
// names. Performance Insights metrics name no resource of their own: the
// anomaly's resources name the database.
func anomalyResources(rs []types.AnomalyResource, src *types.AnomalySourceDetails) []Resource {
	var out []Resource
	for _, r := range rs {
		if name := aws.ToString(r.Name); name != "" {
			out = append(out, Resource{Kind: KindResource, Type: aws.ToString(r.Type), Name: name})
		}
	}
	if src != nil {
		for _, m := range src.CloudWatchMetrics {
			dims := make(map[string]string, len(m.Dimensions))
			for _, d := range m.Dimensions {
				dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
			}
			out = append(out, Resource{Kind: KindMetric, Type: aws.ToString(m.Namespace), Name: aws.ToString(m.MetricName), Dimensions: dims})
		}
	}
	return out
}

// gone tells whether err says the insight no longer exists.
func gone(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// dedupe drops repeated resources, keeping the first of each.
func dedupe(rs []Resource) []Resource {
	seen := map[string]bool{}
	out := rs[:0]
	for _, r := range rs {
		k := resourceKey(r)
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

func resourceKey(r Resource) string {
	var b strings.Builder
	b.WriteString(r.Kind + "\x00" + r.Type + "\x00" + r.Name)
	for _, k := range slices.Sorted(maps.Keys(r.Dimensions)) {
		b.WriteString("\x00" + k + "=" + r.Dimensions[k])
	}
	return b.String()
}

// fromAnomalies tells whether a resource came from the anomalies (not the
// listing).
func fromAnomalies(r Resource) bool { return r.Kind == KindResource || r.Kind == KindMetric }

package inventory

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// API Gateway (REST APIs) component types.
const (
	typeRestAPI   = "aws.apigateway.rest-api"
	typeAPIStage  = "aws.apigateway.stage"
	typeAPIRes    = "aws.apigateway.resource"
	typeAPIMethod = "aws.apigateway.method"
)

// Each links to the API's console page; the short id is the API id.
var apigatewayTypes = map[string]typeInfo{
	typeRestAPI:   {model.LayerNetworking, "/apigateway/main/apis/{id}/resources?api={id}&region={region}", "API Gateway", ""},
	typeAPIStage:  {model.LayerNetworking, "/apigateway/main/apis/{id}/stages?api={id}&region={region}", "API Gateway", ""},
	typeAPIRes:    {model.LayerNetworking, "/apigateway/main/apis/{id}/resources?api={id}&region={region}", "API Gateway", ""},
	typeAPIMethod: {model.LayerNetworking, "/apigateway/main/apis/{id}/resources?api={id}&region={region}", "API Gateway", ""},
}

var apigatewayListings = []listing{
	{"apigateway", "rest_apis", []string{typeRestAPI, typeAPIStage, typeAPIRes, typeAPIMethod}, regional, collectRestAPIs,
		[]string{"apigateway:GET"}},
}

// dnsSuffixes are the DNS suffixes of AWS endpoints per partition.
var dnsSuffixes = map[string]string{
	"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com",
	"aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov", "aws-iso-e": "cloud.adc-e.uk",
	"aws-iso-f": "csp.hci.ic.gov", "aws-eusc": "amazonaws.eu",
}

// executeAPIHost is the default DNS name of an API Gateway API.
func (t Target) executeAPIHost(apiID string) string {
	suffix, ok := dnsSuffixes[t.Partition.ID]
	if !ok {
		suffix = dnsSuffixes["aws"]
	}
	return apiID + ".execute-api." + t.Region + "." + suffix
}

// collectRestAPIs lists the region's REST APIs and, per API (a bounded
// number at a time), its stages and its resources with their methods
// embedded (one call per page instead of one per method).
func collectRestAPIs(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := apigateway.NewFromConfig(t.Config)
	var apis []apigwtypes.RestApi
	p := apigateway.NewGetRestApisPaginator(client, &apigateway.GetRestApisInput{Limit: aws.Int32(500)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, a := range page.Items {
			if aws.ToString(a.Id) == "" {
				res.malformed("apigateway", aws.ToString(a.Name), "REST API without an id")
				continue
			}
			apis = append(apis, a)
		}
	}
	return res, describeEach(ctx, &res, apis,
		func(a apigwtypes.RestApi) string { return "rest api " + aws.ToString(a.Id) },
		func(ctx context.Context, a apigwtypes.RestApi, out *Result) error {
			return restAPI(ctx, t, client, a, out)
		})
}

// restAPI describes one REST API with its stages, resources and methods;
// an API deleted since it was listed is left out.
func restAPI(ctx context.Context, t Target, client *apigateway.Client, a apigwtypes.RestApi, res *Result) error {
	id := aws.ToString(a.Id)
	arn := "arn:" + t.Partition.ID + ":apigateway:" + t.Region + "::/restapis/" + id
	var failures []error
	stages, err := client.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: a.Id})
	keep, failure := detailOutcome(err)
	if !keep {
		return failure
	}
	failures = append(failures, failure)
	var resources []apigwtypes.Resource
	p := apigateway.NewGetResourcesPaginator(client, &apigateway.GetResourcesInput{RestApiId: a.Id,
		Embed: []string{"methods"}, Limit: aws.Int32(500)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			keep, failure := detailOutcome(err)
			if !keep {
				return failure
			}
			failures = append(failures, failure)
			break
		}
		resources = append(resources, page.Items...)
	}
	res.Components = append(res.Components, t.component(resource{typ: typeRestAPI, id: arn, short: id,
		name: aws.ToString(a.Name), tags: a.Tags, idents: []string{endpointURN(t.executeAPIHost(id))}, data: a}))

	var resIDs []string
	for _, r := range resources {
		rid := aws.ToString(r.Id)
		if rid == "" {
			res.malformed("apigateway", arn, "resource without an id")
			continue
		}
		rarn := arn + "/resources/" + rid
		resIDs = append(resIDs, rarn)
		methods := r.ResourceMethods
		r.ResourceMethods = nil
		res.Components = append(res.Components, t.component(resource{typ: typeAPIRes, id: rarn, short: id,
			name: aws.ToString(r.Path), data: r}))
		for _, verb := range slices.Sorted(maps.Keys(methods)) {
			m := methods[verb]
			marn := rarn + "/methods/" + verb
			res.Components = append(res.Components, t.component(resource{typ: typeAPIMethod, id: marn, short: id,
				name: verb + " " + aws.ToString(r.Path), data: m}))
			res.Relations = append(res.Relations, rel(rarn, marn, model.UsesService))
			if m.MethodIntegration != nil {
				if target := t.integrationTarget(string(m.MethodIntegration.Type), aws.ToString(m.MethodIntegration.Uri)); target != "" {
					res.Relations = append(res.Relations, rel(marn, target, model.UsesService))
				}
			}
		}
	}
	if stages != nil {
		for _, s := range stages.Item {
			name := aws.ToString(s.StageName)
			if name == "" {
				res.malformed("apigateway", arn, "stage without a name")
				continue
			}
			sarn := arn + "/stages/" + name
			res.Components = append(res.Components, t.component(resource{typ: typeAPIStage, id: sarn, short: id,
				name: aws.ToString(a.Name) + "/" + name, tags: s.Tags, data: s}))
			res.Relations = append(res.Relations, rel(arn, sarn, model.HasResource))
			for _, rarn := range resIDs {
				res.Relations = append(res.Relations, rel(sarn, rarn, model.UsesService))
			}
		}
	}
	return errors.Join(failures...)
}

// integrationTarget is the identifier of what an integration calls, or "":
// a Lambda function (AWS and AWS_PROXY integrations with a
// ".../functions/<function ARN>/invocations" URI), an SQS queue
// ("arn:<p>:apigateway:<region>:sqs:path/<account>/<queue>"), or the host
// of an HTTP integration as urn:service:/<host>.
func (t Target) integrationTarget(typ, uri string) string {
	switch strings.ToUpper(typ) {
	case "HTTP", "HTTP_PROXY":
		u, err := url.Parse(uri)
		if err != nil || u.Hostname() == "" {
			return ""
		}
		return "urn:service:/" + strings.ToLower(u.Hostname())
	case "AWS", "AWS_PROXY":
	default:
		return ""
	}
	a, ok := partition.ParseARN(uri)
	if !ok || a.Service != "apigateway" {
		return ""
	}
	switch {
	case a.Account == "lambda" && strings.Contains(a.Resource, "/functions/"):
		fn := a.Resource[strings.Index(a.Resource, "/functions/")+len("/functions/"):]
		fn = strings.TrimSuffix(fn, "/invocations")
		if _, ok := partition.ParseARN(fn); ok {
			return unqualifiedVersion(fn)
		}
	case a.Account == "sqs" && strings.HasPrefix(a.Resource, "path/"):
		seg := strings.Split(strings.TrimPrefix(a.Resource, "path/"), "/")
		if len(seg) >= 2 && partition.IsAccountID(seg[0]) && seg[1] != "" {
			return "arn:" + a.Partition + ":sqs:" + a.Region + ":" + seg[0] + ":" + seg[1]
		}
	}
	return ""
}

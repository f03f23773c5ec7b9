package inventory

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apigw2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// API Gateway v2 (HTTP and WebSocket APIs) component types.
const (
	typeAPIv2            = "aws.apigatewayv2.api"
	typeAPIv2Stage       = "aws.apigatewayv2.stage"
	typeAPIv2Route       = "aws.apigatewayv2.route"
	typeAPIv2Integration = "aws.apigatewayv2.integration"
)

// Each links to the API's console page; the short id is the API id.
var apigatewayv2Types = map[string]typeInfo{
	typeAPIv2:            {model.LayerNetworking, "/apigateway/main/api-detail?api={id}&region={region}", "API Gateway", ""},
	typeAPIv2Stage:       {model.LayerNetworking, "/apigateway/main/develop/stages?api={id}&region={region}", "API Gateway", ""},
	typeAPIv2Route:       {model.LayerNetworking, "/apigateway/main/develop/routes?api={id}&region={region}", "API Gateway", ""},
	typeAPIv2Integration: {model.LayerNetworking, "/apigateway/main/develop/integrations?api={id}&region={region}", "API Gateway", ""},
}

var apigatewayv2Listings = []listing{
	{"apigatewayv2", "apis", []string{typeAPIv2, typeAPIv2Stage, typeAPIv2Route, typeAPIv2Integration}, regional, collectAPIsV2,
		[]string{"apigateway:GET"}},
}

// v2Page is the page size of API Gateway v2 calls (a string in the API).
const v2Page = "500"

// collectAPIsV2 lists the region's HTTP and WebSocket APIs and, per API (a
// bounded number at a time), its stages, routes and integrations.
func collectAPIsV2(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := apigatewayv2.NewFromConfig(t.Config)
	var apis []apigw2types.Api
	for in := (&apigatewayv2.GetApisInput{MaxResults: aws.String(v2Page)}); ; {
		out, err := client.GetApis(ctx, in)
		if err != nil {
			return res, err
		}
		for _, a := range out.Items {
			if aws.ToString(a.ApiId) == "" {
				res.malformed("apigatewayv2", aws.ToString(a.Name), "API without an id")
				continue
			}
			apis = append(apis, a)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return res, describeEach(ctx, &res, apis,
		func(a apigw2types.Api) string { return "api " + aws.ToString(a.ApiId) },
		func(ctx context.Context, a apigw2types.Api, out *Result) error {
			return apiV2(ctx, t, client, a, out)
		})
}

// v2Pages calls get with each page token until the last page, and sorts
// the error of a detail call as detailOutcome does.
func v2Pages(get func(token *string) (*string, error)) (bool, error) {
	var token *string
	for {
		next, err := get(token)
		if err != nil {
			return detailOutcome(err)
		}
		if aws.ToString(next) == "" {
			return true, nil
		}
		token = next
	}
}

// apiV2 describes one API with its stages, routes and integrations; an API
// deleted since it was listed is left out.
func apiV2(ctx context.Context, t Target, client *apigatewayv2.Client, a apigw2types.Api, res *Result) error {
	id := aws.ToString(a.ApiId)
	arn := "arn:" + t.Partition.ID + ":apigateway:" + t.Region + "::/apis/" + id
	var (
		stages       []apigw2types.Stage
		routes       []apigw2types.Route
		integrations []apigw2types.Integration
		failures     []error
	)
	calls := []func(token *string) (*string, error){
		func(token *string) (*string, error) {
			out, err := client.GetStages(ctx, &apigatewayv2.GetStagesInput{ApiId: a.ApiId, MaxResults: aws.String(v2Page), NextToken: token})
			if err != nil {
				return nil, err
			}
			stages = append(stages, out.Items...)
			return out.NextToken, nil
		},
		func(token *string) (*string, error) {
			out, err := client.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: a.ApiId, MaxResults: aws.String(v2Page), NextToken: token})
			if err != nil {
				return nil, err
			}
			routes = append(routes, out.Items...)
			return out.NextToken, nil
		},
		func(token *string) (*string, error) {
			out, err := client.GetIntegrations(ctx, &apigatewayv2.GetIntegrationsInput{ApiId: a.ApiId, MaxResults: aws.String(v2Page), NextToken: token})
			if err != nil {
				return nil, err
			}
			integrations = append(integrations, out.Items...)
			return out.NextToken, nil
		},
	}
	for _, call := range calls {
		keep, failure := v2Pages(call)
		if !keep {
			return failure
		}
		failures = append(failures, failure)
	}

	var idents []string
	if u, err := url.Parse(aws.ToString(a.ApiEndpoint)); err == nil && u.Hostname() != "" {
		idents = append(idents, endpointURN(u.Hostname()))
	}
	res.Components = append(res.Components, t.component(resource{typ: typeAPIv2, id: arn, short: id,
		name: aws.ToString(a.Name), tags: a.Tags, idents: idents, data: a}))
	for _, s := range stages {
		name := aws.ToString(s.StageName)
		if name == "" {
			res.malformed("apigatewayv2", arn, "stage without a name")
			continue
		}
		sarn := arn + "/stages/" + name
		res.Components = append(res.Components, t.component(resource{typ: typeAPIv2Stage, id: sarn, short: id,
			name: aws.ToString(a.Name) + "/" + name, tags: s.Tags, data: s}))
		res.Relations = append(res.Relations, rel(arn, sarn, model.HasResource))
	}
	for _, in := range integrations {
		iid := aws.ToString(in.IntegrationId)
		if iid == "" {
			res.malformed("apigatewayv2", arn, "integration without an id")
			continue
		}
		iarn := arn + "/integrations/" + iid
		res.Components = append(res.Components, t.component(resource{typ: typeAPIv2Integration, id: iarn, short: id,
			name: string(in.IntegrationType) + " " + iid, data: in}))
		res.Relations = append(res.Relations, rel(arn, iarn, model.HasResource))
		if target := t.integrationV2Target(in); target != "" {
			res.Relations = append(res.Relations, rel(iarn, target, model.UsesService))
		}
	}
	for _, r := range routes {
		rid := aws.ToString(r.RouteId)
		if rid == "" {
			res.malformed("apigatewayv2", arn, "route without an id")
			continue
		}
		rarn := arn + "/routes/" + rid
		res.Components = append(res.Components, t.component(resource{typ: typeAPIv2Route, id: rarn, short: id,
			name: aws.ToString(r.RouteKey), data: r}))
		res.Relations = append(res.Relations, rel(arn, rarn, model.HasResource))
		if iid, ok := strings.CutPrefix(aws.ToString(r.Target), "integrations/"); ok && iid != "" {
			res.Relations = append(res.Relations, rel(rarn, arn+"/integrations/"+iid, model.UsesService))
		}
	}
	return errors.Join(failures...)
}

// integrationV2Target is the identifier of what an integration calls: a
// Lambda function (its ARN or the API Gateway invocation URI of it), an AWS
// service integration's queue or stream (RequestParameters), the host of
// an HTTP integration, or "".
func (t Target) integrationV2Target(in apigw2types.Integration) string {
	uri := aws.ToString(in.IntegrationUri)
	switch in.IntegrationType {
	case apigw2types.IntegrationTypeHttp, apigw2types.IntegrationTypeHttpProxy:
		if in.ConnectionType == apigw2types.ConnectionTypeVpcLink {
			return uri // a load balancer listener or Cloud Map service ARN
		}
		return t.integrationTarget(string(in.IntegrationType), uri)
	}
	if a, ok := partition.ParseARN(uri); ok {
		if a.Service == "lambda" {
			return unqualifiedVersion(uri)
		}
		return t.integrationTarget(string(in.IntegrationType), uri)
	}
	for _, k := range []string{"QueueUrl", "StreamName", "StateMachineArn"} {
		if v := in.RequestParameters[k]; v != "" {
			return t.reference(v)
		}
	}
	return ""
}

package inventory

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	apigw2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/skymap/skymap/internal/partition"
)

func TestIntegrationTargets(t *testing.T) {
	p, _ := partition.ByID("aws-cn")
	tg := Target{Account: "123456789012", Partition: p, Region: "cn-north-1"}
	fn := "arn:aws-cn:lambda:cn-north-1:123456789012:function:f"
	for _, tt := range []struct{ typ, uri, want string }{
		{"AWS_PROXY", "arn:aws-cn:apigateway:cn-north-1:lambda:path/2015-03-31/functions/" + fn + "/invocations", fn},
		{"AWS", "arn:aws-cn:apigateway:cn-north-1:lambda:path/2015-03-31/functions/" + fn + ":7/invocations", fn},
		{"AWS", "arn:aws-cn:apigateway:cn-north-1:sqs:path/123456789012/orders", "arn:aws-cn:sqs:cn-north-1:123456789012:orders"},
		{"HTTP_PROXY", "https://Backend.Example.com:8443/x/{proxy}", "urn:service:/backend.example.com"},
		{"HTTP", "not a url", ""},
		{"MOCK", "", ""},
		{"AWS", "arn:aws-cn:apigateway:cn-north-1:dynamodb:action/PutItem", ""},
	} {
		if got := tg.integrationTarget(tt.typ, tt.uri); got != tt.want {
			t.Errorf("integrationTarget(%s, %s) = %q, want %q", tt.typ, tt.uri, got, tt.want)
		}
	}
	if got, want := tg.executeAPIHost("abc"), "abc.execute-api.cn-north-1.amazonaws.com.cn"; got != want {
		t.Errorf("executeAPIHost = %s, want %s", got, want)
	}
	v2 := apigw2types.Integration{IntegrationType: apigw2types.IntegrationTypeAwsProxy,
		IntegrationSubtype: aws.String("SQS-SendMessage"),
		RequestParameters:  map[string]string{"QueueUrl": "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q"}}
	if got, want := tg.integrationV2Target(v2), "arn:aws-cn:sqs:cn-north-1:123456789012:q"; got != want {
		t.Errorf("integrationV2Target(SQS) = %s, want %s", got, want)
	}
}

// TestGetResourcesPaginates serves 1,100 resources of one API, 500 a page
// with position tokens, as API Gateway does (moto answers every resource
// in one page, so cannot test this).
func TestGetResourcesPaginates(t *testing.T) {
	const n = 1100
	pages := 0
	tg := fakeTarget(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/restapis":
			writeJSON(w, 200, map[string]any{"item": []any{map[string]any{"id": "api1", "name": "shop"}}})
		case strings.HasSuffix(r.URL.Path, "/stages"):
			writeJSON(w, 200, map[string]any{"item": []any{map[string]any{"stageName": "prod"}}})
		case strings.HasSuffix(r.URL.Path, "/resources"):
			if r.URL.Query().Get("embed") != "methods" {
				t.Errorf("GetResources without embed=methods: %s", r.URL)
			}
			pages++
			start, _ := strconv.Atoi(r.URL.Query().Get("position"))
			size, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			size = min(max(size, 1), 500)
			var items []any
			for i := start; i < min(start+size, n); i++ {
				items = append(items, map[string]any{"id": fmt.Sprintf("r%04d", i), "path": fmt.Sprintf("/p%d", i),
					"resourceMethods": map[string]any{"GET": map[string]any{"httpMethod": "GET"}}})
			}
			out := map[string]any{"item": items}
			if start+size < n {
				out["position"] = strconv.Itoa(start + size)
			}
			writeJSON(w, 200, out)
		default:
			writeJSON(w, 404, map[string]string{"message": "no route " + r.URL.Path})
		}
	})
	res, err := collectRestAPIs(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, c := range res.Components {
		counts[c.Type]++
	}
	if counts[typeAPIRes] != n || counts[typeAPIMethod] != n || pages != 3 {
		t.Errorf("got %v in %d pages, want %d resources and methods in 3", counts, pages, n)
	}
}

package logs

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

func TestGroups(t *testing.T) {
	comp := func(typ, id string, data map[string]any) *model.Component {
		return &model.Component{ID: id, Type: typ, Account: "123456789012", Region: "eu-west-1", Data: data}
	}
	g := func(name, source string) Group {
		return Group{Account: "123456789012", Region: "eu-west-1", Name: name, Source: source}
	}
	p := func(name, source string) Group { x := g(name, source); x.Prefix = true; return x }
	const fn = "arn:aws:lambda:eu-west-1:123456789012:function:api"
	mappings := []Mapping{
		{Component: "api-alias", Group: "/custom/api"},
		{Component: fn, Group: "/custom/more*"},
		{Component: fn, Group: "arn:aws:logs:us-east-1:222222222222:log-group:/central/api:*"},
		{Component: "arn:aws:ecs:eu-west-1:123456789012:service/c/web", Group: "/ecs/web"},
	}
	resolve := func(ref string) (string, bool) {
		if ref == "api-alias" {
			return fn, true
		}
		return ref, true
	}
	for _, tt := range []struct {
		name string
		c    *model.Component
		want []Group
		err  string
	}{
		{"lambda with mappings", comp("aws.lambda.function", fn, map[string]any{"FunctionName": "api"}), []Group{
			{Account: "123456789012", Region: "eu-west-1", Name: "/aws/lambda/api", Source: "lambda"},
			g("/custom/api", "config"), p("/custom/more", "config"),
			{Account: "222222222222", Region: "us-east-1", Name: "/central/api", Source: "config"},
		}, ""},
		{"lambda with its own group", comp("aws.lambda.function", "f2", map[string]any{"FunctionName": "f2",
			"LoggingConfig": map[string]any{"LogGroup": "/shared/fns"}}), []Group{g("/shared/fns", "lambda")}, ""},
		{"rest api stage", comp("aws.apigateway.stage", "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/prod", map[string]any{
			"StageName": "prod", "AccessLogSettings": map[string]any{"DestinationArn": "arn:aws:logs:eu-west-1:123456789012:log-group:api-access"}}),
			[]Group{g("API-Gateway-Execution-Logs_abc123/prod", "apigateway-execution"), g("api-access", "apigateway-access")}, ""},
		{"stage logging to firehose", comp("aws.apigatewayv2.stage", "s", map[string]any{
			"AccessLogSettings": map[string]any{"DestinationArn": "arn:aws:firehose:eu-west-1:123456789012:deliverystream/x"}}),
			nil, "lacks what names its log groups"},
		{"rest api", comp("aws.apigateway.rest-api", "r", map[string]any{"Id": "abc123"}), []Group{p("API-Gateway-Execution-Logs_abc123/", "apigateway-execution")}, ""},
		{"rds", comp("aws.rds.instance", "db", map[string]any{"DBInstanceIdentifier": "db1"}), []Group{p("/aws/rds/instance/db1/", "rds")}, ""},
		{"eks", comp("aws.eks.cluster", "k", map[string]any{"Name": "k8s"}), []Group{g("/aws/eks/k8s/cluster", "eks")}, ""},
		{"state machine", comp("aws.stepfunction.statemachine", "sm", map[string]any{"LoggingConfiguration": map[string]any{
			"Destinations": []any{map[string]any{"CloudWatchLogsLogGroup": map[string]any{"LogGroupArn": "arn:aws:logs:eu-west-1:123456789012:log-group:/sfn/sm:*"}}}}}),
			[]Group{g("/sfn/sm", "stepfunctions")}, ""},
		{"ecs service by config", comp("aws.ecs.service", "arn:aws:ecs:eu-west-1:123456789012:service/c/web", nil), []Group{g("/ecs/web", "config")}, ""},
		{"vpc", comp("aws.ec2.vpc", "vpc-1", nil), nil, "have no log groups"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Groups(tt.c, mappings, resolve)
			if tt.err != "" {
				if !errors.Is(err, ErrNoGroups) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want ErrNoGroups saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("groups (-want +got):\n%s", d)
			}
		})
	}
}

func TestTermPattern(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"", "", ""},
		{"ERROR", `"ERROR"`, ""},
		{`a "b" \c`, `"a \"b\" \\c"`, ""},
		{`{ $.x = 1 }`, `"{ $.x = 1 }"`, ""},
		{"%re.*%", `"%re.*%"`, ""},
		{"-exclude ?or", `"-exclude ?or"`, ""},
		{"a\nb", "", "control character"},
		{"\xff", "", "UTF-8"},
		{string(make([]byte, MaxFilterBytes+1)), "", "longer"},
	} {
		got, err := TermPattern(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("TermPattern(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// The README's table names every component type of the table.
func TestREADMEListsSources(t *testing.T) {
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, _ := strings.Cut(string(b), "## CloudWatch Logs")
	sec, _, _ = strings.Cut(sec, "\n## ")
	for _, s := range Sources() {
		if !strings.Contains(sec, "`"+s.Type+"`") {
			t.Errorf("README's CloudWatch Logs section does not list %s", s.Type)
		}
	}
}

package awstest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apigw2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Names of the serverless sample estate (account DefaultAccount, eu-west-1).
const (
	demoLambdaRole = "skymap-demo-lambda"
	demoSFNRole    = "skymap-demo-states"
	demoQueue      = "skymap-demo-orders"
	demoTopic      = "skymap-demo-alerts"
	demoAPIFn      = "skymap-demo-api"
	demoWorkerFn   = "skymap-demo-worker"
)

const trustLambda = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const trustStates = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// arn renders an ARN of the seed's partition (moto: aws), region and account.
func (s *Seed) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + s.Region + ":" + s.Account + ":" + resource
}

// createRole creates an IAM role and registers its generated id as
// "<role-id:name>".
func createRole(ctx context.Context, s *Seed, name, trust string, tags map[string]string) (string, error) {
	in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	c := iam.NewFromConfig(s.Config)
	out, err := c.CreateRole(ctx, in)
	role := (*iamtypes.Role)(nil)
	switch {
	case err == nil:
		role = out.Role
	case RetriedCreate(err) == nil: // the SDK's retry of a create that had succeeded
		got, gerr := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if gerr != nil {
			return "", fmt.Errorf("create role %s: %w; then get it: %w", name, err, gerr)
		}
		role = got.Role
	default:
		return "", fmt.Errorf("create role %s: %w", name, err)
	}
	return aws.ToString(role.Arn), s.Add(aws.ToString(role.RoleId), "role-id", name)
}

// IAMRoles is the account's global IAM seeder: a role that no function
// uses (the estate's functions and state machines create theirs).
func IAMRoles(ctx context.Context, s *Seed) error {
	_, err := createRole(ctx, s, "skymap-demo-readonly", trustLambda, map[string]string{"team": "platform", "note": TrickyHTML})
	return err
}

// Serverless creates the serverless part of the sample estate in
// eu-west-1: roles, a queue and a topic, Lambda functions (one in the prod
// VPC, one fed by the queue, with an alias), a state machine and an
// activity, EventBridge rules, and a REST and an HTTP API in front of the
// functions.
func Serverless(ctx context.Context, s *Seed) error {
	lambdaRole, err := createRole(ctx, s, demoLambdaRole, trustLambda, map[string]string{"team": "platform"})
	if err != nil {
		return err
	}
	if _, err := createRole(ctx, s, demoSFNRole, trustStates, nil); err != nil {
		return err
	}
	q, err := sqs.NewFromConfig(s.Config).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(demoQueue)})
	if err != nil {
		return fmt.Errorf("create queue: %w", err)
	}
	if _, err := sns.NewFromConfig(s.Config).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(demoTopic)}); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	if err := seedFunctions(ctx, s, lambdaRole, aws.ToString(q.QueueUrl)); err != nil {
		return err
	}
	// moto's queue URL holds its port: the machine names the queue by its
	// AWS URL, stable across runs.
	if err := seedStateMachines(ctx, s, "https://sqs."+s.Region+".amazonaws.com/"+s.Account+"/"+demoQueue); err != nil {
		return err
	}
	if err := seedEventRules(ctx, s); err != nil {
		return err
	}
	if err := seedRestAPI(ctx, s); err != nil {
		return err
	}
	return seedHTTPAPI(ctx, s)
}

// seedHTTPAPI creates an HTTP API: GET /items to the worker function,
// ANY /legacy/{proxy+} to an HTTP backend, on stage live.
func seedHTTPAPI(ctx context.Context, s *Seed) error {
	c := apigatewayv2.NewFromConfig(s.Config)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("skymap-demo-http"),
		ProtocolType: apigw2types.ProtocolTypeHttp, Tags: map[string]string{"team": "shop"}})
	if err != nil {
		return fmt.Errorf("create http api: %w", err)
	}
	errs := []error{s.Add(aws.ToString(api.ApiId), "apiv2", "skymap-demo-http")}
	integrations := []struct {
		name string
		in   apigatewayv2.CreateIntegrationInput
		key  string
	}{
		{"worker", apigatewayv2.CreateIntegrationInput{IntegrationType: apigw2types.IntegrationTypeAwsProxy,
			IntegrationUri: aws.String(s.arn("lambda", "function:"+demoWorkerFn)), PayloadFormatVersion: aws.String("2.0")}, "GET /items"},
		{"legacy", apigatewayv2.CreateIntegrationInput{IntegrationType: apigw2types.IntegrationTypeHttpProxy,
			IntegrationUri: aws.String("https://legacy.shop.example.com/{proxy}"), IntegrationMethod: aws.String("ANY"),
			PayloadFormatVersion: aws.String("1.0")}, "ANY /legacy/{proxy+}"},
	}
	for _, it := range integrations {
		it.in.ApiId = api.ApiId
		out, err := c.CreateIntegration(ctx, &it.in)
		if err != nil {
			return fmt.Errorf("create integration %s: %w", it.name, err)
		}
		route, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(it.key),
			Target: aws.String("integrations/" + aws.ToString(out.IntegrationId))})
		if err != nil {
			return fmt.Errorf("create route %s: %w", it.key, err)
		}
		errs = append(errs, s.Add(aws.ToString(out.IntegrationId), "apiv2-integration", it.name),
			s.Add(aws.ToString(route.RouteId), "apiv2-route", it.name))
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("live"),
		AutoDeploy: aws.Bool(true)}); err != nil {
		return fmt.Errorf("create stage: %w", err)
	}
	return errors.Join(errs...)
}

// seedRestAPI creates the shop REST API: GET /orders proxies to the API
// function, POST /orders sends to the queue, GET /health calls an HTTP
// backend; deployed to stage prod.
func seedRestAPI(ctx context.Context, s *Seed) error {
	c := apigateway.NewFromConfig(s.Config)
	api, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("skymap-demo-shop"),
		Tags: map[string]string{"team": "shop"}})
	if err != nil {
		return fmt.Errorf("create rest api: %w", err)
	}
	id := aws.ToString(api.Id)
	errs := []error{s.Add(id, "restapi", "skymap-demo-shop"), s.Add(aws.ToString(api.RootResourceId), "apires", "skymap-demo-shop:/")}
	fail := func(what string, err error) error { return fmt.Errorf("rest api %s: %w", what, err) }
	paths := map[string]string{}
	for _, part := range []string{"orders", "health"} {
		r, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String(part)})
		if err != nil {
			return fail("resource "+part, err)
		}
		paths[part] = aws.ToString(r.Id)
		errs = append(errs, s.Add(aws.ToString(r.Id), "apires", "skymap-demo-shop:/"+part))
	}
	fn := s.arn("lambda", "function:"+demoAPIFn)
	methods := []struct {
		res, verb, typ, uri, httpMethod string
	}{
		{"orders", "GET", "AWS_PROXY", "arn:aws:apigateway:" + s.Region + ":lambda:path/2015-03-31/functions/" + fn + "/invocations", "POST"},
		{"orders", "POST", "AWS", "arn:aws:apigateway:" + s.Region + ":sqs:path/" + s.Account + "/" + demoQueue, "POST"},
		{"health", "GET", "HTTP_PROXY", "https://status.shop.example.com/health", "GET"},
	}
	for _, m := range methods {
		if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: aws.String(paths[m.res]),
			HttpMethod: aws.String(m.verb), AuthorizationType: aws.String("NONE")}); err != nil {
			return fail("method "+m.verb+" "+m.res, err)
		}
		if _, err := c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: aws.String(paths[m.res]),
			HttpMethod: aws.String(m.verb), Type: apigwtypes.IntegrationType(m.typ), Uri: aws.String(m.uri),
			IntegrationHttpMethod: aws.String(m.httpMethod)}); err != nil {
			return fail("integration "+m.verb+" "+m.res, err)
		}
	}
	dep, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")})
	if err != nil {
		return fail("deployment", err)
	}
	errs = append(errs, s.Add(aws.ToString(dep.Id), "apideploy", "skymap-demo-shop:prod"))
	return errors.Join(errs...)
}

// seedEventRules creates a scheduled rule on the default bus that starts
// the worker and the checkout machine, and a rule on a custom bus that
// feeds the queue and the topic.
func seedEventRules(ctx context.Context, s *Seed) error {
	c := eventbridge.NewFromConfig(s.Config)
	if _, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("skymap-demo-bus")}); RetriedCreate(err) != nil {
		return fmt.Errorf("create event bus: %w", err)
	}
	rules := []struct {
		in      eventbridge.PutRuleInput
		targets []string
	}{
		{eventbridge.PutRuleInput{Name: aws.String("skymap-demo-nightly"), ScheduleExpression: aws.String("cron(0 2 * * ? *)"),
			Tags: []ebtypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}}},
			[]string{s.arn("lambda", "function:"+demoWorkerFn), s.arn("states", "stateMachine:skymap-demo-checkout")}},
		{eventbridge.PutRuleInput{Name: aws.String("skymap-demo-orders"), EventBusName: aws.String("skymap-demo-bus"),
			EventPattern: aws.String(`{"source":["shop.orders"]}`)},
			[]string{s.arn("sqs", demoQueue), s.arn("sns", demoTopic)}},
	}
	for _, r := range rules {
		if _, err := c.PutRule(ctx, &r.in); err != nil {
			return fmt.Errorf("put rule %s: %w", aws.ToString(r.in.Name), err)
		}
		var targets []ebtypes.Target
		for i, arn := range r.targets {
			targets = append(targets, ebtypes.Target{Id: aws.String(fmt.Sprintf("t%d", i)), Arn: aws.String(arn)})
		}
		if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: r.in.Name, EventBusName: r.in.EventBusName, Targets: targets}); err != nil {
			return fmt.Errorf("put targets of %s: %w", aws.ToString(r.in.Name), err)
		}
	}
	return nil
}

// checkoutDefinition exercises every state relation: Task targets (Lambda
// by ARN and through lambda:invoke, SNS, SQS by URL, an activity), Choice,
// Catch, a Parallel state's branches and a Map state's iterator.
const checkoutDefinition = `{
  "StartAt": "Validate",
  "States": {
    "Validate": {"Type": "Task", "Resource": "{api}", "Next": "Route",
      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
    "Route": {"Type": "Choice", "Choices": [{"Variable": "$.express", "BooleanEquals": true, "Next": "Notify"}], "Default": "Fanout"},
    "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
      "Parameters": {"TopicArn": "{topic}", "Message.$": "$"}, "End": true},
    "Fanout": {"Type": "Parallel", "Next": "Items", "Branches": [
      {"StartAt": "Enqueue", "States": {"Enqueue": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "{queue}", "MessageBody.$": "$"}, "End": true}}},
      {"StartAt": "Approve", "States": {"Approve": {"Type": "Task", "Resource": "{activity}", "End": true}}}
    ]},
    "Items": {"Type": "Map", "ItemsPath": "$.items", "Next": "Done", "Iterator": {"StartAt": "Work", "States": {
      "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "{worker}", "Payload.$": "$"}, "End": true}}}},
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "Error": "Invalid"}
  }
}`

func seedStateMachines(ctx context.Context, s *Seed, queueURL string) error {
	c := sfn.NewFromConfig(s.Config)
	act, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("skymap-demo-approval"),
		Tags: []sfntypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}}})
	if err != nil && RetriedCreate(err) == nil {
		act, err = &sfn.CreateActivityOutput{ActivityArn: aws.String(s.arn("states", "activity:skymap-demo-approval"))}, nil
	}
	if err != nil {
		return fmt.Errorf("create activity: %w", err)
	}
	def := strings.NewReplacer("{api}", s.arn("lambda", "function:"+demoAPIFn), "{topic}", s.arn("sns", demoTopic),
		"{queue}", queueURL, "{activity}", aws.ToString(act.ActivityArn), "{worker}", demoWorkerFn).Replace(checkoutDefinition)
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("skymap-demo-checkout"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::" + s.Account + ":role/" + demoSFNRole),
		Tags:    []sfntypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}},
	})
	if err != nil {
		return fmt.Errorf("create state machine: %w", err)
	}
	return nil
}

func seedFunctions(ctx context.Context, s *Seed, role, queueURL string) error {
	subnet, err := s.Need("<subnet:prod-private>")
	if err != nil {
		return err
	}
	sg, err := s.Need("<sg:app>")
	if err != nil {
		return err
	}
	code, err := lambdaZip()
	if err != nil {
		return err
	}
	c := lambda.NewFromConfig(s.Config)
	fns := []*lambda.CreateFunctionInput{
		{
			FunctionName: aws.String(demoAPIFn), Description: aws.String("orders API"),
			Environment: &lambdatypes.Environment{Variables: map[string]string{
				"QUEUE_URL":   queueURL,
				"TOPIC_ARN":   s.arn("sns", demoTopic),
				"DB_PASSWORD": "hunter2-never-in-data",
				"LOG_LEVEL":   "info",
			}},
			VpcConfig: &lambdatypes.VpcConfig{SubnetIds: []string{subnet}, SecurityGroupIds: []string{sg}},
			Tags:      map[string]string{"team": "shop", "stackstate-environment": "production"},
		},
		{FunctionName: aws.String(demoWorkerFn), Description: aws.String("order worker")},
	}
	for _, in := range fns {
		in.Role, in.Runtime, in.Handler = aws.String(role), lambdatypes.RuntimePython312, aws.String("main.handler")
		in.Code = &lambdatypes.FunctionCode{ZipFile: code}
		out, err := c.CreateFunction(ctx, in)
		if err != nil {
			return fmt.Errorf("create function %s: %w", aws.ToString(in.FunctionName), err)
		}
		if err := s.Add(aws.ToString(out.RevisionId), "revision", aws.ToString(in.FunctionName)); err != nil {
			return err
		}
	}
	// Lambda makes the interfaces of a function in a VPC; moto does not,
	// so the estate makes one as Lambda would describe it.
	eni, err := ec2.NewFromConfig(s.Config).CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: aws.String(subnet), Groups: []string{sg}, Description: aws.String("AWS Lambda VPC ENI-" + demoAPIFn),
		// A fixed address: one moto picks could be an instance's, which
		// makes the placeholders ambiguous (and the build fail).
		PrivateIpAddress: aws.String(lambdaENIAddress),
	})
	if err != nil {
		return fmt.Errorf("create lambda interface: %w", err)
	}
	if err := errors.Join(
		s.Add(aws.ToString(eni.NetworkInterface.NetworkInterfaceId), "eni", demoAPIFn),
		s.Add(aws.ToString(eni.NetworkInterface.PrivateIpAddress), "ip", demoAPIFn),
		s.Add(aws.ToString(eni.NetworkInterface.MacAddress), "mac", demoAPIFn),
	); err != nil {
		return err
	}
	alias, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{
		FunctionName: aws.String(demoWorkerFn), Name: aws.String("live"), FunctionVersion: aws.String("$LATEST"),
	})
	if err != nil {
		return fmt.Errorf("create alias: %w", err)
	}
	if err := s.Add(aws.ToString(alias.RevisionId), "revision", demoWorkerFn+":live"); err != nil {
		return err
	}
	esm, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(demoWorkerFn), EventSourceArn: aws.String(s.arn("sqs", demoQueue)), BatchSize: aws.Int32(10),
	})
	if err != nil {
		return fmt.Errorf("create event source mapping: %w", err)
	}
	return s.Add(aws.ToString(esm.UUID), "esm", demoQueue)
}

// lambdaZip is a deployment package with one Python handler.
func lambdaZip() ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("main.py")
	if err != nil {
		return nil, err
	}
	if _, err := f.Write([]byte("def handler(event, context):\n    return event\n")); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// lambdaENIAddress is the address of the demo function's interface, in
// prod-private (10.0.2.0/24) and unused by the estate's instances (.10, .20)
// and the spare interface (.50).
const lambdaENIAddress = "10.0.2.60"

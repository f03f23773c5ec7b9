package inventory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// Lambda component types.
const (
	typeLambdaFunction = "aws.lambda.function"
	typeLambdaAlias    = "aws.lambda.alias"
)

var lambdaTypes = map[string]typeInfo{
	typeLambdaFunction: {model.LayerServerless, "/lambda/home?region={region}#/functions/{id}", "Lambda", ""},
	typeLambdaAlias:    {model.LayerServerless, "/lambda/home?region={region}#/functions/{id}", "Lambda", ""},
}

var lambdaListings = []listing{
	{"lambda", "functions", []string{typeLambdaFunction, typeLambdaAlias}, regional, collectFunctions, []string{
		"lambda:ListFunctions", "lambda:ListTags", "lambda:ListAliases", "lambda:ListEventSourceMappings",
		"ec2:DescribeNetworkInterfaces"}},
}

// collectFunctions lists the region's functions with their tags and
// aliases, and the event source mappings that feed them.
func collectFunctions(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := lambda.NewFromConfig(t.Config)
	var fns []lambdatypes.FunctionConfiguration
	p := lambda.NewListFunctionsPaginator(client, &lambda.ListFunctionsInput{MaxItems: aws.Int32(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, fn := range page.Functions {
			if aws.ToString(fn.FunctionArn) == "" || aws.ToString(fn.FunctionName) == "" {
				res.malformed("lambda", aws.ToString(fn.FunctionName), "function without an ARN or name")
				continue
			}
			fns = append(fns, fn)
		}
	}
	err := describeEach(ctx, &res, fns,
		func(fn lambdatypes.FunctionConfiguration) string { return "function " + aws.ToString(fn.FunctionName) },
		func(ctx context.Context, fn lambdatypes.FunctionConfiguration, out *Result) error {
			return function(ctx, t, client, fn, out)
		})
	rels, esmErr := eventSourceMappings(ctx, client)
	res.Relations = append(res.Relations, rels...)
	return res, errors.Join(err, esmErr)
}

// function describes one function and its aliases; a function deleted
// since it was listed is left out.
func function(ctx context.Context, t Target, client *lambda.Client, fn lambdatypes.FunctionConfiguration, res *Result) error {
	arn, name := aws.ToString(fn.FunctionArn), aws.ToString(fn.FunctionName)
	var failures []error
	tags := map[string]string{}
	out, err := client.ListTags(ctx, &lambda.ListTagsInput{Resource: fn.FunctionArn})
	keep, failure := detailOutcome(err)
	if !keep {
		return failure
	}
	failures = append(failures, failure)
	if err == nil {
		maps.Copy(tags, out.Tags)
	}
	var aliases []lambdatypes.AliasConfiguration
	ap := lambda.NewListAliasesPaginator(client, &lambda.ListAliasesInput{FunctionName: fn.FunctionArn, MaxItems: aws.Int32(10000)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			keep, failure := detailOutcome(err)
			if !keep {
				return failure
			}
			failures = append(failures, failure)
			break
		}
		aliases = append(aliases, page.Aliases...)
	}

	var idents []string
	if inVPC(fn) {
		idents = t.interfaceIPs(ctx, func(eni ec2types.NetworkInterface) bool { return lambdaENIOf(eni, name) })
	}
	res.Components = append(res.Components, t.component(resource{typ: typeLambdaFunction, id: arn, short: name,
		tags: tags, idents: idents, data: functionData(fn)}))
	res.Relations = append(res.Relations, functionRelations(t, fn)...)
	for _, a := range aliases {
		aarn := aws.ToString(a.AliasArn)
		if aarn == "" {
			res.malformed("lambda", name+":"+aws.ToString(a.Name), "alias without an ARN")
			continue
		}
		res.Components = append(res.Components, t.component(resource{typ: typeLambdaAlias, id: aarn,
			short: name, name: name + ":" + aws.ToString(a.Name), data: a}))
		res.Relations = append(res.Relations, rel(aarn, arn, model.UsesService))
	}
	return errors.Join(failures...)
}

// inVPC tells whether a function runs in a VPC, and so has interfaces.
func inVPC(fn lambdatypes.FunctionConfiguration) bool {
	return fn.VpcConfig != nil && (aws.ToString(fn.VpcConfig.VpcId) != "" || len(fn.VpcConfig.SubnetIds) > 0)
}

// lambdaENIPrefix starts the description of the interfaces Lambda creates
// for a function in a VPC: "AWS Lambda VPC ENI-<function name>", formerly
// followed by "-<uuid>".
const lambdaENIPrefix = "AWS Lambda VPC ENI-"

// lambdaENIOf tells whether eni is one of the interfaces of the function
// named name.
func lambdaENIOf(eni ec2types.NetworkInterface, name string) bool {
	desc := aws.ToString(eni.Description)
	if eni.InterfaceType != ec2types.NetworkInterfaceTypeLambda && !strings.HasPrefix(desc, lambdaENIPrefix) {
		return false
	}
	rest, ok := strings.CutPrefix(desc, lambdaENIPrefix+name)
	if !ok {
		return false
	}
	// "-<uuid>" after the name, but not "-worker" of a function whose
	// name merely starts with this one's.
	return rest == "" || len(rest) == 37 && rest[0] == '-' && strings.Count(rest, "-") == 5
}

// functionData is the function's description without the values of its
// environment variables, which often hold secrets: only their names.
func functionData(fn lambdatypes.FunctionConfiguration) map[string]any {
	env := fn.Environment
	fn.Environment = nil
	data := toData(fn)
	if env != nil {
		e := map[string]any{}
		if len(env.Variables) > 0 {
			e["VariableNames"] = slices.Sorted(maps.Keys(env.Variables))
		}
		if env.Error != nil {
			e["Error"] = toData(env.Error)
		}
		if len(e) > 0 {
			data["Environment"] = e
		}
	}
	return data
}

// functionRelations are a function's uses: its VPC and security groups,
// every resource its environment variables name, and its execution role.
func functionRelations(t Target, fn lambdatypes.FunctionConfiguration) []model.Relation {
	arn := aws.ToString(fn.FunctionArn)
	var rels []model.Relation
	if vc := fn.VpcConfig; vc != nil {
		if vpc := aws.ToString(vc.VpcId); vpc != "" {
			rels = append(rels, rel(arn, vpc, model.UsesService))
		}
		for _, sg := range vc.SecurityGroupIds {
			if sg != "" {
				rels = append(rels, rel(arn, sg, model.UsesService))
			}
		}
	}
	if fn.Environment != nil {
		for _, k := range slices.Sorted(maps.Keys(fn.Environment.Variables)) {
			if ref := t.reference(fn.Environment.Variables[k]); ref != "" && ref != arn {
				r := rel(arn, ref, model.UsesService)
				r.Data["variable"] = k
				rels = append(rels, r)
			}
		}
	}
	if role := aws.ToString(fn.Role); role != "" {
		rels = append(rels, rel(arn, role, model.UsesService))
	}
	return rels
}

// eventSourceMappings returns a relation from the source of every enabled
// mapping of the region (queue, stream) to the function it invokes.
func eventSourceMappings(ctx context.Context, client *lambda.Client) ([]model.Relation, error) {
	var rels []model.Relation
	p := lambda.NewListEventSourceMappingsPaginator(client, &lambda.ListEventSourceMappingsInput{MaxItems: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if denied(err) {
				return rels, nil
			}
			return rels, fmt.Errorf("event source mappings: %w", err)
		}
		for _, m := range page.EventSourceMappings {
			src, fn := aws.ToString(m.EventSourceArn), unqualifiedVersion(aws.ToString(m.FunctionArn))
			if src == "" || fn == "" || !mappingEnabled(aws.ToString(m.State)) {
				continue
			}
			r := rel(src, fn, model.UsesService)
			r.Data["event-source-mapping"] = aws.ToString(m.UUID)
			rels = append(rels, r)
		}
	}
	return rels, nil
}

func mappingEnabled(state string) bool {
	switch state {
	case "Enabled", "Enabling", "Updating":
		return true
	}
	return false
}

// unqualifiedVersion removes a version qualifier (a number or $LATEST)
// from a function ARN, and keeps an alias qualifier, which names an alias
// component.
func unqualifiedVersion(arn string) string {
	a, ok := partition.ParseARN(arn)
	if !ok {
		return arn
	}
	parts := strings.Split(a.Resource, ":")
	if len(parts) == 3 && parts[0] == "function" {
		if q := parts[2]; q == "$LATEST" || strings.Trim(q, "0123456789") == "" {
			return strings.TrimSuffix(arn, ":"+q)
		}
	}
	return arn
}

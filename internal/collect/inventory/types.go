package inventory

import (
	"net/url"
	"strings"

	"github.com/skymap/skymap/internal/partition"
)

// typeInfo is what TOPOLOGY.md says of one component type.
type typeInfo struct {
	layer string
	// console is the console URL after the partition's console base, with
	// {region} and {id} placeholders.
	console string
	// consoleKind names the console in "Go to <Kind> console".
	consoleKind string
	// arn renders the resource's ARN (with {partition}, {region},
	// {account} and {id}); empty when the id already is the ARN.
	arn string
}

// types is the table of per-type facts, merged from each service's table; a
// type missing here is a bug that TestTypesTable catches.
var types = merge(
	ec2Types,
	vpcTypes,
	elbTypes,
	elbv2Types,
	autoscalingTypes,
	ecsTypes,
	eksTypes,
	cloudformationTypes,
	route53Types,
	cloudfrontTypes,
	s3Types,
	lambdaTypes,
	sfnTypes,
	eventsTypes,
	apigatewayTypes,
	apigatewayv2Types,
	iamTypes,
	rdsTypes, redshiftTypes, elasticacheTypes, dynamodbTypes, sqsTypes, snsTypes, kinesisTypes, firehoseTypes,
)

func merge(tables ...map[string]typeInfo) map[string]typeInfo {
	out := map[string]typeInfo{}
	for _, t := range tables {
		for k, v := range t {
			if _, dup := out[k]; dup {
				panic("inventory: type " + k + " is in two tables")
			}
			out[k] = v
		}
	}
	return out
}

// fill expands the {partition}, {region}, {account} and {id} placeholders
// of a template.
func fill(tmpl string, p partition.Partition, region, account, id string) string {
	var b strings.Builder
	b.Grow(len(tmpl) + len(id) + 32)
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		switch name := tmpl[i+1 : i+j]; name {
		case "partition":
			b.WriteString(p.ID)
		case "region":
			b.WriteString(region)
		case "account":
			b.WriteString(account)
		case "id":
			b.WriteString(id)
		default:
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
}

// arnOf returns the ARN of a resource of type typ with id.
func arnOf(typ string, p partition.Partition, region, account, id string) string {
	return fill(types[typ].arn, p, region, account, id)
}

// ConsoleURL returns the deep link into the AWS console for a component of
// type typ, or "" for a type without one. name is the resource's short id
// or name (for S3, the bucket name).
func ConsoleURL(typ string, p partition.Partition, region, name string) string {
	ti, ok := types[typ]
	if !ok || ti.console == "" {
		return ""
	}
	return p.ConsoleBase(region) + fill(ti.console, p, region, "", url.PathEscape(name))
}

// ConsoleKind returns the console name shown as "Go to <Kind> console".
func ConsoleKind(typ string) string { return types[typ].consoleKind }

// Layer returns the layer of a component type.
func Layer(typ string) string { return types[typ].layer }

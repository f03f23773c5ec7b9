package inventory

import (
	"net/url"
	"strings"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// Component types collected so far (see TOPOLOGY.md).
const (
	typeInstance        = "aws.ec2.instance"
	typeVPC             = "aws.ec2.vpc"
	typeSubnet          = "aws.ec2.subnet"
	typeSecurityGroup   = "aws.ec2.security-group"
	typeVPNGateway      = "aws.ec2.vpn-gateway"
	typeInternetGateway = "aws.ec2.internet-gateway"
	typeBucket          = "aws.s3.bucket"
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

// types is the table of per-type facts; a type missing here is a bug that
// TestTypesTable catches.
var types = map[string]typeInfo{
	typeInstance: {model.LayerMachines, "/ec2/home?region={region}#InstanceDetails:instanceId={id}", "EC2",
		"arn:{partition}:ec2:{region}:{account}:instance/{id}"},
	typeVPC: {model.LayerNetworking, "/vpcconsole/home?region={region}#VpcDetails:VpcId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:vpc/{id}"},
	typeSubnet: {model.LayerNetworking, "/vpcconsole/home?region={region}#SubnetDetails:subnetId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:subnet/{id}"},
	typeSecurityGroup: {model.LayerNetworking, "/ec2/home?region={region}#SecurityGroup:groupId={id}", "EC2",
		"arn:{partition}:ec2:{region}:{account}:security-group/{id}"},
	typeVPNGateway: {model.LayerNetworking, "/vpcconsole/home?region={region}#VpnGatewayDetails:VpnGatewayId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:vpn-gateway/{id}"},
	typeInternetGateway: {model.LayerNetworking, "/vpcconsole/home?region={region}#InternetGatewayDetails:internetGatewayId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:internet-gateway/{id}"},
	typeBucket: {model.LayerStorage, "/s3/buckets/{id}?region={region}", "S3", ""},
}

func fill(tmpl string, p partition.Partition, region, account, id string) string {
	return strings.NewReplacer("{partition}", p.ID, "{region}", region, "{account}", account, "{id}", id).Replace(tmpl)
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

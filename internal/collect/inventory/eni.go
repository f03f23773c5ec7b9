package inventory

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Owner kinds of network interfaces.
const (
	ownerInstance     = "instance"
	ownerNATGateway   = "nat-gateway"
	ownerVPCEndpoint  = "vpc-endpoint"
	ownerLoadBalancer = "load-balancer"
	ownerLambda       = "lambda"
	ownerECSTask      = "ecs-task"
	// ownerRDS is an RDS DB instance's interface: ID is the instance's ARN
	// when rdsOwners tells which, empty otherwise.
	ownerRDS = "rds"
	// ownerService is another AWS service's interface (ElastiCache,
	// EFS...; RDS's are ownerRDS), named by its requester id.
	ownerService    = "service"
	ownerUnattached = "unattached"
	ownerUnknown    = "unknown"
)

// eniOwner is what a network interface belongs to: a kind and, where the
// interface tells it, the owner's identifier (instance id, gateway or
// endpoint id, load balancer ARN, requester id).
type eniOwner struct {
	Kind string `json:"Kind"`
	ID   string `json:"Id,omitempty"`
}

// carriesIPs tells whether the owner's component carries the interface's
// addresses as its own identifiers, so the interface must not.
func (o eniOwner) carriesIPs() bool {
	switch o.Kind {
	case ownerInstance, ownerNATGateway, ownerVPCEndpoint, ownerLoadBalancer, ownerLambda, ownerECSTask:
		return true
	case ownerRDS:
		return o.ID != ""
	}
	return false
}

// interfaceOwner tells from a network interface's own description (type,
// description, attachment, requester) what it belongs to. An RDS interface
// does not name its DB instance: it is of kind ownerRDS without an ID,
// which interfaces fills in from rdsOwners.
func (t Target) interfaceOwner(n ec2types.NetworkInterface) eniOwner {
	desc := aws.ToString(n.Description)
	switch n.InterfaceType {
	case ec2types.NetworkInterfaceTypeNatGateway, "nat_gateway":
		return eniOwner{Kind: ownerNATGateway, ID: strings.TrimPrefix(desc, "Interface for NAT Gateway ")}
	case ec2types.NetworkInterfaceTypeVpcEndpoint, ec2types.NetworkInterfaceTypeGatewayLoadBalancerEndpoint:
		return eniOwner{Kind: ownerVPCEndpoint, ID: strings.TrimPrefix(desc, "VPC Endpoint Interface ")}
	case ec2types.NetworkInterfaceTypeLambda:
		return eniOwner{Kind: ownerLambda}
	}
	if isRDSInterface(n) {
		return eniOwner{Kind: ownerRDS}
	}
	if lb, ok := strings.CutPrefix(desc, "ELB "); ok && lb != "" {
		return eniOwner{Kind: ownerLoadBalancer, ID: t.loadBalancerARN(lb)}
	}
	if strings.HasPrefix(desc, "AWS Lambda VPC ENI") {
		return eniOwner{Kind: ownerLambda}
	}
	if strings.HasPrefix(desc, "arn:"+t.Partition.ID+":ecs:") {
		return eniOwner{Kind: ownerECSTask, ID: desc}
	}
	att := n.Attachment
	if att != nil && aws.ToString(att.InstanceId) != "" {
		// An instance of the account, not a service's hidden host.
		if own := aws.ToString(att.InstanceOwnerId); own == "" || own == aws.ToString(n.OwnerId) || own == t.Account {
			return eniOwner{Kind: ownerInstance, ID: aws.ToString(att.InstanceId)}
		}
	}
	if r := aws.ToString(n.RequesterId); aws.ToBool(n.RequesterManaged) && r != "" {
		return eniOwner{Kind: ownerService, ID: r}
	}
	if att != nil && aws.ToString(att.InstanceOwnerId) != "" {
		return eniOwner{Kind: ownerService, ID: aws.ToString(att.InstanceOwnerId)}
	}
	if att == nil || n.Status == ec2types.NetworkInterfaceStatusAvailable {
		return eniOwner{Kind: ownerUnattached}
	}
	return eniOwner{Kind: ownerUnknown}
}

// loadBalancerARN is the ARN of the load balancer an interface described as
// "ELB <name>" belongs to: "app/<name>/<id>", "net/..." and "gwy/..." name
// Elastic Load Balancing v2 load balancers, a plain name a classic one.
func (t Target) loadBalancerARN(name string) string {
	return "arn:" + t.Partition.ID + ":elasticloadbalancing:" + t.Region + ":" + t.Account + ":loadbalancer/" + name
}

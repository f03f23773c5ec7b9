package inventory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/skymap/skymap/internal/model"
)

// VPC component types beyond those of ec2.go: gateways, route tables,
// interfaces, endpoints and volumes.
const (
	typeNATGateway       = "aws.ec2.nat-gateway"
	typeTransitGateway   = "aws.ec2.transit-gateway"
	typeRouteTable       = "aws.ec2.route-table"
	typeNetworkInterface = "aws.ec2.network-interface"
	typeVPCEndpoint      = "aws.ec2.vpc-endpoint"
	typeVolume           = "aws.ec2.volume"
)

var vpcTypes = map[string]typeInfo{
	typeNATGateway: {model.LayerNetworking, "/vpcconsole/home?region={region}#NatGatewayDetails:natGatewayId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:natgateway/{id}"},
	typeTransitGateway: {model.LayerNetworking, "/vpcconsole/home?region={region}#TransitGatewayDetails:transitGatewayId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:transit-gateway/{id}"},
	typeRouteTable: {model.LayerNetworking, "/vpcconsole/home?region={region}#RouteTableDetails:RouteTableId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:route-table/{id}"},
	typeNetworkInterface: {model.LayerNetworking, "/ec2/home?region={region}#NetworkInterface:networkInterfaceId={id}", "EC2",
		"arn:{partition}:ec2:{region}:{account}:network-interface/{id}"},
	typeVPCEndpoint: {model.LayerNetworking, "/vpcconsole/home?region={region}#EndpointDetails:vpcEndpointId={id}", "VPC",
		"arn:{partition}:ec2:{region}:{account}:vpc-endpoint/{id}"},
	typeVolume: {model.LayerMachines, "/ec2/home?region={region}#VolumeDetails:volumeId={id}", "EC2",
		"arn:{partition}:ec2:{region}:{account}:volume/{id}"},
}

var vpcListings = []listing{
	{"ec2", "nat_gateways", []string{typeNATGateway}, regional, collectNATGateways, []string{"ec2:DescribeNatGateways"}},
	{"ec2", "transit_gateways", []string{typeTransitGateway}, regional, collectTransitGateways,
		[]string{"ec2:DescribeTransitGateways", "ec2:DescribeTransitGatewayAttachments"}},
	{"ec2", "route_tables", []string{typeRouteTable}, regional, collectRouteTables, []string{"ec2:DescribeRouteTables"}},
	{"ec2", "network_interfaces", []string{typeNetworkInterface}, regional, collectNetworkInterfaces,
		[]string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeNatGateways", "ec2:DescribeVpcEndpoints", "rds:DescribeDBInstances"}},
	{"ec2", "vpc_endpoints", []string{typeVPCEndpoint}, regional, collectVPCEndpoints,
		[]string{"ec2:DescribeVpcEndpoints", "ec2:DescribeNetworkInterfaces"}},
	{"ec2", "volumes", []string{typeVolume}, regional, collectVolumes, []string{"ec2:DescribeVolumes"}},
}

// describeNATGateways returns the region's NAT gateways that are not deleted.
func describeNATGateways(ctx context.Context, t Target) ([]ec2types.NatGateway, error) {
	var out []ec2types.NatGateway
	p := ec2.NewDescribeNatGatewaysPaginator(ec2.NewFromConfig(t.Config), &ec2.DescribeNatGatewaysInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range page.NatGateways {
			if g.State != ec2types.NatGatewayStateDeleted {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

func collectNATGateways(ctx context.Context, t Target) (Result, error) {
	var res Result
	gws, err := describeNATGateways(ctx, t)
	if err != nil {
		return res, err
	}
	for _, g := range gws {
		id := aws.ToString(g.NatGatewayId)
		if id == "" {
			res.malformed("ec2:DescribeNatGateways", "", "no NatGatewayId")
			continue
		}
		var idents []string
		if vpc := aws.ToString(g.VpcId); vpc != "" {
			for _, a := range g.NatGatewayAddresses {
				if ip := aws.ToString(a.PrivateIp); ip != "" {
					idents = append(idents, vpcIP(vpc, ip))
				}
			}
		}
		res.Components = append(res.Components, t.component(resource{
			typ: typeNATGateway, id: id, short: id, tags: ec2Tags(g.Tags), idents: idents, data: g,
		}))
		if s := aws.ToString(g.SubnetId); s != "" {
			res.Relations = append(res.Relations, rel(id, s, model.UsesService))
		}
	}
	return res, nil
}

// goneAttachment are the transit gateway attachment states that no longer
// connect anything.
var goneAttachment = map[ec2types.TransitGatewayAttachmentState]bool{
	ec2types.TransitGatewayAttachmentStateDeleted:  true,
	ec2types.TransitGatewayAttachmentStateDeleting: true,
	ec2types.TransitGatewayAttachmentStateFailed:   true,
	ec2types.TransitGatewayAttachmentStateRejected: true,
}

// collectTransitGateways lists the transit gateways the account owns, and
// relates each gateway to the VPCs attached to it. Attachments of this
// account to gateways shared by another account relate too: the other end
// resolves when that account is monitored.
func collectTransitGateways(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := ec2.NewFromConfig(t.Config)
	p := ec2.NewDescribeTransitGatewaysPaginator(client, &ec2.DescribeTransitGatewaysInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, g := range page.TransitGateways {
			id := aws.ToString(g.TransitGatewayId)
			if g.State == ec2types.TransitGatewayStateDeleted || (g.OwnerId != nil && aws.ToString(g.OwnerId) != t.Account) {
				continue
			}
			if id == "" {
				res.malformed("ec2:DescribeTransitGateways", "", "no TransitGatewayId")
				continue
			}
			var idents []string
			if arn := aws.ToString(g.TransitGatewayArn); arn != "" {
				idents = append(idents, arn)
			}
			res.Components = append(res.Components, t.component(resource{
				typ: typeTransitGateway, id: id, short: id, tags: ec2Tags(g.Tags), idents: idents, data: g,
			}))
		}
	}
	ap := ec2.NewDescribeTransitGatewayAttachmentsPaginator(client, &ec2.DescribeTransitGatewayAttachmentsInput{
		Filters:    []ec2types.Filter{{Name: aws.String("resource-type"), Values: []string{"vpc"}}},
		MaxResults: aws.Int32(1000),
	})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, a := range page.TransitGatewayAttachments {
			tgw, vpc := aws.ToString(a.TransitGatewayId), aws.ToString(a.ResourceId)
			if a.ResourceType != ec2types.TransitGatewayAttachmentResourceTypeVpc || goneAttachment[a.State] || tgw == "" || vpc == "" {
				continue
			}
			r := rel(tgw, vpc, model.UsesService)
			r.Data["attachment"] = aws.ToString(a.TransitGatewayAttachmentId)
			res.Relations = append(res.Relations, r)
		}
	}
	return res, nil
}

func collectRouteTables(ctx context.Context, t Target) (Result, error) {
	return describeRouteTables(ctx, t, nil)
}

func describeRouteTables(ctx context.Context, t Target, refs []string) (Result, error) {
	var res Result
	client := ec2.NewFromConfig(t.Config)
	for _, only := range ec2Filters("route-table-id", refs) {
		p := ec2.NewDescribeRouteTablesPaginator(client, &ec2.DescribeRouteTablesInput{Filters: only, MaxResults: aws.Int32(100)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return res, err
			}
			for _, rt := range page.RouteTables {
				id := aws.ToString(rt.RouteTableId)
				if id == "" {
					res.malformed("ec2:DescribeRouteTables", "", "no RouteTableId")
					continue
				}
				res.Components = append(res.Components, t.component(resource{
					typ: typeRouteTable, id: id, short: id, tags: ec2Tags(rt.Tags), data: rt,
				}))
				res.Relations = append(res.Relations, routeTableRelations(rt)...)
			}
		}
	}
	return res, nil
}

// routeTableRelations relates a route table to the subnets associated with
// it and to each distinct target of its routes that is a component
// (gateways, endpoints, interfaces, instances); "local" and targets skymap
// has no type for are left out.
func routeTableRelations(rt ec2types.RouteTable) []model.Relation {
	id := aws.ToString(rt.RouteTableId)
	var out []model.Relation
	seen := map[string]bool{}
	add := func(dst string) {
		if dst != "" && dst != "local" && !seen[dst] {
			seen[dst] = true
			out = append(out, rel(id, dst, model.UsesService))
		}
	}
	for _, a := range rt.Associations {
		if a.AssociationState != nil && a.AssociationState.State != ec2types.RouteTableAssociationStateCodeAssociated {
			continue
		}
		add(aws.ToString(a.SubnetId))
	}
	for _, r := range rt.Routes {
		if r.State == ec2types.RouteStateBlackhole {
			continue
		}
		// GatewayId holds internet, VPN and gateway VPC endpoint ids.
		add(aws.ToString(r.GatewayId))
		add(aws.ToString(r.NatGatewayId))
		add(aws.ToString(r.TransitGatewayId))
		add(aws.ToString(r.NetworkInterfaceId))
		add(aws.ToString(r.InstanceId))
	}
	return out
}

func collectVolumes(ctx context.Context, t Target) (Result, error) {
	return describeVolumes(ctx, t, nil)
}

func describeVolumes(ctx context.Context, t Target, refs []string) (Result, error) {
	var res Result
	client := ec2.NewFromConfig(t.Config)
	for _, only := range ec2Filters("volume-id", refs) {
		p := ec2.NewDescribeVolumesPaginator(client, &ec2.DescribeVolumesInput{Filters: only, MaxResults: aws.Int32(500)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return res, err
			}
			for _, v := range page.Volumes {
				id := aws.ToString(v.VolumeId)
				if id == "" {
					res.malformed("ec2:DescribeVolumes", "", "no VolumeId")
					continue
				}
				res.Components = append(res.Components, t.component(resource{
					typ: typeVolume, id: id, short: id, tags: ec2Tags(v.Tags), data: v,
				}))
			}
		}
	}
	return res, nil
}

// describeVPCEndpoints returns the region's VPC endpoints that are not deleted.
func describeVPCEndpoints(ctx context.Context, t Target) ([]ec2types.VpcEndpoint, error) {
	var out []ec2types.VpcEndpoint
	p := ec2.NewDescribeVpcEndpointsPaginator(ec2.NewFromConfig(t.Config), &ec2.DescribeVpcEndpointsInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range page.VpcEndpoints {
			if !strings.EqualFold(string(e.State), string(ec2types.StateDeleted)) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func collectVPCEndpoints(ctx context.Context, t Target) (Result, error) {
	var res Result
	eps, err := describeVPCEndpoints(ctx, t)
	if err != nil {
		return res, err
	}
	for _, e := range eps {
		id := aws.ToString(e.VpcEndpointId)
		if id == "" {
			res.malformed("ec2:DescribeVpcEndpoints", "", "no VpcEndpointId")
			continue
		}
		var idents []string
		for _, d := range e.DnsEntries {
			// The endpoint's own names carry its id; the service's private
			// DNS name (sqs.<region>.amazonaws.com) is shared by every
			// endpoint of the service and names none of them.
			if dns := aws.ToString(d.DnsName); strings.Contains(dns, id) && !strings.HasPrefix(dns, "*") {
				idents = append(idents, endpointURN(dns))
			}
		}
		if len(e.NetworkInterfaceIds) > 0 {
			enis := map[string]bool{}
			for _, n := range e.NetworkInterfaceIds {
				enis[n] = true
			}
			idents = append(idents, t.interfaceIPs(ctx, func(n ec2types.NetworkInterface) bool {
				return enis[aws.ToString(n.NetworkInterfaceId)]
			})...)
		}
		res.Components = append(res.Components, t.component(resource{
			typ: typeVPCEndpoint, id: id, short: id, tags: ec2Tags(e.Tags), idents: idents, data: e,
		}))
		for _, s := range e.SubnetIds {
			if s != "" {
				res.Relations = append(res.Relations, rel(id, s, model.UsesService))
			}
		}
		// A gateway endpoint has no subnets: it serves its VPC.
		if vpc := aws.ToString(e.VpcId); len(e.SubnetIds) == 0 && vpc != "" {
			res.Relations = append(res.Relations, rel(id, vpc, model.UsesService))
		}
	}
	return res, nil
}

// collectNetworkInterfaces describes every network interface of the region
// (the shared read), with the owner each belongs to. An interface carries the
// urn:vpcip identifiers of its addresses only when its owner does not carry
// them itself, so that each address names one component.
func collectNetworkInterfaces(ctx context.Context, t Target) (Result, error) {
	enis, err := t.networkInterfaces(ctx)
	if err != nil {
		return Result{}, err
	}
	return interfaces(ctx, t, enis)
}

// describeInterfaces describes the network interfaces refs name.
func describeInterfaces(ctx context.Context, t Target, refs []string) (Result, error) {
	client := ec2.NewFromConfig(t.Config)
	var enis []ec2types.NetworkInterface
	for _, only := range ec2Filters("network-interface-id", refs) {
		p := ec2.NewDescribeNetworkInterfacesPaginator(client, &ec2.DescribeNetworkInterfacesInput{Filters: only, MaxResults: aws.Int32(1000)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return Result{}, err
			}
			enis = append(enis, page.NetworkInterfaces...)
		}
	}
	return interfaces(ctx, t, enis)
}

// interfaces describes network interfaces with their owners. The DB
// instances that RDS interfaces are matched to are read only when there is
// one: when they are denied, the interfaces keep their addresses; another
// failure is returned with what was found.
func interfaces(ctx context.Context, t Target, enis []ec2types.NetworkInterface) (Result, error) {
	var res Result
	known, err := managedInterfaces(ctx, t)
	var (
		dbs     rdsOwners
		dbsRead bool
	)
	for _, n := range enis {
		id := aws.ToString(n.NetworkInterfaceId)
		if id == "" {
			res.malformed("ec2:DescribeNetworkInterfaces", "", "no NetworkInterfaceId")
			continue
		}
		o, ok := known[id]
		if !ok {
			o = t.interfaceOwner(n)
		}
		if o.Kind == ownerRDS {
			if !dbsRead {
				dbsRead = true
				var dbErr error
				_, dbs, dbErr = t.dbInstances(ctx)
				if dbErr != nil && !denied(dbErr) {
					err = errors.Join(err, fmt.Errorf("db instances: %w", dbErr))
				}
			}
			o.ID = dbs.owner(n)
		}
		var idents []string
		if !o.carriesIPs() {
			idents = vpcIPs(n)
		}
		data := toData(n)
		data["Owner"] = o
		res.Components = append(res.Components, t.component(resource{
			typ: typeNetworkInterface, id: id, short: id, tags: ec2Tags(n.TagSet), idents: idents, data: data,
		}))
		if s := aws.ToString(n.SubnetId); s != "" {
			res.Relations = append(res.Relations, rel(id, s, model.UsesService))
		}
	}
	return res, err
}

// managedInterfaces maps the interfaces of NAT gateways and VPC endpoints to
// their owners, from the owners' own descriptions: emulators do not mark
// these interfaces as AWS does. A denied call leaves the owners to be found
// from the interfaces; another failure is returned with what was found.
func managedInterfaces(ctx context.Context, t Target) (map[string]eniOwner, error) {
	out := map[string]eniOwner{}
	var errs []error
	gws, err := describeNATGateways(ctx, t)
	if err != nil && !denied(err) {
		errs = append(errs, fmt.Errorf("nat gateways: %w", err))
	}
	for _, g := range gws {
		if aws.ToString(g.NatGatewayId) == "" {
			continue
		}
		for _, a := range g.NatGatewayAddresses {
			if n := aws.ToString(a.NetworkInterfaceId); n != "" {
				out[n] = eniOwner{Kind: ownerNATGateway, ID: aws.ToString(g.NatGatewayId)}
			}
		}
	}
	eps, err := describeVPCEndpoints(ctx, t)
	if err != nil && !denied(err) {
		errs = append(errs, fmt.Errorf("vpc endpoints: %w", err))
	}
	for _, e := range eps {
		if aws.ToString(e.VpcEndpointId) == "" {
			continue
		}
		for _, n := range e.NetworkInterfaceIds {
			out[n] = eniOwner{Kind: ownerVPCEndpoint, ID: aws.ToString(e.VpcEndpointId)}
		}
	}
	return out, errors.Join(errs...)
}

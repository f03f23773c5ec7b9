package inventory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/route53domains"

	"github.com/skymap/skymap/internal/model"
)

// Route 53 component types.
const (
	typeHostedZone = "aws.route53.hostedzone"
	typeDomain     = "aws.route53.domain"
)

var route53Types = map[string]typeInfo{
	typeHostedZone: {model.LayerNetworking, "/route53/v2/hostedzones#ListRecordSets/{id}", "Route 53",
		"arn:{partition}:route53:::hostedzone/{id}"},
	// Registered domains have no ARN; the id is the domain name.
	typeDomain: {model.LayerNetworking, "/route53/domains/home#/DomainDetail/{id}", "Route 53", ""},
}

var route53Listings = []listing{
	{"route53", "hosted_zones", []string{typeHostedZone}, global, collectHostedZones, []string{
		"route53:ListHostedZones", "route53:ListTagsForResources", "route53:ListResourceRecordSets"}},
	{"route53domains", "domains", []string{typeDomain}, global, collectDomains, []string{"route53domains:ListDomains"}},
}

const (
	// zoneTagBatch is ListTagsForResources' maximum of ids per call.
	zoneTagBatch = 10
)

func collectHostedZones(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := route53.NewFromConfig(t.Config)
	var zones []r53types.HostedZone
	p := route53.NewListHostedZonesPaginator(client, &route53.ListHostedZonesInput{MaxItems: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, z := range page.HostedZones {
			if zoneID(aws.ToString(z.Id)) == "" {
				res.malformed("route53", aws.ToString(z.Name), "hosted zone without an id")
				continue
			}
			zones = append(zones, z)
		}
	}
	var failed []error
	ids := make([]string, len(zones))
	for i, z := range zones {
		ids[i] = zoneID(aws.ToString(z.Id))
	}
	tags := map[string]map[string]string{}
	for batch := range slices.Chunk(ids, zoneTagBatch) {
		out, err := client.ListTagsForResources(ctx, &route53.ListTagsForResourcesInput{
			ResourceType: r53types.TagResourceTypeHostedzone, ResourceIds: batch,
		})
		if denied(err) {
			break // no permission: the zones are described without tags
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("list tags: %w", err))
			continue
		}
		for _, ts := range out.ResourceTagSets {
			m := map[string]string{}
			for _, tag := range ts.Tags {
				m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			tags[aws.ToString(ts.ResourceId)] = m
		}
	}

	err := describeEach(ctx, &res, zones,
		func(z r53types.HostedZone) string { return "hosted zone " + zoneID(aws.ToString(z.Id)) },
		func(ctx context.Context, z r53types.HostedZone, out *Result) error {
			id := zoneID(aws.ToString(z.Id))
			records, err := zoneRecords(ctx, client, aws.ToString(z.Id))
			keep, failure := detailOutcome(err)
			if !keep {
				return failure
			}
			data := toData(z)
			data["Id"] = id
			if records != nil {
				data["ResourceRecordSets"] = records
			}
			out.Components = append(out.Components, t.component(resource{
				typ: typeHostedZone, id: id, short: id, name: strings.TrimSuffix(aws.ToString(z.Name), "."),
				tags: tags[id], data: data,
			}))
			out.Relations = append(out.Relations, t.recordTargets(id, records)...)
			return failure
		})
	return res, errors.Join(append(failed, err)...)
}

// zoneID strips the "/hostedzone/" prefix of a hosted zone id.
func zoneID(id string) string {
	return strings.TrimPrefix(id, "/hostedzone/")
}

// zoneRecords reads a zone's records: all of them, or those read before
// a call failed.
func zoneRecords(ctx context.Context, client *route53.Client, zone string) ([]r53types.ResourceRecordSet, error) {
	var out []r53types.ResourceRecordSet
	p := route53.NewListResourceRecordSetsPaginator(client, &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(zone), MaxItems: aws.Int32(300),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("records: %w", err)
		}
		out = append(out, page.ResourceRecordSets...)
	}
	return out, nil
}

// recordTargets relates a zone to what its alias and CNAME records point
// at, once each: load balancers, distributions, buckets and endpoints carry
// their DNS names as urn:endpoint identifiers.
func (t Target) recordTargets(zone string, records []r53types.ResourceRecordSet) []model.Relation {
	seen := map[string]bool{}
	var rels []model.Relation
	add := func(ref string) {
		if ref != "" && !seen[ref] {
			seen[ref] = true
			rels = append(rels, rel(zone, ref, model.UsesService))
		}
	}
	for _, r := range records {
		if a := r.AliasTarget; a != nil {
			if zoneID(aws.ToString(a.HostedZoneId)) == zone {
				continue // another record of the same zone
			}
			add(endpointRef(aliasHost(aws.ToString(a.DNSName))))
		}
		if r.Type == r53types.RRTypeCname {
			for _, v := range r.ResourceRecords {
				add(t.reference(strings.TrimSuffix(aws.ToString(v.Value), ".")))
			}
		}
	}
	return rels
}

// aliasHost is the DNS name of an alias target: without the trailing dot,
// and without the "dualstack." Route 53 puts before load balancer names.
func aliasHost(dns string) string {
	dns = strings.TrimSuffix(strings.ToLower(dns), ".")
	return strings.TrimPrefix(dns, "dualstack.")
}

// collectDomains lists the registered domains. Route 53 Domains lives in
// the partition's global region, where the global target's config points.
func collectDomains(ctx context.Context, t Target) (Result, error) {
	var res Result
	p := route53domains.NewListDomainsPaginator(route53domains.NewFromConfig(t.Config), &route53domains.ListDomainsInput{MaxItems: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, d := range page.Domains {
			name := strings.TrimSuffix(aws.ToString(d.DomainName), ".")
			if name == "" {
				res.malformed("route53domains", "", "domain without a name")
				continue
			}
			res.Components = append(res.Components, t.component(resource{
				typ: typeDomain, id: name, short: name, name: name, data: d,
			}))
		}
	}
	return res, nil
}

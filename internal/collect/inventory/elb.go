package inventory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"

	"github.com/skymap/skymap/internal/model"
)

const typeClassicLB = "aws.elb-classic.load-balancer"

var elbTypes = map[string]typeInfo{
	typeClassicLB: {model.LayerNetworking, "/ec2/home?region={region}#LoadBalancers:search={id}", "EC2", ""},
}

var elbListings = []listing{
	{"elb", "load_balancers", []string{typeClassicLB}, regional, collectClassicLBs, []string{
		"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags", "ec2:DescribeNetworkInterfaces"}},
}

const (
	// elbPageSize is the largest page DescribeLoadBalancers and
	// DescribeTargetGroups answer.
	elbPageSize = 400
	// elbTagBatch is how many load balancers or target groups one
	// DescribeTags call may name.
	elbTagBatch = 20
)

func collectClassicLBs(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := elb.NewFromConfig(t.Config)
	var lbs []elbtypes.LoadBalancerDescription
	p := elb.NewDescribeLoadBalancersPaginator(client, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(elbPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		lbs = append(lbs, page.LoadBalancerDescriptions...)
	}
	names := make([]string, 0, len(lbs))
	for _, lb := range lbs {
		if n := aws.ToString(lb.LoadBalancerName); n != "" {
			names = append(names, n)
		}
	}
	tags, missing, tagErr := elbTags(ctx, names, func(ctx context.Context, batch []string) (map[string]map[string]string, error) {
		out, err := client.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: batch})
		if err != nil {
			return nil, err
		}
		m := map[string]map[string]string{}
		for _, d := range out.TagDescriptions {
			tm := map[string]string{}
			for _, tag := range d.Tags {
				tm[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			m[aws.ToString(d.LoadBalancerName)] = tm
		}
		return m, nil
	})
	ips := lbInterfaceIPs(ctx, t)
	for _, lb := range lbs {
		name := aws.ToString(lb.LoadBalancerName)
		if name == "" {
			res.malformed("elasticloadbalancing:DescribeLoadBalancers", "", "no LoadBalancerName")
			continue
		}
		if missing[name] {
			continue
		}
		classicLB(t, lb, tags[name], ips[name], &res)
	}
	return res, tagErr
}

// classicLB adds a classic load balancer and its relations to res; ips are
// the urn:vpcip identifiers of its interfaces.
func classicLB(t Target, lb elbtypes.LoadBalancerDescription, tags map[string]string, ips []string, res *Result) {
	name := aws.ToString(lb.LoadBalancerName)
	id := t.loadBalancerARN(name)
	var idents []string
	if dns := aws.ToString(lb.DNSName); dns != "" {
		idents = append(idents, endpointURN(dns))
	}
	idents = append(idents, ips...)
	res.Components = append(res.Components, t.component(resource{
		typ: typeClassicLB, id: id, short: name, name: name, tags: tags, idents: idents, data: lb,
	}))
	if vpc := aws.ToString(lb.VPCId); vpc != "" {
		res.Relations = append(res.Relations, rel(id, vpc, model.UsesService))
	}
	for _, in := range lb.Instances {
		if i := aws.ToString(in.InstanceId); i != "" {
			res.Relations = append(res.Relations, rel(id, i, model.UsesService))
		}
	}
	for _, sg := range lb.SecurityGroups {
		if sg != "" {
			res.Relations = append(res.Relations, rel(id, sg, model.UsesService))
		}
	}
}

// lbInterfaceIPs maps what follows "ELB " in the description of load
// balancer interfaces ("<name>" for classic load balancers, "app/<name>/<id>"
// and the like for v2 ones) to the interfaces' urn:vpcip identifiers. The
// interfaces are a detail: when they cannot be read, load balancers are
// described without their addresses.
func lbInterfaceIPs(ctx context.Context, t Target) map[string][]string {
	enis, err := t.networkInterfaces(ctx)
	if err != nil {
		return nil
	}
	out := map[string][]string{}
	for _, n := range enis {
		if lb, ok := strings.CutPrefix(aws.ToString(n.Description), "ELB "); ok && lb != "" {
			out[lb] = append(out[lb], vpcIPs(n)...)
		}
	}
	return out
}

// elbTags reads the tags of keys (load balancer names or ARNs) with fetch,
// elbTagBatch keys per call. A batch that names a resource deleted since it
// was listed fails as a whole; its keys are then read one by one, and those
// not found are returned in missing. A denied call leaves its keys without
// tags; any other failure leaves them without tags and is returned, so that
// the listing is incomplete.
func elbTags(ctx context.Context, keys []string, fetch func(context.Context, []string) (map[string]map[string]string, error)) (
	tags map[string]map[string]string, missing map[string]bool, err error) {
	tags, missing = map[string]map[string]string{}, map[string]bool{}
	var mu sync.Mutex
	batches := slices.Collect(slices.Chunk(keys, elbTagBatch))
	name := func(batch []string) string {
		if len(batch) == 1 {
			return "tags of " + batch[0]
		}
		return fmt.Sprintf("tags of %s and %d more", batch[0], len(batch)-1)
	}
	err = forEach(ctx, batches, name, func(ctx context.Context, batch []string) error {
		got, err := fetch(ctx, batch)
		if gone(err) && len(batch) > 1 {
			got, err = map[string]map[string]string{}, nil
			for _, k := range batch {
				one, oneErr := fetch(ctx, []string{k})
				switch {
				case gone(oneErr):
					mu.Lock()
					missing[k] = true
					mu.Unlock()
				case oneErr != nil:
					err = errors.Join(err, oneErr)
				default:
					got[k] = one[k]
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		maps.Copy(tags, got)
		keep, failure := detailOutcome(err)
		if !keep && failure == nil {
			missing[batch[0]] = true
		}
		return failure
	})
	return tags, missing, err
}

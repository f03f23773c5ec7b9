package inventory

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/skymap/skymap/internal/model"
)

const typeCacheCluster = "aws.elasticache.cluster"

var elasticacheTypes = map[string]typeInfo{
	typeCacheCluster: {model.LayerDatabases, "/elasticache/home?region={region}#/cache-clusters/{id}", "ElastiCache", ""},
}

var elasticacheListings = []listing{
	{"elasticache", "cache_clusters", []string{typeCacheCluster}, regional, collectCacheClusters, []string{
		"elasticache:DescribeCacheClusters", "elasticache:DescribeCacheSubnetGroups", "elasticache:ListTagsForResource"}},
}

func collectCacheClusters(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := elasticache.NewFromConfig(t.Config)
	var clusters []ectypes.CacheCluster
	p := elasticache.NewDescribeCacheClustersPaginator(client, &elasticache.DescribeCacheClustersInput{
		ShowCacheNodeInfo: aws.Bool(true), MaxRecords: aws.Int32(100),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		clusters = append(clusters, page.CacheClusters...)
	}
	if len(clusters) == 0 {
		return res, nil
	}
	// Clusters name their subnet group only; its VPC comes from one
	// listing of the region's subnet groups, not a call per cluster.
	vpcs, err := cacheSubnetGroupVPCs(ctx, client)
	if err != nil && !denied(err) {
		return res, err
	}
	return res, describeEach(ctx, &res, clusters,
		func(c ectypes.CacheCluster) string { return "cache cluster " + aws.ToString(c.CacheClusterId) },
		func(ctx context.Context, c ectypes.CacheCluster, out *Result) error {
			return cacheCluster(ctx, t, client, c, vpcs, out)
		})
}

// cacheSubnetGroupVPCs maps the region's cache subnet group names to their VPC.
func cacheSubnetGroupVPCs(ctx context.Context, client *elasticache.Client) (map[string]string, error) {
	out := map[string]string{}
	p := elasticache.NewDescribeCacheSubnetGroupsPaginator(client, &elasticache.DescribeCacheSubnetGroupsInput{MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, g := range page.CacheSubnetGroups {
			out[aws.ToString(g.CacheSubnetGroupName)] = aws.ToString(g.VpcId)
		}
	}
	return out, nil
}

// cacheCluster describes one cache cluster. Its tags are a detail: denied,
// the cluster is kept without them; the cluster deleted meanwhile, it is
// dropped; any other failure leaves it out and is returned.
func cacheCluster(ctx context.Context, t Target, client *elasticache.Client, c ectypes.CacheCluster, vpcs map[string]string, res *Result) error {
	name := aws.ToString(c.CacheClusterId)
	if name == "" {
		res.malformed("elasticache:DescribeCacheClusters", aws.ToString(c.ARN), "no CacheClusterId")
		return nil
	}
	id := aws.ToString(c.ARN)
	if id == "" {
		id = "arn:" + t.Partition.ID + ":elasticache:" + t.Region + ":" + t.Account + ":cluster:" + name
	}
	tags := map[string]string{}
	out, err := client.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(id)})
	switch {
	case gone(err):
		return nil
	case denied(err):
	case err != nil:
		return err
	default:
		for _, tag := range out.TagList {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	var idents []string
	if c.ConfigurationEndpoint != nil && aws.ToString(c.ConfigurationEndpoint.Address) != "" {
		idents = append(idents, endpointURN(aws.ToString(c.ConfigurationEndpoint.Address)))
	}
	for _, n := range c.CacheNodes {
		if n.Endpoint != nil && aws.ToString(n.Endpoint.Address) != "" {
			idents = append(idents, endpointURN(aws.ToString(n.Endpoint.Address)))
		}
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeCacheCluster, id: id, short: name, name: name, tags: tags, idents: idents, data: c,
	}))
	if vpc := vpcs[aws.ToString(c.CacheSubnetGroupName)]; vpc != "" {
		res.Relations = append(res.Relations, rel(id, vpc, model.UsesService))
	}
	for _, sg := range c.SecurityGroups {
		if g := aws.ToString(sg.SecurityGroupId); g != "" {
			res.Relations = append(res.Relations, rel(id, g, model.UsesService))
		}
	}
	return nil
}

package inventory

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"

	"github.com/skymap/skymap/internal/model"
)

const typeRedshiftCluster = "aws.redshift.cluster"

var redshiftTypes = map[string]typeInfo{
	typeRedshiftCluster: {model.LayerDatabases, "/redshiftv2/home?region={region}#cluster-details?cluster={id}", "Redshift",
		"arn:{partition}:redshift:{region}:{account}:cluster:{id}"},
}

var redshiftListings = []listing{
	{"redshift", "clusters", []string{typeRedshiftCluster}, regional, collectRedshiftClusters, []string{
		"redshift:DescribeClusters", "redshift:DescribeClusterSubnetGroups"}},
}

func collectRedshiftClusters(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := redshift.NewFromConfig(t.Config)
	var clusters []rstypes.Cluster
	p := redshift.NewDescribeClustersPaginator(client, &redshift.DescribeClustersInput{MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		clusters = append(clusters, page.Clusters...)
	}
	// A cluster names its VPC; where an answer lacks it (emulators), the
	// VPC comes from one listing of the region's cluster subnet groups.
	var vpcs map[string]string
	if slices.ContainsFunc(clusters, func(c rstypes.Cluster) bool {
		return aws.ToString(c.VpcId) == "" && aws.ToString(c.ClusterSubnetGroupName) != ""
	}) {
		var err error
		if vpcs, err = clusterSubnetGroupVPCs(ctx, client); err != nil && !denied(err) {
			return res, err
		}
	}
	for _, c := range clusters {
		if aws.ToString(c.VpcId) == "" {
			c.VpcId = aws.String(vpcs[aws.ToString(c.ClusterSubnetGroupName)])
		}
		redshiftCluster(t, c, &res)
	}
	return res, nil
}

// clusterSubnetGroupVPCs maps the region's cluster subnet group names to their VPC.
func clusterSubnetGroupVPCs(ctx context.Context, client *redshift.Client) (map[string]string, error) {
	out := map[string]string{}
	p := redshift.NewDescribeClusterSubnetGroupsPaginator(client, &redshift.DescribeClusterSubnetGroupsInput{MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, g := range page.ClusterSubnetGroups {
			out[aws.ToString(g.ClusterSubnetGroupName)] = aws.ToString(g.VpcId)
		}
	}
	return out, nil
}

func redshiftCluster(t Target, c rstypes.Cluster, res *Result) {
	name := aws.ToString(c.ClusterIdentifier)
	if name == "" {
		res.malformed("redshift:DescribeClusters", "", "no ClusterIdentifier")
		return
	}
	// DescribeClusters does not return the cluster's ARN.
	id := arnOf(typeRedshiftCluster, t.Partition, t.Region, t.Account, name)
	var idents []string
	if c.Endpoint != nil && aws.ToString(c.Endpoint.Address) != "" {
		idents = append(idents, endpointURN(aws.ToString(c.Endpoint.Address)))
	}
	tags := make(map[string]string, len(c.Tags))
	for _, tag := range c.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if c.PendingModifiedValues != nil && c.PendingModifiedValues.MasterUserPassword != nil {
		pending := *c.PendingModifiedValues
		pending.MasterUserPassword = nil // a secret, even masked
		c.PendingModifiedValues = &pending
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeRedshiftCluster, id: id, short: name, name: name, tags: tags, idents: idents, data: c,
	}))
	if vpc := aws.ToString(c.VpcId); vpc != "" {
		res.Relations = append(res.Relations, rel(id, vpc, model.UsesService))
	}
	for _, sg := range c.VpcSecurityGroups {
		if g := aws.ToString(sg.VpcSecurityGroupId); g != "" {
			res.Relations = append(res.Relations, rel(id, g, model.UsesService))
		}
	}
}

package inventory

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/skymap/skymap/internal/model"
)

// RDS component types.
const (
	typeRDSInstance = "aws.rds.instance"
	typeRDSCluster  = "aws.rds.cluster"
)

var rdsTypes = map[string]typeInfo{
	typeRDSInstance: {model.LayerDatabases, "/rds/home?region={region}#database:id={id};is-cluster=false", "RDS", ""},
	typeRDSCluster:  {model.LayerDatabases, "/rds/home?region={region}#database:id={id};is-cluster=true", "RDS", ""},
}

var rdsListings = []listing{
	{"rds", "instances", []string{typeRDSInstance}, regional, collectDBInstances, []string{
		"rds:DescribeDBInstances", "ec2:DescribeNetworkInterfaces"}},
	{"rds", "clusters", []string{typeRDSCluster}, regional, collectDBClusters, []string{
		"rds:DescribeDBClusters", "rds:DescribeDBSubnetGroups"}},
}

// rdsARN is the ARN of an RDS resource of kind "db" or "cluster", for
// answers that lack it and for cluster members, which clusters name by
// identifier only.
func rdsARN(t Target, kind, id string) string {
	return "arn:" + t.Partition.ID + ":rds:" + t.Region + ":" + t.Account + ":" + kind + ":" + id
}

func rdsTags(tags []rdstypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// collectDBInstances describes the region's DB instances, each with the
// addresses of the RDS interfaces that belong to it (rdsOwners).
func collectDBInstances(ctx context.Context, t Target) (Result, error) {
	var res Result
	dbs, owners, err := t.dbInstances(ctx)
	if err != nil {
		return res, err
	}
	var ips map[string][]string
	if len(dbs) > 0 {
		ips = t.rdsInterfaceIPs(ctx, owners)
	}
	for _, db := range dbs {
		dbInstance(t, db, ips, &res)
	}
	return res, nil
}

// dbInstanceID is the component id of a DB instance: its ARN, or "" when
// it has neither ARN nor identifier.
func dbInstanceID(t Target, db rdstypes.DBInstance) string {
	if id := aws.ToString(db.DBInstanceArn); id != "" {
		return id
	}
	if name := aws.ToString(db.DBInstanceIdentifier); name != "" {
		return rdsARN(t, "db", name)
	}
	return ""
}

// dbInstance describes a DB instance; ips maps DB instance ARNs to the
// addresses of their interfaces.
func dbInstance(t Target, db rdstypes.DBInstance, ips map[string][]string, res *Result) {
	name := aws.ToString(db.DBInstanceIdentifier)
	if name == "" {
		res.malformed("rds:DescribeDBInstances", aws.ToString(db.DBInstanceArn), "no DBInstanceIdentifier")
		return
	}
	id := dbInstanceID(t, db)
	var idents []string
	if db.Endpoint != nil && aws.ToString(db.Endpoint.Address) != "" {
		idents = append(idents, endpointURN(aws.ToString(db.Endpoint.Address)))
	}
	if db.ListenerEndpoint != nil && aws.ToString(db.ListenerEndpoint.Address) != "" {
		idents = append(idents, endpointURN(aws.ToString(db.ListenerEndpoint.Address)))
	}
	idents = append(idents, ips[id]...)
	if db.PendingModifiedValues != nil && db.PendingModifiedValues.MasterUserPassword != nil {
		pending := *db.PendingModifiedValues
		pending.MasterUserPassword = nil // a secret, even masked
		db.PendingModifiedValues = &pending
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeRDSInstance, id: id, short: name, name: name, tags: rdsTags(db.TagList), idents: idents, data: db,
	}))
	if db.DBSubnetGroup != nil && aws.ToString(db.DBSubnetGroup.VpcId) != "" {
		res.Relations = append(res.Relations, rel(id, aws.ToString(db.DBSubnetGroup.VpcId), model.UsesService))
	}
	for _, sg := range db.VpcSecurityGroups {
		if g := aws.ToString(sg.VpcSecurityGroupId); g != "" {
			res.Relations = append(res.Relations, rel(id, g, model.UsesService))
		}
	}
}

func collectDBClusters(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := rds.NewFromConfig(t.Config)
	var clusters []rdstypes.DBCluster
	p := rds.NewDescribeDBClustersPaginator(client, &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		clusters = append(clusters, page.DBClusters...)
	}
	if len(clusters) == 0 {
		return res, nil
	}
	// Clusters name their subnet group only; its VPC comes from one
	// listing of the region's subnet groups.
	vpcs, err := dbSubnetGroupVPCs(ctx, client)
	if err != nil && !denied(err) {
		return res, err
	}
	for _, c := range clusters {
		dbCluster(t, c, vpcs, &res)
	}
	return res, nil
}

// dbSubnetGroupVPCs maps the region's DB subnet group names to their VPC.
func dbSubnetGroupVPCs(ctx context.Context, client *rds.Client) (map[string]string, error) {
	out := map[string]string{}
	p := rds.NewDescribeDBSubnetGroupsPaginator(client, &rds.DescribeDBSubnetGroupsInput{MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, g := range page.DBSubnetGroups {
			out[aws.ToString(g.DBSubnetGroupName)] = aws.ToString(g.VpcId)
		}
	}
	return out, nil
}

func dbCluster(t Target, c rdstypes.DBCluster, vpcs map[string]string, res *Result) {
	name := aws.ToString(c.DBClusterIdentifier)
	if name == "" {
		res.malformed("rds:DescribeDBClusters", aws.ToString(c.DBClusterArn), "no DBClusterIdentifier")
		return
	}
	id := aws.ToString(c.DBClusterArn)
	if id == "" {
		id = rdsARN(t, "cluster", name)
	}
	var idents []string
	for _, e := range append([]*string{c.Endpoint, c.ReaderEndpoint}, aws.StringSlice(c.CustomEndpoints)...) {
		if dns := aws.ToString(e); dns != "" {
			idents = append(idents, endpointURN(dns))
		}
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeRDSCluster, id: id, short: name, name: name, tags: rdsTags(c.TagList), idents: idents, data: c,
	}))
	for _, m := range c.DBClusterMembers {
		if member := aws.ToString(m.DBInstanceIdentifier); member != "" {
			res.Relations = append(res.Relations, rel(id, rdsARN(t, "db", member), model.HasClusterNode))
		}
	}
	if vpc := vpcs[aws.ToString(c.DBSubnetGroup)]; vpc != "" {
		res.Relations = append(res.Relations, rel(id, vpc, model.UsesService))
	}
	for _, sg := range c.VpcSecurityGroups {
		if g := aws.ToString(sg.VpcSecurityGroupId); g != "" {
			res.Relations = append(res.Relations, rel(id, g, model.UsesService))
		}
	}
}

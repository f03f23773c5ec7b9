package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/skymap/skymap/internal/model"
)

// EKS component types.
const (
	typeEKSCluster   = "aws.eks.cluster"
	typeEKSNodegroup = "aws.eks.nodegroup"
)

// Node groups link to their cluster's compute tab (short is the cluster name).
var eksTypes = map[string]typeInfo{
	typeEKSCluster:   {model.LayerContainers, "/eks/home?region={region}#/clusters/{id}", "EKS", ""},
	typeEKSNodegroup: {model.LayerContainers, "/eks/home?region={region}#/clusters/{id}?selectedTab=cluster-compute-tab", "EKS", ""},
}

var eksListings = []listing{
	{"eks", "clusters", []string{typeEKSCluster, typeEKSNodegroup}, regional, collectEKS, []string{
		"eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup"}},
}

func collectEKS(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := eks.NewFromConfig(t.Config)
	var names []string
	p := eks.NewListClustersPaginator(client, &eks.ListClustersInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		names = append(names, page.Clusters...)
	}
	return res, describeEach(ctx, &res, names,
		func(name string) string { return "cluster " + name },
		func(ctx context.Context, name string, out *Result) error {
			return eksCluster(ctx, t, client, name, out)
		})
}

// eksCluster describes one cluster and its node groups. A cluster or node
// group deleted since it was listed is left out.
func eksCluster(ctx context.Context, t Target, client *eks.Client, name string, res *Result) error {
	out, err := client.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	c := out.Cluster
	arn := aws.ToString(c.Arn)
	if arn == "" {
		res.malformed("eks", name, "cluster without an ARN")
		return nil
	}
	var idents []string
	if ref := t.reference(aws.ToString(c.Endpoint)); ref != "" {
		idents = append(idents, ref)
	}
	data := *c
	data.CertificateAuthority = nil // a certificate, long and of no use on a map
	res.Components = append(res.Components, t.component(resource{
		typ: typeEKSCluster, id: arn, short: name, name: name, tags: c.Tags, idents: idents, data: data,
	}))
	if role := aws.ToString(c.RoleArn); role != "" {
		res.Relations = append(res.Relations, rel(arn, role, model.UsesService))
	}
	if vc := c.ResourcesVpcConfig; vc != nil {
		if vpc := aws.ToString(vc.VpcId); vpc != "" {
			res.Relations = append(res.Relations, rel(arn, vpc, model.UsesService))
		}
		groups := vc.SecurityGroupIds
		if sg := aws.ToString(vc.ClusterSecurityGroupId); sg != "" {
			groups = append(groups[:len(groups):len(groups)], sg)
		}
		for _, sg := range groups {
			res.Relations = append(res.Relations, rel(arn, sg, model.UsesService))
		}
	}

	var groups []string
	p := eks.NewListNodegroupsPaginator(client, &eks.ListNodegroupsInput{ClusterName: aws.String(name), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if gone(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list node groups: %w", err)
		}
		groups = append(groups, page.Nodegroups...)
	}
	var errs []error
	for _, ng := range groups {
		out, err := client.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(name), NodegroupName: aws.String(ng)})
		switch {
		case gone(err):
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("node group %s: %w", ng, err))
			continue
		}
		eksNodegroup(t, arn, name, out.Nodegroup, res)
	}
	return errors.Join(errs...)
}

func eksNodegroup(t Target, cluster, clusterName string, ng *ekstypes.Nodegroup, res *Result) {
	arn := aws.ToString(ng.NodegroupArn)
	if arn == "" {
		res.malformed("eks", aws.ToString(ng.NodegroupName), "node group without an ARN")
		return
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeEKSNodegroup, id: arn, short: clusterName, name: aws.ToString(ng.NodegroupName), tags: ng.Tags, data: ng,
	}))
	res.Relations = append(res.Relations, rel(cluster, arn, model.HasClusterNode))
	if role := aws.ToString(ng.NodeRole); role != "" {
		res.Relations = append(res.Relations, rel(arn, role, model.UsesService))
	}
	if ng.Resources != nil {
		// The Auto Scaling group carries its name as an identifier.
		for _, asg := range ng.Resources.AutoScalingGroups {
			if n := aws.ToString(asg.Name); n != "" {
				res.Relations = append(res.Relations, rel(arn, n, model.HasClusterNode))
			}
		}
	}
}

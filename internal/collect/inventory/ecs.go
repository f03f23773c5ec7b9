package inventory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/skymap/skymap/internal/model"
)

// ECS component types.
const (
	typeECSCluster = "aws.ecs.cluster"
	typeECSService = "aws.ecs.service"
	typeECSTask    = "aws.ecs.task"
)

// The console has no page addressed by one id below a cluster, so services
// and tasks link to their cluster's list of them (short is the cluster name).
var ecsTypes = map[string]typeInfo{
	typeECSCluster: {model.LayerContainers, "/ecs/v2/clusters/{id}/services?region={region}", "ECS", ""},
	typeECSService: {model.LayerContainers, "/ecs/v2/clusters/{id}/services?region={region}", "ECS", ""},
	typeECSTask:    {model.LayerContainers, "/ecs/v2/clusters/{id}/tasks?region={region}", "ECS", ""},
}

// One listing: services and tasks are listed per cluster, and the relations
// between the three need all of them.
var ecsListings = []listing{
	{"ecs", "clusters", []string{typeECSCluster, typeECSService, typeECSTask}, regional, collectECS, []string{
		"ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListServices", "ecs:DescribeServices",
		"ecs:ListTasks", "ecs:DescribeTasks", "ecs:ListContainerInstances", "ecs:DescribeContainerInstances",
		"ec2:DescribeNetworkInterfaces"}},
}

// Batch sizes of the ECS Describe calls (the API's maxima).
const (
	ecsClusterBatch  = 100
	ecsServiceBatch  = 10
	ecsTaskBatch     = 100
	ecsInstanceBatch = 100
)

// ecsAPI is the part of the ECS client the listing calls.
type ecsAPI interface {
	ecs.ListClustersAPIClient
	ecs.ListServicesAPIClient
	ecs.ListTasksAPIClient
	ecs.ListContainerInstancesAPIClient
	DescribeClusters(context.Context, *ecs.DescribeClustersInput, ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTasks(context.Context, *ecs.DescribeTasksInput, ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	DescribeContainerInstances(context.Context, *ecs.DescribeContainerInstancesInput, ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error)
}

var _ ecsAPI = (*ecs.Client)(nil)

func collectECS(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := ecs.NewFromConfig(t.Config)
	var arns []string
	p := ecs.NewListClustersPaginator(client, &ecs.ListClustersInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		arns = append(arns, page.ClusterArns...)
	}
	var clusters []ecstypes.Cluster
	for batch := range slices.Chunk(arns, ecsClusterBatch) {
		out, err := client.DescribeClusters(ctx, &ecs.DescribeClustersInput{
			Clusters: batch, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags},
		})
		if err != nil {
			return res, err
		}
		clusters = append(clusters, out.Clusters...)
	}

	var active []ecstypes.Cluster
	for _, c := range clusters {
		switch {
		case aws.ToString(c.ClusterArn) == "":
			res.malformed("ecs", aws.ToString(c.ClusterName), "cluster without an ARN")
		case aws.ToString(c.Status) != "INACTIVE":
			active = append(active, c)
		}
	}
	return res, describeEach(ctx, &res, active,
		func(c ecstypes.Cluster) string { return "cluster " + aws.ToString(c.ClusterArn) },
		func(ctx context.Context, c ecstypes.Cluster, out *Result) error {
			return ecsCluster(ctx, t, client, c, out)
		})
}

// ecsCluster describes one cluster with its services, tasks and container
// instances. A cluster deleted since it was listed is left out; other
// failures are returned after describing what could be read.
func ecsCluster(ctx context.Context, t Target, client ecsAPI, c ecstypes.Cluster, res *Result) error {
	arn, name := aws.ToString(c.ClusterArn), aws.ToString(c.ClusterName)
	services, err := ecsServices(ctx, t, client, arn, name, res)
	if gone(err) {
		return nil
	}
	var errs []error
	if err != nil {
		errs = append(errs, fmt.Errorf("services: %w", err))
	}
	if err := ecsTasks(ctx, t, client, arn, name, services, res); err != nil && !gone(err) {
		errs = append(errs, fmt.Errorf("tasks: %w", err))
	}
	// Container instances only add relations: a denial leaves them out.
	if err := ecsContainerInstances(ctx, client, arn, res); err != nil && !denied(err) && !gone(err) {
		errs = append(errs, fmt.Errorf("container instances: %w", err))
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeECSCluster, id: arn, short: name, name: name, tags: ecsTags(c.Tags), data: c,
	}))
	return errors.Join(errs...)
}

// ecsServices describes the cluster's services and returns their ARNs by
// service name, for the tasks' group "service:<name>".
func ecsServices(ctx context.Context, t Target, client ecsAPI, cluster, clusterName string, res *Result) (map[string]string, error) {
	var arns []string
	p := ecs.NewListServicesPaginator(client, &ecs.ListServicesInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		arns = append(arns, page.ServiceArns...)
	}
	byName := map[string]string{}
	for batch := range slices.Chunk(arns, ecsServiceBatch) {
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(cluster), Services: batch, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags},
		})
		if err != nil {
			return byName, err
		}
		for _, s := range out.Services {
			arn, name := aws.ToString(s.ServiceArn), aws.ToString(s.ServiceName)
			if arn == "" {
				res.malformed("ecs", name, "service without an ARN")
				continue
			}
			if aws.ToString(s.Status) == "INACTIVE" {
				continue
			}
			byName[name] = arn
			res.Components = append(res.Components, t.component(resource{
				typ: typeECSService, id: arn, short: clusterName, name: name, tags: ecsTags(s.Tags), data: s,
			}))
			res.Relations = append(res.Relations, rel(cluster, arn, model.HasClusterNode))
			for _, lb := range s.LoadBalancers {
				if tg := aws.ToString(lb.TargetGroupArn); tg != "" {
					res.Relations = append(res.Relations, rel(arn, tg, model.UsesService))
				}
				if elb := aws.ToString(lb.LoadBalancerName); elb != "" {
					res.Relations = append(res.Relations, rel(arn,
						"arn:"+t.Partition.ID+":elasticloadbalancing:"+t.Region+":"+t.Account+":loadbalancer/"+elb, model.UsesService))
				}
			}
		}
	}
	return byName, nil
}

// ecsTasks describes the cluster's running tasks: each belongs to its
// service when its group names one, else to the cluster.
func ecsTasks(ctx context.Context, t Target, client ecsAPI, cluster, clusterName string, services map[string]string, res *Result) error {
	var arns []string
	p := ecs.NewListTasksPaginator(client, &ecs.ListTasksInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		arns = append(arns, page.TaskArns...)
	}
	for batch := range slices.Chunk(arns, ecsTaskBatch) {
		out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{
			Cluster: aws.String(cluster), Tasks: batch, Include: []ecstypes.TaskField{ecstypes.TaskFieldTags},
		})
		if err != nil {
			return err
		}
		for _, task := range out.Tasks {
			arn := aws.ToString(task.TaskArn)
			if arn == "" {
				res.malformed("ecs", aws.ToString(task.Group), "task without an ARN")
				continue
			}
			id := arn[strings.LastIndexByte(arn, '/')+1:]
			owner := cluster
			if svc, ok := strings.CutPrefix(aws.ToString(task.Group), "service:"); ok {
				owner = services[svc]
			}
			if owner != "" {
				res.Relations = append(res.Relations, rel(owner, arn, model.HasClusterNode))
			}
			res.Components = append(res.Components, t.component(resource{
				typ: typeECSTask, id: arn, short: clusterName, name: id, tags: ecsTags(task.Tags),
				idents: taskIPs(ctx, t, task), data: redactTask(task),
			}))
		}
	}
	return nil
}

// taskIPs returns the urn:vpcip identifiers of a task's network interfaces
// (awsvpc mode), the VPC taken from the region's network interfaces.
func taskIPs(ctx context.Context, t Target, task ecstypes.Task) []string {
	var out []string
	for _, a := range task.Attachments {
		if aws.ToString(a.Type) != "ElasticNetworkInterface" {
			continue
		}
		var eni, ip string
		for _, d := range a.Details {
			switch aws.ToString(d.Name) {
			case "networkInterfaceId":
				eni = aws.ToString(d.Value)
			case "privateIPv4Address":
				ip = aws.ToString(d.Value)
			}
		}
		if eni == "" || ip == "" {
			continue
		}
		enis, err := t.networkInterfaces(ctx)
		if err != nil {
			return out
		}
		for _, n := range enis {
			if aws.ToString(n.NetworkInterfaceId) == eni && aws.ToString(n.VpcId) != "" {
				out = append(out, vpcIP(aws.ToString(n.VpcId), ip))
			}
		}
	}
	return out
}

// redactTask drops the values of environment variables a task was started
// with: they may hold secrets. The names are kept.
func redactTask(task ecstypes.Task) ecstypes.Task {
	if task.Overrides == nil {
		return task
	}
	o := *task.Overrides
	o.ContainerOverrides = slices.Clone(o.ContainerOverrides)
	for i, c := range o.ContainerOverrides {
		env := make([]ecstypes.KeyValuePair, len(c.Environment))
		for j, kv := range c.Environment {
			env[j] = ecstypes.KeyValuePair{Name: kv.Name}
		}
		o.ContainerOverrides[i].Environment = env
	}
	task.Overrides = &o
	return task
}

// ecsContainerInstances relates the cluster to the EC2 instances that host
// its container instances.
func ecsContainerInstances(ctx context.Context, client ecsAPI, cluster string, res *Result) error {
	var arns []string
	p := ecs.NewListContainerInstancesPaginator(client, &ecs.ListContainerInstancesInput{
		Cluster: aws.String(cluster), MaxResults: aws.Int32(100),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		arns = append(arns, page.ContainerInstanceArns...)
	}
	for batch := range slices.Chunk(arns, ecsInstanceBatch) {
		out, err := client.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String(cluster), ContainerInstances: batch,
		})
		if err != nil {
			return err
		}
		for _, ci := range out.ContainerInstances {
			if id := aws.ToString(ci.Ec2InstanceId); id != "" {
				res.Relations = append(res.Relations, rel(cluster, id, model.UsesEC2Host))
			}
		}
	}
	return nil
}

func ecsTags(tags []ecstypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

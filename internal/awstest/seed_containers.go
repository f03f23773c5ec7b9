package awstest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// SeedECS creates the ECS cluster "shop" of the prod VPC: web-1 and app-1
// as its container instances, a service "web" behind the target group
// "ecs-web". It runs no tasks: moto 5.2 fails to start awsvpc (Fargate)
// tasks and describes the containers of other tasks with numbers where the
// API has strings, which the SDK refuses; tasks are tested on recorded
// responses instead.
func SeedECS(ctx context.Context, s *Seed) error {
	vpc, err1 := s.Need("<vpc:prod>")
	web, err2 := s.Need("<i:web-1>")
	app, err3 := s.Need("<i:app-1>")
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	c := ecs.NewFromConfig(s.Config)
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{
		ClusterName: aws.String("shop"),
		Tags:        []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}},
	}); err != nil {
		return fmt.Errorf("create ecs cluster: %w", err)
	}
	for _, i := range []struct{ id, name string }{{web, "web-1"}, {app, "app-1"}} {
		out, err := c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
			Cluster:                  aws.String("shop"),
			InstanceIdentityDocument: aws.String(`{"instanceId":"` + i.id + `"}`),
		})
		if err != nil {
			return fmt.Errorf("register container instance %s: %w", i.name, err)
		}
		if err := s.Add(aws.ToString(out.ContainerInstance.ContainerInstanceArn), "ecs-container-instance", i.name); err != nil {
			return err
		}
	}
	for _, family := range []string{"web"} {
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family:      aws.String(family),
			NetworkMode: ecstypes.NetworkModeBridge,
			ContainerDefinitions: []ecstypes.ContainerDefinition{{
				Name: aws.String(family), Image: aws.String("nginx"), Essential: aws.Bool(true),
				MemoryReservation: aws.Int32(128), // moto answers cpu and memory as numbers where the API has strings
			}},
		}); err != nil {
			return fmt.Errorf("register task definition %s: %w", family, err)
		}
	}
	tg, err := elasticloadbalancingv2.NewFromConfig(s.Config).CreateTargetGroup(ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
		Name: aws.String("ecs-web"), Protocol: "HTTP", Port: aws.Int32(80), VpcId: aws.String(vpc), TargetType: "ip",
	})
	if err != nil {
		return fmt.Errorf("create target group ecs-web: %w", err)
	}
	tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if err := s.Add(tgARN, "tg-arn", "ecs-web"); err != nil {
		return err
	}
	svc, err := c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("shop"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web"),
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeEc2,
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tgARN), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}},
		Tags:          []ecstypes.Tag{{Key: aws.String("tier"), Value: aws.String("web")}},
	})
	if err != nil {
		return fmt.Errorf("create ecs service web: %w", err)
	}
	for k, d := range svc.Service.Deployments {
		if err := s.Add(aws.ToString(d.Id), "ecs-deployment", fmt.Sprintf("web:%d", k)); err != nil {
			return err
		}
	}
	return nil
}

// SeedEKS creates the EKS cluster "shop-k8s" in the prod VPC's subnets with
// the web security group, and its node group "workers".
func SeedEKS(ctx context.Context, s *Seed) error {
	pub, err1 := s.Need("<subnet:prod-public>")
	priv, err2 := s.Need("<subnet:prod-private>")
	sg, err3 := s.Need("<sg:web>")
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	c := eks.NewFromConfig(s.Config)
	out, err := c.CreateCluster(ctx, &eks.CreateClusterInput{
		Name:    aws.String("shop-k8s"),
		RoleArn: aws.String("arn:aws:iam::" + s.Account + ":role/eks-cluster"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{
			SubnetIds: []string{pub, priv}, SecurityGroupIds: []string{sg},
		},
		Tags: map[string]string{"team": "platform"},
	})
	if err != nil {
		return fmt.Errorf("create eks cluster: %w", err)
	}
	cl := out.Cluster
	// The endpoint's host is random, and its identifier lower-cased.
	host := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cl.Endpoint), "https://"), "/")
	errs := []error{
		s.Add(host, "eks-endpoint", "shop-k8s"),
		s.Add(aws.ToString(cl.Id), "eks-cluster-id", "shop-k8s"),
		s.Add(aws.ToString(cl.ClientRequestToken), "eks-token", "shop-k8s"),
	}
	if lower := strings.ToLower(host); lower != host {
		errs = append(errs, s.Add(lower, "eks-endpoint", "shop-k8s:lower"))
	}
	if cl.ResourcesVpcConfig != nil {
		errs = append(errs, s.Add(aws.ToString(cl.ResourcesVpcConfig.ClusterSecurityGroupId), "sg", "eks:shop-k8s"))
	}
	if cl.Identity != nil && cl.Identity.Oidc != nil {
		errs = append(errs, s.Add(aws.ToString(cl.Identity.Oidc.Issuer), "eks-oidc", "shop-k8s"))
	}
	if cl.CertificateAuthority != nil {
		errs = append(errs, s.Add(aws.ToString(cl.CertificateAuthority.Data), "eks-ca", "shop-k8s"))
	}
	ng, err := c.CreateNodegroup(ctx, &eks.CreateNodegroupInput{
		ClusterName: aws.String("shop-k8s"), NodegroupName: aws.String("workers"), ClientRequestToken: aws.String("skymap-workers"),
		NodeRole: aws.String("arn:aws:iam::" + s.Account + ":role/eks-node"),
		Subnets:  []string{priv}, Tags: map[string]string{"team": "platform"},
	})
	if err != nil {
		return fmt.Errorf("create eks node group: %w", err)
	}
	n := ng.Nodegroup
	arn := aws.ToString(n.NodegroupArn)
	errs = append(errs, s.Add(arn[strings.LastIndexByte(arn, '/')+1:], "eks-nodegroup-id", "workers"))
	if n.Resources != nil {
		for _, asg := range n.Resources.AutoScalingGroups {
			errs = append(errs, s.Add(aws.ToString(asg.Name), "asg", "eks:workers"))
		}
		errs = append(errs, s.Add(aws.ToString(n.Resources.RemoteAccessSecurityGroup), "sg", "eks-remote:workers"))
	}
	return errors.Join(errs...)
}

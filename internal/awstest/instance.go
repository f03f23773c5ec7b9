package awstest

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// instance launches one instance and maps everything moto generated for it.
// The client token is fixed, so that the launch itself is deterministic.
func (rb *regionBuilder) instance(ctx context.Context, subnetID string, in Instance, groups map[string]string) error {
	var groupIDs []string
	for _, g := range in.SecurityGroups {
		groupIDs = append(groupIDs, groups[g])
	}
	input := &ec2.RunInstancesInput{
		ImageId:           aws.String(cmp.Or(in.Image, DefaultImage)),
		InstanceType:      types.InstanceType(cmp.Or(in.Type, DefaultInstanceType)),
		MinCount:          aws.Int32(1),
		MaxCount:          aws.Int32(1),
		SubnetId:          aws.String(subnetID),
		SecurityGroupIds:  groupIDs,
		ClientToken:       aws.String("skymap-" + in.Name),
		TagSpecifications: tagSpec(types.ResourceTypeInstance, in.Name, in.Tags),
	}
	if in.PrivateIP != "" {
		input.PrivateIpAddress = aws.String(in.PrivateIP)
	}
	out, err := rb.ec2.RunInstances(ctx, input)
	if err != nil {
		return fmt.Errorf("run instance %s: %w", in.Name, err)
	}
	if len(out.Instances) != 1 {
		return fmt.Errorf("run instance %s: got %d instances", in.Name, len(out.Instances))
	}
	i, n := out.Instances[0], in.Name
	errs := []error{
		rb.add(aws.ToString(out.ReservationId), "r", n),
		rb.add(aws.ToString(i.InstanceId), "i", n),
		rb.add(aws.ToString(i.PrivateIpAddress), "ip", n),
		rb.add(aws.ToString(i.PrivateDnsName), "dns", n),
		rb.add(aws.ToString(i.PublicIpAddress), "public-ip", n),
		rb.add(aws.ToString(i.PublicDnsName), "public-dns", n),
	}
	for k, eni := range i.NetworkInterfaces {
		label := n
		if k > 0 {
			label = fmt.Sprintf("%s:%d", n, k)
		}
		errs = append(errs,
			rb.add(aws.ToString(eni.NetworkInterfaceId), "eni", label),
			rb.add(aws.ToString(eni.MacAddress), "mac", label))
		if eni.Attachment != nil {
			errs = append(errs, rb.add(aws.ToString(eni.Attachment.AttachmentId), "eni-attach", label))
		}
		if eni.Association != nil {
			errs = append(errs, rb.add(aws.ToString(eni.Association.PublicDnsName), "eni-public-dns", label))
		}
		for _, ip := range eni.PrivateIpAddresses {
			if aws.ToString(ip.PrivateIpAddress) != aws.ToString(i.PrivateIpAddress) {
				errs = append(errs, rb.add(aws.ToString(ip.PrivateIpAddress), "ip", label+":"+aws.ToString(ip.PrivateIpAddress)))
			}
		}
	}
	for k, bd := range i.BlockDeviceMappings {
		label := n
		if k > 0 {
			label = n + ":" + aws.ToString(bd.DeviceName)
		}
		if bd.Ebs != nil {
			errs = append(errs, rb.add(aws.ToString(bd.Ebs.VolumeId), "vol", label))
		}
	}
	return errors.Join(errs...)
}

package app

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/collect/flowlogs"
)

// TestLogFormatsFromDescribeFlowLogs checks the fallback format of objects
// without a header line: the LogFormat of the flow log their file name
// names, read from moto's DescribeFlowLogs.
func TestLogFormatsFromDescribeFlowLogs(t *testing.T) {
	m := awstest.Shared(t)
	m.SetEnv(t, "us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const account, region = "123456789012", "eu-west-1"
	awsCfg, err := m.Config(ctx, region, account)
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(awsCfg)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.42.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	const custom = "${version} ${vpc-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
	fl, err := c.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{
		ResourceIds: []string{aws.ToString(vpc.Vpc.VpcId)}, ResourceType: ec2types.FlowLogsResourceTypeVpc,
		TrafficType: ec2types.TrafficTypeAll, LogDestinationType: ec2types.LogDestinationTypeCloudWatchLogs,
		LogGroupName: aws.String("flows"), DeliverLogsPermissionArn: aws.String("arn:aws:iam::123456789012:role/flows"),
		LogFormat: aws.String(custom),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(fl.FlowLogIds) != 1 {
		t.Fatalf("created %d flow logs", len(fl.FlowLogIds))
	}
	id := fl.FlowLogIds[0]
	prov, err := newProvider(ctx, testConfig(t, optOut), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := prov.Account(ctx, "arn:aws:iam::123456789012:role/StackStateAwsIntegrationRole")
	if err != nil {
		t.Fatal(err)
	}
	formats := newLogFormats(acct, slog.New(slog.DiscardHandler))
	key := awstest.FlowLogKey(account, region, id, time.Now(), "abc")
	if got := flowlogs.FlowLogID(key); got != id {
		t.Fatalf("FlowLogID(%q) = %q, want %q", key, got, id)
	}
	f := formats.of(ctx, flowlogs.Object{Key: key, Account: account, Region: region})
	if f == nil {
		t.Fatalf("no format for %s", id)
	}
	if !slices.Contains(f.Names(), "vpc-id") || f.Names()[1] != "vpc-id" {
		t.Errorf("format %v, want the flow log's custom one", f.Names())
	}
	other := awstest.FlowLogKey(account, region, "fl-0000000000000000", time.Now(), "abc")
	if f := formats.of(ctx, flowlogs.Object{Key: other, Account: account, Region: region}); f != nil {
		t.Errorf("an unknown flow log got format %v", f.Names())
	}
}

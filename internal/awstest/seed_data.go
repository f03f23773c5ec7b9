package awstest

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SeedDatabases creates, in the prod VPC's subnets behind the db security
// group: a PostgreSQL instance "orders-db" with the network interface RDS
// would give it, a Redshift cluster "analytics" and a Redis cache cluster
// "sessions-cache"; and behind the aurora security group an Aurora cluster
// "orders-aurora" with one member instance.
func SeedDatabases(ctx context.Context, s *Seed) error {
	public, err := s.Need("<subnet:prod-public>")
	if err != nil {
		return err
	}
	private, err := s.Need("<subnet:prod-private>")
	if err != nil {
		return err
	}
	db, err := s.Need("<sg:db>")
	if err != nil {
		return err
	}
	aurora, err := s.Need("<sg:aurora>")
	if err != nil {
		return err
	}
	subnets := []string{public, private}

	r := rds.NewFromConfig(s.Config)
	if _, err := r.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{
		DBSubnetGroupName: aws.String("prod-db"), DBSubnetGroupDescription: aws.String("prod databases"), SubnetIds: subnets,
	}); err != nil {
		return fmt.Errorf("create db subnet group: %w", err)
	}
	inst, err := r.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("orders-db"), DBInstanceClass: aws.String("db.t3.micro"),
		Engine: aws.String("postgres"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("orders"), MasterUserPassword: aws.String("not-a-real-password"),
		DBSubnetGroupName: aws.String("prod-db"), VpcSecurityGroupIds: []string{db},
		Tags: []rdstypes.Tag{{Key: aws.String("team"), Value: aws.String("orders")}},
	})
	if err != nil {
		return fmt.Errorf("create db instance orders-db: %w", err)
	}
	if err := s.Add(aws.ToString(inst.DBInstance.DbiResourceId), "rds-resource", "orders-db"); err != nil {
		return err
	}
	if err := s.addRDSInterface(ctx, public, db, "orders-db"); err != nil {
		return err
	}
	cl, err := r.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("orders-aurora"), Engine: aws.String("aurora-postgresql"),
		MasterUsername: aws.String("orders"), MasterUserPassword: aws.String("not-a-real-password"),
		DBSubnetGroupName: aws.String("prod-db"), VpcSecurityGroupIds: []string{aurora},
		Tags: []rdstypes.Tag{{Key: aws.String("team"), Value: aws.String("orders")}},
	})
	if err != nil {
		return fmt.Errorf("create db cluster orders-aurora: %w", err)
	}
	for _, g := range [][3]string{
		{aws.ToString(cl.DBCluster.DbClusterResourceId), "rds-resource", "orders-aurora"},
		{aws.ToString(cl.DBCluster.Endpoint), "dns", "orders-aurora"},
		{aws.ToString(cl.DBCluster.ReaderEndpoint), "dns", "orders-aurora-ro"},
		{aws.ToString(cl.DBCluster.HostedZoneId), "hosted-zone", "orders-aurora"},
	} {
		if err := s.Add(g[0], g[1], g[2]); err != nil {
			return err
		}
	}
	member, err := r.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("orders-aurora-1"), DBInstanceClass: aws.String("db.r6g.large"),
		Engine: aws.String("aurora-postgresql"), DBClusterIdentifier: aws.String("orders-aurora"),
		DBSubnetGroupName: aws.String("prod-db"),
	})
	if err != nil {
		return fmt.Errorf("create db instance orders-aurora-1: %w", err)
	}
	// moto may give a cluster's member the resource id of another instance.
	if _, known := s.Placeholder(aws.ToString(member.DBInstance.DbiResourceId)); !known {
		if err := s.Add(aws.ToString(member.DBInstance.DbiResourceId), "rds-resource", "orders-aurora-1"); err != nil {
			return err
		}
	}

	rs := redshift.NewFromConfig(s.Config)
	if _, err := rs.CreateClusterSubnetGroup(ctx, &redshift.CreateClusterSubnetGroupInput{
		ClusterSubnetGroupName: aws.String("prod-analytics"), Description: aws.String("prod analytics"), SubnetIds: subnets,
	}); err != nil {
		return fmt.Errorf("create redshift subnet group: %w", err)
	}
	if _, err := rs.CreateCluster(ctx, &redshift.CreateClusterInput{
		ClusterIdentifier: aws.String("analytics"), NodeType: aws.String("dc2.large"), ClusterType: aws.String("single-node"),
		MasterUsername: aws.String("analytics"), MasterUserPassword: aws.String("Not-a-real-password1"),
		ClusterSubnetGroupName: aws.String("prod-analytics"), VpcSecurityGroupIds: []string{db},
		Tags: []rstypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
	}); err != nil {
		return fmt.Errorf("create redshift cluster analytics: %w", err)
	}
	described, err := rs.DescribeClusters(ctx, &redshift.DescribeClustersInput{ClusterIdentifier: aws.String("analytics")})
	if err != nil {
		return fmt.Errorf("describe redshift cluster analytics: %w", err)
	}
	for _, c := range described.Clusters {
		if c.Endpoint != nil {
			if err := s.Add(aws.ToString(c.Endpoint.Address), "dns", "analytics"); err != nil {
				return err
			}
		}
	}

	ec := elasticache.NewFromConfig(s.Config)
	if _, err := ec.CreateCacheSubnetGroup(ctx, &elasticache.CreateCacheSubnetGroupInput{
		CacheSubnetGroupName: aws.String("prod-cache"), CacheSubnetGroupDescription: aws.String("prod caches"), SubnetIds: subnets,
	}); err != nil {
		return fmt.Errorf("create cache subnet group: %w", err)
	}
	if _, err := ec.CreateCacheCluster(ctx, &elasticache.CreateCacheClusterInput{
		CacheClusterId: aws.String("sessions-cache"), Engine: aws.String("redis"), CacheNodeType: aws.String("cache.t3.micro"),
		NumCacheNodes: aws.Int32(1), CacheSubnetGroupName: aws.String("prod-cache"), SecurityGroupIds: []string{db},
		Tags: []ectypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	}); err != nil {
		return fmt.Errorf("create cache cluster sessions-cache: %w", err)
	}
	return nil
}

// addRDSInterface creates the network interface RDS gives a DB instance
// (label) in subnet behind group, which moto does not, and adds
// placeholders for its generated values. moto cannot mark an interface
// requester-managed by amazon-rds as AWS does: it carries RDS's description
// only, which skymap accepts on an interface that is not requester-managed.
// moto picks the interface's address at random in the subnet, sometimes
// one an instance was given: such an interface is made again.
func (s *Seed) addRDSInterface(ctx context.Context, subnet, group, label string) error {
	c := ec2.NewFromConfig(s.Config)
	var n *ec2types.NetworkInterface
	for try := 1; ; try++ {
		out, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
			SubnetId: aws.String(subnet), Groups: []string{group}, Description: aws.String("RDSNetworkInterface"),
		})
		if err != nil {
			return fmt.Errorf("create network interface of %s: %w", label, err)
		}
		n = out.NetworkInterface
		if _, taken := s.Placeholder(aws.ToString(n.PrivateIpAddress)); !taken || try == 5 {
			break
		}
		if _, err := c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: n.NetworkInterfaceId}); err != nil {
			return fmt.Errorf("delete network interface of %s with a taken address: %w", label, err)
		}
	}
	return errors.Join(s.Add(aws.ToString(n.NetworkInterfaceId), "eni", label), s.Add(aws.ToString(n.MacAddress), "mac", label),
		s.Add(aws.ToString(n.PrivateIpAddress), "ip", label), s.Add(aws.ToString(n.PrivateDnsName), "dns", label))
}

// SeedDynamoDB creates the tables "orders" (with a stream, tagged) and
// "sessions" (without a stream).
func SeedDynamoDB(ctx context.Context, s *Seed) error {
	c := dynamodb.NewFromConfig(s.Config)
	for _, tb := range []struct {
		name   string
		stream bool
	}{{"orders", true}, {"sessions", false}} {
		in := &dynamodb.CreateTableInput{
			TableName:            aws.String(tb.name),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			Tags:                 []ddbtypes.Tag{{Key: aws.String("team"), Value: aws.String(tb.name)}},
		}
		if tb.stream {
			in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages}
		}
		out, err := c.CreateTable(ctx, in)
		if err != nil {
			return fmt.Errorf("create table %s: %w", tb.name, err)
		}
		d := out.TableDescription
		if err := s.Add(aws.ToString(d.TableId), "table-id", tb.name); err != nil {
			return err
		}
		if err := s.Add(aws.ToString(d.LatestStreamArn), "ddb-stream", tb.name); err != nil {
			return err
		}
		if err := s.Add(aws.ToString(d.LatestStreamLabel), "ddb-stream-label", tb.name); err != nil {
			return err
		}
	}
	return nil
}

// SeedMessaging creates the queues "orders" (with the dead-letter queue
// "orders-dlq") and "skymap-demo-log-events" (the target of the log
// bucket's notifications), the topic "order-events" with an SQS, an HTTPS
// and an email subscription, the Kinesis stream "clickstream" and the
// delivery stream "clickstream-archive" that reads it into the log bucket.
func SeedMessaging(ctx context.Context, s *Seed) error {
	// Queue URLs carry moto's address, which changes from run to run; the
	// console URL carries it escaped.
	if base := aws.ToString(s.Config.BaseEndpoint); base != "" {
		if err := s.Add(base, "moto", "url"); err != nil {
			return err
		}
		if err := s.Add(url.PathEscape(base), "moto", "url-escaped"); err != nil {
			return err
		}
	}
	q := sqs.NewFromConfig(s.Config)
	dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders-dlq")})
	if err != nil {
		return fmt.Errorf("create queue orders-dlq: %w", err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("get attributes of queue orders-dlq: %w", err)
	}
	dlqARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if _, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String("orders"),
		Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"5"}`,
			"VisibilityTimeout": "60"},
		Tags: map[string]string{"team": "orders"},
	}); err != nil {
		return fmt.Errorf("create queue orders: %w", err)
	}
	if _, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("skymap-demo-log-events")}); err != nil {
		return fmt.Errorf("create queue skymap-demo-log-events: %w", err)
	}

	n := sns.NewFromConfig(s.Config)
	topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("order-events"),
		Tags: []snstypes.Tag{{Key: aws.String("team"), Value: aws.String("orders")}}})
	if err != nil {
		return fmt.Errorf("create topic order-events: %w", err)
	}
	for _, sub := range []struct{ protocol, endpoint string }{
		{"sqs", "arn:aws:sqs:" + s.Region + ":" + s.Account + ":orders"},
		{"https", "https://hooks.example.com/orders?token=secret"},
		{"email", "orders-team@example.com"},
	} {
		out, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String(sub.protocol),
			Endpoint: aws.String(sub.endpoint), ReturnSubscriptionArn: true})
		if err != nil {
			return fmt.Errorf("subscribe %s to topic order-events: %w", sub.protocol, err)
		}
		if err := s.Add(aws.ToString(out.SubscriptionArn), "subscription", "order-events:"+sub.protocol); err != nil {
			return err
		}
	}

	k := kinesis.NewFromConfig(s.Config)
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("clickstream"), ShardCount: aws.Int32(1)}); err != nil {
		return fmt.Errorf("create stream clickstream: %w", err)
	}
	if _, err := k.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("clickstream"),
		Tags: map[string]string{"team": "web"}}); err != nil {
		return fmt.Errorf("tag stream clickstream: %w", err)
	}
	stream := "arn:aws:kinesis:" + s.Region + ":" + s.Account + ":stream/clickstream"
	role := "arn:aws:iam::" + s.Account + ":role/firehose-delivery"
	if _, err := firehose.NewFromConfig(s.Config).CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("clickstream-archive"),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{
			KinesisStreamARN: aws.String(stream), RoleARN: aws.String(role),
		},
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::skymap-demo-logs"), RoleARN: aws.String(role),
			Prefix: aws.String("clickstream/"),
		},
		Tags: []fhtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	}); err != nil {
		return fmt.Errorf("create delivery stream clickstream-archive: %w", err)
	}
	return nil
}

// QueueFanout returns a Seeder of a topic that fans out to a queue with a
// dead-letter queue, all named from prefix: the messaging of the estate's
// other accounts and regions, so that scans see services beyond one
// account-region.
func QueueFanout(prefix string) Seeder {
	return func(ctx context.Context, s *Seed) error {
		if base := aws.ToString(s.Config.BaseEndpoint); base != "" {
			if err := errors.Join(s.Add(base, "moto", "url"), s.Add(url.PathEscape(base), "moto", "url-escaped")); err != nil {
				return err
			}
		}
		q := sqs.NewFromConfig(s.Config)
		if _, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(prefix + "-dlq")}); err != nil {
			return fmt.Errorf("create queue %s-dlq: %w", prefix, err)
		}
		dlqARN := "arn:aws:sqs:" + s.Region + ":" + s.Account + ":" + prefix + "-dlq"
		if _, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{
			QueueName:  aws.String(prefix),
			Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"3"}`},
			Tags:       map[string]string{"owner": prefix},
		}); err != nil {
			return fmt.Errorf("create queue %s: %w", prefix, err)
		}
		n := sns.NewFromConfig(s.Config)
		topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(prefix + "-events")})
		if err != nil {
			return fmt.Errorf("create topic %s-events: %w", prefix, err)
		}
		sub, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint: aws.String("arn:aws:sqs:" + s.Region + ":" + s.Account + ":" + prefix), ReturnSubscriptionArn: true})
		if err != nil {
			return fmt.Errorf("subscribe queue %s: %w", prefix, err)
		}
		return s.Add(aws.ToString(sub.SubscriptionArn), "subscription", prefix+"-events:sqs")
	}
}

package inventory

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/partition"
)

// motoTarget is a target in moto's default account in eu-west-1, calling
// endpoint (moto or a proxy in front of it).
func motoTarget(t *testing.T, m *awstest.Moto, endpoint string) Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := m.Config(ctx, "eu-west-1", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	cfg.RetryMaxAttempts = 1
	p, _ := partition.ByID("aws")
	return Target{Account: awstest.DefaultAccount, Partition: p, Region: "eu-west-1", Config: cfg}
}

// create runs make n times, a few at a time.
func create(t *testing.T, n int, make func(ctx context.Context, i int) error) {
	t.Helper()
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(4)
	for i := range n {
		g.Go(func() error { return awstest.RetriedCreate(make(ctx, i)) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

func createTable(ctx context.Context, c *dynamodb.Client, name string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		Tags:                 []ddbtypes.Tag{{Key: aws.String("n"), Value: aws.String(name)}},
	})
	return err
}

// TestDataListingsPaginate creates more than a page of tables (ListTables
// pages at 100), topics (ListTopics at 100) and DB instances (100 per
// DescribeDBInstances) in moto and checks that every one is listed once.
func TestDataListingsPaginate(t *testing.T) {
	m := awstest.StartT(t)
	tg := motoTarget(t, m, m.URL)
	const n = 101
	ddb := dynamodb.NewFromConfig(tg.Config)
	create(t, n, func(ctx context.Context, i int) error { return createTable(ctx, ddb, fmt.Sprintf("t-%03d", i)) })
	topics := sns.NewFromConfig(tg.Config)
	create(t, n, func(ctx context.Context, i int) error {
		_, err := topics.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(fmt.Sprintf("topic-%03d", i))})
		return err
	})
	db := rds.NewFromConfig(tg.Config)
	create(t, n, func(ctx context.Context, i int) error {
		_, err := db.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(fmt.Sprintf("db-%03d", i)), DBInstanceClass: aws.String("db.t3.micro"),
			Engine: aws.String("postgres"), AllocatedStorage: aws.Int32(20),
			MasterUsername: aws.String("u"), MasterUserPassword: aws.String("not-a-real-password"),
		})
		return err
	})

	for _, tt := range []struct {
		name string
		run  func(context.Context, Target) (Result, error)
		typ  string
		id   func(i int) string
	}{
		{"tables", collectTables, typeDynamoDBTable, func(i int) string {
			return fmt.Sprintf("arn:aws:dynamodb:eu-west-1:123456789012:table/t-%03d", i)
		}},
		{"topics", collectTopics, typeTopic, func(i int) string {
			return fmt.Sprintf("arn:aws:sns:eu-west-1:123456789012:topic-%03d", i)
		}},
		{"db instances", collectDBInstances, typeRDSInstance, func(i int) string {
			return fmt.Sprintf("arn:aws:rds:eu-west-1:123456789012:db:db-%03d", i)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.run(context.Background(), tg)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, c := range res.Components {
				if c.Type == tt.typ {
					seen[c.ID]++
				}
			}
			if len(seen) != n {
				t.Errorf("%d listed, want %d", len(seen), n)
			}
			for i := range n {
				if seen[tt.id(i)] != 1 {
					t.Errorf("%s listed %d times, want once", tt.id(i), seen[tt.id(i)])
				}
			}
		})
	}
}

// TestDataDetailsDenied checks that resources whose detail calls are denied
// are kept with what is known, and that the listing stays complete.
func TestDataDetailsDenied(t *testing.T) {
	m := awstest.StartT(t)
	proxy := awstest.NewProxy(t, m.URL)
	tg := motoTarget(t, m, proxy.URL)
	ctx := context.Background()
	if err := createTable(ctx, dynamodb.NewFromConfig(tg.Config), "orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(tg.Config).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")}); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"DescribeTable", "ListTagsOfResource", "GetTopicAttributes", "ListTagsForResource", "ListSubscriptions"} {
		proxy.Fail(action, awstest.Denied("AccessDeniedException"))
	}
	for _, tt := range []struct {
		run func(context.Context, Target) (Result, error)
		id  string
	}{
		{collectTables, "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"},
		{collectTopics, "arn:aws:sns:eu-west-1:123456789012:events"},
	} {
		res, err := tt.run(ctx, tg)
		if err != nil {
			t.Errorf("%s: listing incomplete: %v", tt.id, err)
		}
		if len(res.Components) != 1 || res.Components[0].ID != tt.id {
			t.Errorf("components %+v, want %s alone", res.Components, tt.id)
		}
	}
	// A throttled detail call leaves the resource out and the listing incomplete.
	proxy.Clear()
	proxy.Fail("ListTagsOfResource", awstest.Fault{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "slow down"})
	res, err := collectTables(ctx, tg)
	if err == nil || len(res.Components) != 0 {
		t.Errorf("throttled tags: components %d, err %v; want none and an error", len(res.Components), err)
	}
}

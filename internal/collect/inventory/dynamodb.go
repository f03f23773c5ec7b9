package inventory

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/skymap/skymap/internal/model"
)

// DynamoDB component types.
const (
	typeDynamoDBTable  = "aws.dynamodb.table"
	typeDynamoDBStream = "aws.dynamodb.streams"
)

var dynamodbTypes = map[string]typeInfo{
	typeDynamoDBTable: {model.LayerDatabases, "/dynamodbv2/home?region={region}#table?name={id}", "DynamoDB",
		"arn:{partition}:dynamodb:{region}:{account}:table/{id}"},
	// A stream's console is its table's exports and streams tab; short is the table name.
	typeDynamoDBStream: {model.LayerDatabases, "/dynamodbv2/home?region={region}#table?name={id}&tab=streams", "DynamoDB", ""},
}

var dynamodbListings = []listing{
	{"dynamodb", "tables", []string{typeDynamoDBTable, typeDynamoDBStream}, regional, collectTables, []string{
		"dynamodb:ListTables", "dynamodb:DescribeTable", "dynamodb:ListTagsOfResource"}},
}

func collectTables(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := dynamodb.NewFromConfig(t.Config)
	var names []string
	p := dynamodb.NewListTablesPaginator(client, &dynamodb.ListTablesInput{Limit: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		names = append(names, page.TableNames...)
	}
	return res, describeEach(ctx, &res, names,
		func(name string) string { return "table " + name },
		func(ctx context.Context, name string, out *Result) error {
			return table(ctx, t, client, name, out)
		})
}

// table describes one table and its stream. Denied details leave their part
// out; a table deleted since the listing is dropped; other failures leave
// the table out and are returned.
func table(ctx context.Context, t Target, client *dynamodb.Client, name string, res *Result) error {
	if name == "" {
		res.malformed("dynamodb:ListTables", "", "empty table name")
		return nil
	}
	id := arnOf(typeDynamoDBTable, t.Partition, t.Region, t.Account, name)
	var data any = map[string]any{"TableName": name}
	var desc *ddbtypes.TableDescription
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	switch {
	case gone(err):
		return nil
	case denied(err):
	case err != nil:
		return err
	case out.Table != nil:
		desc, data = out.Table, out.Table
		if arn := aws.ToString(desc.TableArn); arn != "" {
			id = arn
		}
	}
	tags, err := tableTags(ctx, client, id)
	switch {
	case gone(err):
		return nil
	case denied(err):
	case err != nil:
		return err
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeDynamoDBTable, id: id, short: name, name: name, tags: tags, data: data,
	}))
	if desc == nil || aws.ToString(desc.LatestStreamArn) == "" {
		return nil
	}
	if desc.StreamSpecification != nil && !aws.ToBool(desc.StreamSpecification.StreamEnabled) {
		return nil
	}
	stream := aws.ToString(desc.LatestStreamArn)
	streamData := map[string]any{"StreamArn": stream, "StreamLabel": aws.ToString(desc.LatestStreamLabel),
		"TableName": name, "TableArn": id}
	if desc.StreamSpecification != nil {
		streamData["StreamViewType"] = string(desc.StreamSpecification.StreamViewType)
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeDynamoDBStream, id: stream, short: name, name: name + "/stream/" + aws.ToString(desc.LatestStreamLabel),
		data: streamData,
	}))
	res.Relations = append(res.Relations, rel(id, stream, model.UsesService))
	return nil
}

// tableTags reads every tag of a table (ListTagsOfResource pages by NextToken).
func tableTags(ctx context.Context, client *dynamodb.Client, arn string) (map[string]string, error) {
	tags := map[string]string{}
	in := &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)}
	for {
		out, err := client.ListTagsOfResource(ctx, in)
		if err != nil {
			return tags, err
		}
		for _, tag := range out.Tags {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if aws.ToString(out.NextToken) == "" || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			return tags, nil
		}
		in.NextToken = out.NextToken
	}
}

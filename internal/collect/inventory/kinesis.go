package inventory

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/skymap/skymap/internal/model"
)

const typeDataStream = "aws.kinesis.data-stream"

var kinesisTypes = map[string]typeInfo{
	typeDataStream: {model.LayerMessaging, "/kinesis/home?region={region}#/streams/details/{id}/monitoring", "Kinesis",
		"arn:{partition}:kinesis:{region}:{account}:stream/{id}"},
}

var kinesisListings = []listing{
	{"kinesis", "streams", []string{typeDataStream}, regional, collectDataStreams, []string{
		"kinesis:ListStreams", "kinesis:ListTagsForStream"}},
}

func collectDataStreams(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := kinesis.NewFromConfig(t.Config)
	streams, err := listStreams(ctx, client)
	if err != nil {
		return res, err
	}
	return res, describeEach(ctx, &res, streams,
		func(s kintypes.StreamSummary) string { return "stream " + aws.ToString(s.StreamName) },
		func(ctx context.Context, s kintypes.StreamSummary, out *Result) error {
			return dataStream(ctx, t, client, s, out)
		})
}

// listStreams pages through ListStreams by NextToken, or, where a server
// answers HasMoreStreams without one, by the last stream name; summaries
// repeated across pages are kept once.
func listStreams(ctx context.Context, client *kinesis.Client) ([]kintypes.StreamSummary, error) {
	var out []kintypes.StreamSummary
	seen := map[string]bool{}
	in := &kinesis.ListStreamsInput{Limit: aws.Int32(1000)}
	for {
		page, err := client.ListStreams(ctx, in)
		if err != nil {
			return out, err
		}
		for _, s := range page.StreamSummaries {
			key := aws.ToString(s.StreamARN) + "\x00" + aws.ToString(s.StreamName)
			if !seen[key] {
				seen[key] = true
				out = append(out, s)
			}
		}
		next := &kinesis.ListStreamsInput{Limit: in.Limit}
		switch {
		case aws.ToString(page.NextToken) != "":
			next.NextToken = page.NextToken
		case aws.ToBool(page.HasMoreStreams) && len(page.StreamNames) > 0:
			next.ExclusiveStartStreamName = aws.String(page.StreamNames[len(page.StreamNames)-1])
		default:
			return out, nil
		}
		if aws.ToString(next.NextToken) == aws.ToString(in.NextToken) &&
			aws.ToString(next.ExclusiveStartStreamName) == aws.ToString(in.ExclusiveStartStreamName) {
			return out, fmt.Errorf("list streams: the same page token twice")
		}
		in = next
	}
}

// dataStream describes one stream. Denied tags are left out; a stream
// deleted meanwhile is dropped; other failures leave it out and are returned.
func dataStream(ctx context.Context, t Target, client *kinesis.Client, s kintypes.StreamSummary, res *Result) error {
	name := aws.ToString(s.StreamName)
	if name == "" {
		res.malformed("kinesis:ListStreams", aws.ToString(s.StreamARN), "no StreamName")
		return nil
	}
	id := aws.ToString(s.StreamARN)
	if id == "" {
		id = arnOf(typeDataStream, t.Partition, t.Region, t.Account, name)
	}
	tags := map[string]string{}
	in := &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)}
	for {
		out, err := client.ListTagsForStream(ctx, in)
		switch {
		case gone(err):
			return nil
		case denied(err):
		case err != nil:
			return err
		}
		if err != nil {
			break
		}
		for _, tag := range out.Tags {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if !aws.ToBool(out.HasMoreTags) || len(out.Tags) == 0 {
			break
		}
		in.ExclusiveStartTagKey = out.Tags[len(out.Tags)-1].Key
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeDataStream, id: id, short: name, name: name, tags: tags, data: s,
	}))
	return nil
}

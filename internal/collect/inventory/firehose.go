package inventory

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/skymap/skymap/internal/model"
)

const typeDeliveryStream = "aws.firehose.delivery-stream"

var firehoseTypes = map[string]typeInfo{
	typeDeliveryStream: {model.LayerMessaging, "/firehose/home?region={region}#/details/{id}/monitoring", "Firehose",
		"arn:{partition}:firehose:{region}:{account}:deliverystream/{id}"},
}

var firehoseListings = []listing{
	{"firehose", "delivery_streams", []string{typeDeliveryStream}, regional, collectDeliveryStreams, []string{
		"firehose:ListDeliveryStreams", "firehose:DescribeDeliveryStream", "firehose:ListTagsForDeliveryStream"}},
}

func collectDeliveryStreams(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := firehose.NewFromConfig(t.Config)
	var names []string
	// ListDeliveryStreams pages by the last name seen, without a token.
	in := &firehose.ListDeliveryStreamsInput{Limit: aws.Int32(10000)}
	for {
		out, err := client.ListDeliveryStreams(ctx, in)
		if err != nil {
			return res, err
		}
		names = append(names, out.DeliveryStreamNames...)
		if !aws.ToBool(out.HasMoreDeliveryStreams) || len(out.DeliveryStreamNames) == 0 {
			break
		}
		in.ExclusiveStartDeliveryStreamName = aws.String(out.DeliveryStreamNames[len(out.DeliveryStreamNames)-1])
	}
	return res, describeEach(ctx, &res, names,
		func(name string) string { return "delivery stream " + name },
		func(ctx context.Context, name string, out *Result) error {
			return deliveryStream(ctx, t, client, name, out)
		})
}

// deliveryStream describes one delivery stream and relates it to its
// source and destinations. A denied description keeps the stream with its
// name only; a stream deleted meanwhile is dropped; other failures leave it
// out and are returned.
func deliveryStream(ctx context.Context, t Target, client *firehose.Client, name string, res *Result) error {
	if name == "" {
		res.malformed("firehose:ListDeliveryStreams", "", "empty delivery stream name")
		return nil
	}
	id := arnOf(typeDeliveryStream, t.Partition, t.Region, t.Account, name)
	var data any = map[string]any{"DeliveryStreamName": name}
	var desc *fhtypes.DeliveryStreamDescription
	out, err := client.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
	switch {
	case gone(err):
		return nil
	case denied(err):
	case err != nil:
		return err
	case out.DeliveryStreamDescription != nil:
		desc = out.DeliveryStreamDescription
		if arn := aws.ToString(desc.DeliveryStreamARN); arn != "" {
			id = arn
		}
		for i := range desc.Destinations {
			if s := desc.Destinations[i].SplunkDestinationDescription; s != nil && s.HECToken != nil {
				splunk := *s
				splunk.HECToken = nil // a secret
				desc.Destinations[i].SplunkDestinationDescription = &splunk
			}
		}
		data = desc
	}
	tags := map[string]string{}
	tin := &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String(name)}
	for {
		tg, err := client.ListTagsForDeliveryStream(ctx, tin)
		if gone(err) {
			return nil
		}
		if err != nil && !denied(err) {
			return err
		}
		if err != nil {
			break
		}
		for _, tag := range tg.Tags {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if !aws.ToBool(tg.HasMoreTags) || len(tg.Tags) == 0 {
			break
		}
		tin.ExclusiveStartTagKey = tg.Tags[len(tg.Tags)-1].Key
	}
	res.Components = append(res.Components, t.component(resource{
		typ: typeDeliveryStream, id: id, short: name, name: name, tags: tags, data: data,
	}))
	if desc != nil {
		res.Relations = append(res.Relations, deliveryStreamRelations(t, id, desc)...)
	}
	return nil
}

// deliveryStreamRelations relates a delivery stream to the stream it reads
// (source -> delivery stream) and to every destination it writes to or
// Lambda function it transforms with (delivery stream -> destination).
func deliveryStreamRelations(t Target, id string, d *fhtypes.DeliveryStreamDescription) []model.Relation {
	var rels []model.Relation
	if src := d.Source; src != nil {
		if k := src.KinesisStreamSourceDescription; k != nil && aws.ToString(k.KinesisStreamARN) != "" {
			rels = append(rels, rel(aws.ToString(k.KinesisStreamARN), id, model.UsesService))
		}
		if m := src.MSKSourceDescription; m != nil && aws.ToString(m.MSKClusterARN) != "" {
			rels = append(rels, rel(aws.ToString(m.MSKClusterARN), id, model.UsesService))
		}
	}
	seen := map[string]bool{}
	to := func(target string) {
		if target != "" && !seen[target] {
			seen[target] = true
			rels = append(rels, rel(id, target, model.UsesService))
		}
	}
	s3 := func(s *fhtypes.S3DestinationDescription) {
		if s != nil {
			to(aws.ToString(s.BucketARN))
		}
	}
	lambdas := func(p *fhtypes.ProcessingConfiguration) {
		if p == nil {
			return
		}
		for _, proc := range p.Processors {
			for _, param := range proc.Parameters {
				if param.ParameterName == fhtypes.ProcessorParameterNameLambdaArn {
					to(aws.ToString(param.ParameterValue))
				}
			}
		}
	}
	for _, dst := range d.Destinations {
		if e := dst.ExtendedS3DestinationDescription; e != nil {
			to(aws.ToString(e.BucketARN))
			lambdas(e.ProcessingConfiguration)
			s3(e.S3BackupDescription)
		}
		s3(dst.S3DestinationDescription)
		if r := dst.RedshiftDestinationDescription; r != nil {
			// The JDBC URL names the cluster's endpoint.
			to(t.reference(aws.ToString(r.ClusterJDBCURL)))
			lambdas(r.ProcessingConfiguration)
			s3(r.S3DestinationDescription)
			s3(r.S3BackupDescription)
		}
		if e := dst.ElasticsearchDestinationDescription; e != nil {
			to(aws.ToString(e.DomainARN))
			lambdas(e.ProcessingConfiguration)
			s3(e.S3DestinationDescription)
		}
		if o := dst.AmazonopensearchserviceDestinationDescription; o != nil {
			to(aws.ToString(o.DomainARN))
			lambdas(o.ProcessingConfiguration)
			s3(o.S3DestinationDescription)
		}
		if o := dst.AmazonOpenSearchServerlessDestinationDescription; o != nil {
			to(t.reference(aws.ToString(o.CollectionEndpoint)))
			lambdas(o.ProcessingConfiguration)
			s3(o.S3DestinationDescription)
		}
		if s := dst.SplunkDestinationDescription; s != nil {
			lambdas(s.ProcessingConfiguration)
			s3(s.S3DestinationDescription)
		}
		if h := dst.HttpEndpointDestinationDescription; h != nil {
			if h.EndpointConfiguration != nil {
				to(t.reference(aws.ToString(h.EndpointConfiguration.Url)))
			}
			lambdas(h.ProcessingConfiguration)
			s3(h.S3DestinationDescription)
		}
	}
	return rels
}

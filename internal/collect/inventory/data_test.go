package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// serverTarget is a target in account 123456789012, eu-west-1, whose SDK
// calls go to srv, without retries.
func serverTarget(t *testing.T, srv *httptest.Server) Target {
	t.Helper()
	p, _ := partition.ByID("aws")
	return Target{Account: "123456789012", Partition: p, Region: "eu-west-1", Config: aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}}
}

func TestQueueHelpers(t *testing.T) {
	names := map[string]string{
		"https://sqs.eu-west-1.amazonaws.com/123456789012/orders":   "orders",
		"https://eu-west-1.queue.amazonaws.com/123456789012/x.fifo": "x.fifo",
		"http://127.0.0.1:5000/123456789012/local/":                 "local",
		"https://sqs.eu-west-1.amazonaws.com/":                      "",
		"%zz":                                                       "",
	}
	for in, want := range names {
		if got := queueName(in); got != want {
			t.Errorf("queueName(%q) = %q, want %q", in, got, want)
		}
	}
	policies := []struct {
		in   string
		want string
		ok   bool
	}{
		{`{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:1:dlq","maxReceiveCount":"5"}`, "arn:aws:sqs:eu-west-1:1:dlq", true},
		{`{"maxReceiveCount":5}`, "", false},
		{`not json`, "", false},
		{``, "", false},
	}
	for _, p := range policies {
		if got, ok := deadLetterTarget(p.in); got != p.want || ok != p.ok {
			t.Errorf("deadLetterTarget(%q) = %q, %v; want %q, %v", p.in, got, ok, p.want, p.ok)
		}
	}
	got := queueAttributes(map[string]string{"CreatedTimestamp": "1700000000.5", "LastModifiedTimestamp": "soon", "DelaySeconds": "0"})
	want := map[string]string{"CreatedTimestamp": "2023-11-14T22:13:20Z", "LastModifiedTimestamp": "soon", "DelaySeconds": "0"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("queueAttributes (-want +got):\n%s", d)
	}
}

func TestWithoutCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:secret@hooks.example.com/a?token=x#f": "https://hooks.example.com/a",
		"https://hooks.example.com/a":                       "https://hooks.example.com/a",
		"arn:aws:sqs:eu-west-1:123456789012:q":              "arn:aws:sqs:eu-west-1:123456789012:q",
	} {
		if got := withoutCredentials(in); got != want {
			t.Errorf("withoutCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeliveryStreamRelations(t *testing.T) {
	p, _ := partition.ByID("aws")
	tg := Target{Account: "123456789012", Partition: p, Region: "eu-west-1"}
	const id = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/d"
	lambda := &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{
		Type: fhtypes.ProcessorTypeLambda,
		Parameters: []fhtypes.ProcessorParameter{
			{ParameterName: fhtypes.ProcessorParameterNameLambdaArn, ParameterValue: aws.String("arn:aws:lambda:eu-west-1:123456789012:function:transform")},
			{ParameterName: fhtypes.ProcessorParameterNameBufferSizeInMb, ParameterValue: aws.String("3")},
		},
	}}}
	tests := []struct {
		name string
		d    fhtypes.DeliveryStreamDescription
		want []model.Relation
	}{
		{
			name: "kinesis source, extended S3 with Lambda transform and backup",
			d: fhtypes.DeliveryStreamDescription{
				Source: &fhtypes.SourceDescription{KinesisStreamSourceDescription: &fhtypes.KinesisStreamSourceDescription{
					KinesisStreamARN: aws.String("arn:aws:kinesis:eu-west-1:123456789012:stream/s")}},
				Destinations: []fhtypes.DestinationDescription{{
					ExtendedS3DestinationDescription: &fhtypes.ExtendedS3DestinationDescription{
						BucketARN: aws.String("arn:aws:s3:::lake"), ProcessingConfiguration: lambda,
						S3BackupDescription: &fhtypes.S3DestinationDescription{BucketARN: aws.String("arn:aws:s3:::backup")}},
					// AWS repeats the extended destination's bucket as the plain S3 destination.
					S3DestinationDescription: &fhtypes.S3DestinationDescription{BucketARN: aws.String("arn:aws:s3:::lake")},
				}},
			},
			want: []model.Relation{
				rel("arn:aws:kinesis:eu-west-1:123456789012:stream/s", id, model.UsesService),
				rel(id, "arn:aws:s3:::lake", model.UsesService),
				rel(id, "arn:aws:lambda:eu-west-1:123456789012:function:transform", model.UsesService),
				rel(id, "arn:aws:s3:::backup", model.UsesService),
			},
		},
		{
			name: "redshift by its JDBC URL, OpenSearch by ARN, HTTP endpoint by host",
			d: fhtypes.DeliveryStreamDescription{Destinations: []fhtypes.DestinationDescription{
				{RedshiftDestinationDescription: &fhtypes.RedshiftDestinationDescription{
					ClusterJDBCURL:           aws.String("jdbc:redshift://analytics.abc.eu-west-1.redshift.amazonaws.com:5439/dev"),
					S3DestinationDescription: &fhtypes.S3DestinationDescription{BucketARN: aws.String("arn:aws:s3:::staging")}}},
				{AmazonopensearchserviceDestinationDescription: &fhtypes.AmazonopensearchserviceDestinationDescription{
					DomainARN: aws.String("arn:aws:es:eu-west-1:123456789012:domain/logs")}},
				{HttpEndpointDestinationDescription: &fhtypes.HttpEndpointDestinationDescription{
					EndpointConfiguration: &fhtypes.HttpEndpointDescription{Url: aws.String("https://ingest.example.com/v1")}}},
			}},
			want: []model.Relation{
				rel(id, "urn:endpoint:/analytics.abc.eu-west-1.redshift.amazonaws.com", model.UsesService),
				rel(id, "arn:aws:s3:::staging", model.UsesService),
				rel(id, "arn:aws:es:eu-west-1:123456789012:domain/logs", model.UsesService),
				rel(id, "urn:endpoint:/ingest.example.com", model.UsesService),
			},
		},
		{name: "nothing", d: fhtypes.DeliveryStreamDescription{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, deliveryStreamRelations(tg, id, &tt.d)); d != "" {
				t.Errorf("relations (-want +got):\n%s", d)
			}
		})
	}
}

// elasticacheRecorded answers ElastiCache's query protocol with responses
// shaped as AWS documents them (moto leaves out cache nodes, configuration
// endpoints and security groups). Tags of the cluster "denied" are refused,
// the cluster "gone" was deleted after the listing.
func elasticacheRecorded(t *testing.T) *httptest.Server {
	cluster := func(id, extra string) string {
		return `<CacheCluster><CacheClusterId>` + id + `</CacheClusterId><Engine>memcached</Engine>
<ARN>arn:aws:elasticache:eu-west-1:123456789012:cluster:` + id + `</ARN>
<CacheSubnetGroupName>prod-cache</CacheSubnetGroupName>` + extra + `</CacheCluster>`
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		w.Header().Set("Content-Type", "text/xml")
		switch form.Get("Action") {
		case "DescribeCacheClusters":
			if form.Get("ShowCacheNodeInfo") != "true" {
				t.Errorf("DescribeCacheClusters without ShowCacheNodeInfo")
			}
			fmt.Fprint(w, `<DescribeCacheClustersResponse><DescribeCacheClustersResult><CacheClusters>`+
				cluster("sessions", `<ConfigurationEndpoint><Address>sessions.abc.cfg.euw1.cache.amazonaws.com</Address><Port>11211</Port></ConfigurationEndpoint>
<CacheNodes><CacheNode><CacheNodeId>0001</CacheNodeId><Endpoint><Address>sessions.abc.0001.euw1.cache.amazonaws.com</Address><Port>11211</Port></Endpoint></CacheNode>
<CacheNode><CacheNodeId>0002</CacheNodeId><Endpoint><Address>sessions.abc.0002.euw1.cache.amazonaws.com</Address><Port>11211</Port></Endpoint></CacheNode></CacheNodes>
<SecurityGroups><member><SecurityGroupId>sg-0cache</SecurityGroupId><Status>active</Status></member></SecurityGroups>`)+
				cluster("denied", "")+cluster("gone", "")+
				`<CacheCluster><Engine>redis</Engine></CacheCluster>`+
				`</CacheClusters></DescribeCacheClustersResult></DescribeCacheClustersResponse>`)
		case "DescribeCacheSubnetGroups":
			fmt.Fprint(w, `<DescribeCacheSubnetGroupsResponse><DescribeCacheSubnetGroupsResult><CacheSubnetGroups>
<CacheSubnetGroup><CacheSubnetGroupName>prod-cache</CacheSubnetGroupName><VpcId>vpc-0prod</VpcId></CacheSubnetGroup>
</CacheSubnetGroups></DescribeCacheSubnetGroupsResult></DescribeCacheSubnetGroupsResponse>`)
		case "ListTagsForResource":
			switch {
			case strings.HasSuffix(form.Get("ResourceName"), ":denied"):
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`)
			case strings.HasSuffix(form.Get("ResourceName"), ":gone"):
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>CacheClusterNotFound</Code><Message>gone</Message></Error></ErrorResponse>`)
			default:
				fmt.Fprint(w, `<ListTagsForResourceResponse><ListTagsForResourceResult><TagList>
<Tag><Key>team</Key><Value>web</Value></Tag></TagList></ListTagsForResourceResult></ListTagsForResourceResponse>`)
			}
		default:
			t.Errorf("unexpected call %s", form.Get("Action"))
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
}

func TestCacheClustersRecordedResponse(t *testing.T) {
	srv := elasticacheRecorded(t)
	defer srv.Close()
	res, err := collectCacheClusters(context.Background(), serverTarget(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		ID          string
		Identifiers []string
		Labels      []string
	}
	var got []summary
	for _, c := range res.Components {
		got = append(got, summary{c.ID, c.Identifiers, c.Labels[3:]})
	}
	slices.SortFunc(got, func(a, b summary) int { return strings.Compare(a.ID, b.ID) })
	const arn = "arn:aws:elasticache:eu-west-1:123456789012:cluster:"
	want := []summary{
		{arn + "denied", nil, []string{}},
		{arn + "sessions", []string{"urn:endpoint:/sessions.abc.cfg.euw1.cache.amazonaws.com",
			"urn:endpoint:/sessions.abc.0001.euw1.cache.amazonaws.com", "urn:endpoint:/sessions.abc.0002.euw1.cache.amazonaws.com"},
			[]string{"team:web"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("components (-want +got):\n%s", d)
	}
	slices.SortFunc(res.Relations, func(a, b model.Relation) int { return strings.Compare(a.Source+a.Target, b.Source+b.Target) })
	wantRels := []model.Relation{
		rel(arn+"denied", "vpc-0prod", model.UsesService),
		rel(arn+"sessions", "sg-0cache", model.UsesService),
		rel(arn+"sessions", "vpc-0prod", model.UsesService),
	}
	if d := cmp.Diff(wantRels, res.Relations); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
	if len(res.Malformed) != 1 {
		t.Errorf("malformed = %v, want the cluster without an id", res.Malformed)
	}
}

// sqsRecorded answers SQS's JSON protocol for n queues, listed in pages of
// at most 1,000 as AWS does. The attributes of "q-denied" are refused; the
// queue "q-gone" was deleted after the listing.
func sqsRecorded(t *testing.T, names []string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("decode request: %v", err)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		queueURL, _ := in["QueueUrl"].(string)
		fail := func(status int, code string) {
			w.Header().Set("X-Amzn-Query-Error", code+";Sender")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":"%s"}`, code, code)
		}
		switch op := r.Header.Get("X-Amz-Target"); op {
		case "AmazonSQS.ListQueues":
			max := int(in["MaxResults"].(float64))
			start := 0
			if tok, ok := in["NextToken"].(string); ok {
				fmt.Sscan(tok, &start)
			}
			end := min(start+max, len(names))
			out := map[string]any{"QueueUrls": []string{}}
			urls := []string{}
			for _, n := range names[start:end] {
				urls = append(urls, "https://sqs.eu-west-1.amazonaws.com/123456789012/"+n)
			}
			out["QueueUrls"] = urls
			if end < len(names) {
				out["NextToken"] = fmt.Sprint(end)
			}
			json.NewEncoder(w).Encode(out)
		case "AmazonSQS.GetQueueAttributes":
			name := queueName(queueURL)
			switch name {
			case "q-denied":
				fail(http.StatusForbidden, "AccessDenied")
				return
			case "q-gone":
				fail(http.StatusBadRequest, "QueueDoesNotExist")
				return
			}
			attrs := map[string]string{"QueueArn": "arn:aws:sqs:eu-west-1:123456789012:" + name}
			if name == "q-0001" {
				attrs["RedrivePolicy"] = `{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123456789012:q-0000","maxReceiveCount":3}`
			}
			json.NewEncoder(w).Encode(map[string]any{"Attributes": attrs})
		case "AmazonSQS.ListQueueTags":
			json.NewEncoder(w).Encode(map[string]any{"Tags": map[string]string{"n": queueName(queueURL)}})
		default:
			t.Errorf("unexpected call %s", op)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
}

// TestQueuesPaginateRecordedResponse lists 1,001 queues (and two whose
// details fail) from a recorded-response server that pages at 1,000 like
// AWS: moto's ListQueues returns at most 1,000 queues and no NextToken.
func TestQueuesPaginateRecordedResponse(t *testing.T) {
	var names []string
	for i := range 1001 {
		names = append(names, fmt.Sprintf("q-%04d", i))
	}
	names = append(names, "q-denied", "q-gone")
	srv := sqsRecorded(t, names)
	defer srv.Close()
	tg := serverTarget(t, srv)
	// 2,000 calls in a row: a connection the client finds closed under
	// -race is retried (seen once in CI), as AWS clients do.
	tg.Config.RetryMaxAttempts = 3
	res, err := collectQueues(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]model.Component{}
	for _, c := range res.Components {
		got[c.ID] = c
	}
	if len(got) != 1002 {
		t.Errorf("%d queues, want 1,001 and q-denied", len(got))
	}
	const arn = "arn:aws:sqs:eu-west-1:123456789012:"
	for _, n := range []string{"q-0000", "q-0999", "q-1000", "q-denied"} {
		c, ok := got[arn+n]
		if !ok {
			t.Errorf("queue %s missing", n)
			continue
		}
		if want := []string{"https://sqs.eu-west-1.amazonaws.com/123456789012/" + n}; !cmp.Equal(want, c.Identifiers) {
			t.Errorf("queue %s identifiers %v, want %v", n, c.Identifiers, want)
		}
		if !slices.Contains(c.Labels, "n:"+n) {
			t.Errorf("queue %s labels %v lack its tag", n, c.Labels)
		}
	}
	if _, ok := got[arn+"q-gone"]; ok {
		t.Error("a queue deleted after the listing is described")
	}
	want := []model.Relation{rel(arn+"q-0001", arn+"q-0000", model.UsesService)}
	if d := cmp.Diff(want, res.Relations); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
}

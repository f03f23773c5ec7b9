package awsconn

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/skymap/skymap/internal/model"
)

// Answers of the tests, whole.
const (
	vpcsAnswer = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` + "\n" +
		`  <requestId>1</requestId>` + "\n" +
		`  <vpcSet><item><vpcId>vpc-1</vpcId><cidrBlock>10.0.0.0/16</cidrBlock></item></vpcSet>` + "\n" +
		`</DescribeVpcsResponse>` + "\n\n"
	bucketsAnswer = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>1</ID></Owner>` +
		`<Buckets><Bucket><Name>logs</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets>` +
		`</ListAllMyBucketsResult>`
	locationAnswer = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>`
	tablesAnswer = `{"TableNames":["orders","users"]}`
	// Braces, brackets and escaped quotes in strings, and a string ending
	// in an escaped backslash.
	functionsAnswer = `{"Functions":[{"FunctionName":"f}{[","Description":"say \"}]\" and {\\\"","Role":"r\\"}],` +
		"\n" + `"NextMarker":null}`
	restApisAnswer = `{"item":[{"id":"a1","name":"x{\"y"}]}`
	htmlPage       = "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>" +
		"<body><h1>Service Unavailable</h1></body></html>\n"
)

// cut returns s without its last n bytes (after trailing white space).
func cut(s string, n int) string {
	s = strings.TrimRight(s, " \n")
	return s[:len(s)-n]
}

// calls of the tests, one per protocol and shape of answer.
var (
	describeVpcs = func(ctx context.Context, cfg aws.Config) error { // EC2 Query
		_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		return err
	}
	listBuckets = func(ctx context.Context, cfg aws.Config) error { // REST XML
		_, err := NewS3(cfg).ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	}
	getBucketLocation = func(ctx context.Context, cfg aws.Config) error { // REST XML, S3's own deserializer
		_, err := NewS3(cfg).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("logs")})
		return err
	}
	headBucket = func(ctx context.Context, cfg aws.Config) error {
		_, err := NewS3(cfg).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("logs")})
		return err
	}
	getObject = func(ctx context.Context, cfg aws.Config) error { // a stream the caller reads
		out, err := NewS3(cfg).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("logs"), Key: aws.String("k")})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		_, err = io.ReadAll(out.Body)
		return err
	}
	listTables = func(ctx context.Context, cfg aws.Config) error { // JSON 1.0
		_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
		return err
	}
	listFunctions = func(ctx context.Context, cfg aws.Config) error { // REST JSON
		_, err := lambda.NewFromConfig(cfg).ListFunctions(ctx, &lambda.ListFunctionsInput{})
		return err
	}
	deleteFunction = func(ctx context.Context, cfg aws.Config) error {
		_, err := lambda.NewFromConfig(cfg).DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("f")})
		return err
	}
	getRestApis = func(ctx context.Context, cfg aws.Config) error { // REST JSON, older code generation
		_, err := apigateway.NewFromConfig(cfg).GetRestApis(ctx, &apigateway.GetRestApisInput{})
		return err
	}
)

// answering is a server that gives every request the same answer, and
// counts them.
func answering(t *testing.T, status int, contentType, body string) (url string, requests *atomic.Int32) {
	t.Helper()
	requests = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

// checkedConfig is a config for endpoint with CheckAnswers and two attempts
// per call, without backoff.
func checkedConfig(t *testing.T, endpoint string) aws.Config {
	return aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAFAKE", "fake", ""),
		HTTPClient:   testHTTPClient(t),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 2
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
		APIOptions: []func(*middleware.Stack) error{CheckAnswers},
	}
}

func TestCheckAnswers(t *testing.T) {
	const (
		xml     = "text/xml;charset=UTF-8"
		json10  = "application/x-amz-json-1.0"
		appJSON = "application/json"
	)
	tests := []struct {
		name        string
		call        func(context.Context, aws.Config) error
		status      int
		contentType string
		body        string
		wantErr     bool
	}{
		{"ec2 whole", describeVpcs, 200, xml, vpcsAnswer, false},
		{"ec2 empty", describeVpcs, 200, xml, "", true},
		{"ec2 empty without a type", describeVpcs, 200, "", "", true},
		{"ec2 white space only", describeVpcs, 200, xml, "\n  \n", true},
		{"ec2 declaration only", describeVpcs, 200, xml, `<?xml version="1.0" encoding="UTF-8"?>`, true},
		{"ec2 cut in the root's name", describeVpcs, 200, xml, vpcsAnswer[:45], true},
		{"ec2 cut in the middle", describeVpcs, 200, xml, vpcsAnswer[:len(vpcsAnswer)/2], true},
		{"ec2 without its last end tag", describeVpcs, 200, xml, cut(vpcsAnswer, len("</DescribeVpcsResponse>")), true},
		{"ec2 without its last byte", describeVpcs, 200, xml, cut(vpcsAnswer, 1), true},
		{"ec2 another operation's answer", describeVpcs, 200, xml, strings.ReplaceAll(vpcsAnswer, "DescribeVpcs", "DescribeSubnets"), true},
		{"ec2 HTML page", describeVpcs, 200, "text/html", htmlPage, true},
		{"ec2 HTML page said to be XML", describeVpcs, 200, xml, htmlPage, true},
		{"ec2 JSON", describeVpcs, 200, xml, tablesAnswer, true},
		{"s3 buckets whole", listBuckets, 200, "application/xml", bucketsAnswer, false},
		{"s3 buckets whole, untyped", listBuckets, 200, "", bucketsAnswer, false},
		{"s3 buckets empty", listBuckets, 200, "application/xml", "", true},
		{"s3 buckets empty, untyped", listBuckets, 200, "", "", true},
		{"s3 buckets cut in the middle", listBuckets, 200, "application/xml", bucketsAnswer[:len(bucketsAnswer)/2], true},
		{"s3 buckets without their last end tag", listBuckets, 200, "application/xml", cut(bucketsAnswer, len("</ListAllMyBucketsResult>")), true},
		{"s3 buckets HTML page", listBuckets, 200, "text/html", htmlPage, true},
		{"s3 location, an empty element", getBucketLocation, 200, "application/xml", locationAnswer, false},
		{"s3 location cut", getBucketLocation, 200, "application/xml", cut(locationAnswer, 2), true},
		{"s3 head", headBucket, 200, "application/xml", "", false},
		{"s3 object empty", getObject, 200, "binary/octet-stream", "", false},
		{"s3 object like a cut answer", getObject, 200, "application/xml", bucketsAnswer[:50], false},
		{"dynamodb whole", listTables, 200, json10, tablesAnswer, false},
		{"dynamodb empty", listTables, 200, json10, "", true},
		{"dynamodb cut", listTables, 200, json10, cut(tablesAnswer, 1), true},
		{"dynamodb cut in a string", listTables, 200, json10, tablesAnswer[:len(`{"TableNames":["ord`)], true},
		{"dynamodb text", listTables, 200, "text/plain", "Service Unavailable", true},
		{"dynamodb HTML page", listTables, 200, "text/html", htmlPage, true},
		{"lambda whole", listFunctions, 200, appJSON, functionsAnswer, false},
		{"lambda whole, untyped", listFunctions, 200, "", functionsAnswer, false},
		{"lambda cut", listFunctions, 200, appJSON, cut(functionsAnswer, 1), true},
		{"lambda cut after a brace in a string", listFunctions, 200, appJSON, functionsAnswer[:strings.Index(functionsAnswer, `{\\`)+1], true},
		{"lambda cut in an escape", listFunctions, 200, appJSON, functionsAnswer[:strings.Index(functionsAnswer, `\\"}`)+1], true},
		{"lambda empty", listFunctions, 200, appJSON, "", true},
		{"lambda empty, untyped", listFunctions, 200, "", "", true},
		{"lambda HTML page", listFunctions, 200, "text/html", htmlPage, true},
		{"lambda HTML page said to be JSON", listFunctions, 200, appJSON, htmlPage, true},
		{"lambda delete, no content", deleteFunction, 204, "", "", false},
		{"apigateway whole", getRestApis, 200, appJSON, restApisAnswer, false},
		{"apigateway cut", getRestApis, 200, appJSON, cut(restApisAnswer, 2), true},
		{"apigateway empty", getRestApis, 200, appJSON, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, requests := answering(t, tt.status, tt.contentType, tt.body)
			err := tt.call(context.Background(), checkedConfig(t, url))
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("call failed: %v", err)
				}
				if n := requests.Load(); n != 1 {
					t.Errorf("%d requests, want 1", n)
				}
				return
			}
			if !errors.Is(err, ErrIncompleteAnswer) {
				t.Fatalf("call returned %v, want ErrIncompleteAnswer", err)
			}
			if outcome, _ := Classify(err); outcome != model.OutcomeFailed {
				t.Errorf("Classify(%v) = %s, want failed", err, outcome)
			}
			if n := requests.Load(); n != 2 {
				t.Errorf("%d requests, want 2: the SDK retries an incomplete answer", n)
			}
		})
	}
}

// TestAnswerBodyInPieces reads answers one byte at a time, and in pieces of
// other sizes: where a read ends must not matter.
func TestAnswerBodyInPieces(t *testing.T) {
	xmlWant := expectation{kind: kindXML, body: true, root: "DescribeVpcsResponse"}
	jsonWant := expectation{kind: kindJSON, body: true}
	spaced := strings.Replace(vpcsAnswer, "</DescribeVpcsResponse>", "</DescribeVpcsResponse \n\t>"+strings.Repeat(" \n", 700), 1)
	long := strings.Replace(vpcsAnswer, "<vpcSet>", "<vpcSet>"+strings.Repeat("<item><vpcId>vpc-1</vpcId></item>", 200), 1)
	tests := []struct {
		name string
		want expectation
		body string
		ok   bool
	}{
		{"xml whole", xmlWant, vpcsAnswer, true},
		{"xml with a byte order mark and a comment", xmlWant, "\xef\xbb\xbf" + strings.Replace(vpcsAnswer, "?>", "?><!-- a -- > b -->", 1), true},
		{"xml spaced end tag and long trailing space", xmlWant, spaced, true},
		{"xml long", xmlWant, long, true},
		{"xml long cut", xmlWant, long[:len(long)-40], false},
		{"xml end tag of a longer name", xmlWant, cut(vpcsAnswer, len("</DescribeVpcsResponse>")) + "</XDescribeVpcsResponse>", false},
		{"xml quoted > in the root's attributes", expectation{kind: kindXML}, `<a b="x>y" c='/>'>z</a>`, true},
		{"xml text before the root", xmlWant, "oops" + vpcsAnswer, false},
		{"json whole", jsonWant, functionsAnswer, true},
		{"json cut", jsonWant, cut(functionsAnswer, 1), false},
		{"json unbalanced", jsonWant, `{"a":1}}`, false},
		{"json scalar", expectation{}, `"text"`, true},
		{"unknown empty, not needed", expectation{}, "", true},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 3, 64, 1 << 16} {
			b := &answerBody{ReadCloser: io.NopCloser(pieces{strings.NewReader(tt.body), size}), want: tt.want}
			got, err := io.ReadAll(b)
			if err != nil || string(got) != tt.body {
				t.Fatalf("%s, pieces of %d: read %q, %v; want the body unchanged", tt.name, size, got, err)
			}
			if e := b.check(); (e == nil) != tt.ok {
				t.Errorf("%s, pieces of %d: check() = %v, want whole: %v", tt.name, size, e, tt.ok)
			}
		}
	}
}

// pieces reads r at most n bytes at a time.
type pieces struct {
	r io.Reader
	n int
}

func (p pieces) Read(b []byte) (int, error) { return p.r.Read(b[:min(len(b), p.n)]) }

func TestIncompleteAnswerThroughProvider(t *testing.T) {
	fake := newFakeAWS(t, func(action string, n int) (int, string) {
		if action == "DescribeVpcs" {
			return http.StatusOK, `<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId><vpcSet>`
		}
		return 0, ""
	})
	p, a := fakeProvider(t, fake, Options{MaxAttempts: 3})
	_, err := ec2.NewFromConfig(a.Config("eu-west-1"), quickRetries).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	if !errors.Is(err, ErrIncompleteAnswer) {
		t.Fatalf("DescribeVpcs returned %v, want ErrIncompleteAnswer", err)
	}
	if n := fake.count("DescribeVpcs"); n != 3 {
		t.Errorf("DescribeVpcs attempts = %d, want 3", n)
	}
	got := p.Recorder().Statuses()
	if len(got) != 1 || got[0].API != "ec2:DescribeVpcs" || got[0].Outcome != model.OutcomeFailed {
		t.Errorf("Statuses() = %+v, want DescribeVpcs failed", got)
	}
}

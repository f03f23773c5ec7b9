package awsconn

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

func TestPageTokens(t *testing.T) {
	tests := []struct {
		name         string
		params, out  any
		field, asked string
		next         string
	}{
		{"ec2", &ec2.DescribeVpcsInput{NextToken: aws.String("a")}, &ec2.DescribeVpcsOutput{NextToken: aws.String("b")}, "NextToken", "a", "b"},
		{"ec2 last page", &ec2.DescribeVpcsInput{NextToken: aws.String("a")}, &ec2.DescribeVpcsOutput{}, "NextToken", "a", ""},
		// The output echoes the token asked for; the next is elsewhere.
		{"s3 objects v2", &s3.ListObjectsV2Input{ContinuationToken: aws.String("a")},
			&s3.ListObjectsV2Output{ContinuationToken: aws.String("a"), NextContinuationToken: aws.String("b")}, "NextContinuationToken", "a", "b"},
		{"s3 objects", &s3.ListObjectsInput{Marker: aws.String("a")},
			&s3.ListObjectsOutput{Marker: aws.String("a"), NextMarker: aws.String("b")}, "NextMarker", "a", "b"},
		{"s3 buckets", &s3.ListBucketsInput{ContinuationToken: aws.String("a")},
			&s3.ListBucketsOutput{ContinuationToken: aws.String("b")}, "ContinuationToken", "a", "b"},
		{"lambda", &lambda.ListFunctionsInput{Marker: aws.String("a")}, &lambda.ListFunctionsOutput{NextMarker: aws.String("b")}, "NextMarker", "a", "b"},
		{"api gateway", &apigateway.GetRestApisInput{Position: aws.String("a")}, &apigateway.GetRestApisOutput{Position: aws.String("b")}, "Position", "a", "b"},
		{"dynamodb", &dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String("a")},
			&dynamodb.ListTablesOutput{LastEvaluatedTableName: aws.String("b")}, "LastEvaluatedTableName", "a", "b"},
		{"no pages", &ec2.DescribeVpnGatewaysInput{}, &ec2.DescribeVpnGatewaysOutput{}, "", "", ""},
		{"no output", &ec2.DescribeVpcsInput{NextToken: aws.String("a")}, nil, "", "", ""},
		{"nil output", &ec2.DescribeVpcsInput{NextToken: aws.String("a")}, (*ec2.DescribeVpcsOutput)(nil), "", "", ""},
	}
	for _, tt := range tests {
		field, asked, next := pageTokens(tt.params, tt.out)
		if diff := cmp.Diff([]string{tt.field, tt.asked, tt.next}, []string{field, asked, next}); diff != "" {
			t.Errorf("%s: pageTokens() mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

// pagedVpcs answers DescribeVpcs with the next token pages gives the token
// asked for ("" for the first page), and counts the calls.
func pagedVpcs(t *testing.T, pages map[string]string) (url string, calls *atomic.Int32) {
	t.Helper()
	calls = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		r.ParseForm()
		next := ""
		if tok := pages[r.PostForm.Get("NextToken")]; tok != "" {
			next = "<nextToken>" + tok + "</nextToken>"
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId>`+
			`<vpcSet><item><vpcId>vpc-`+r.PostForm.Get("NextToken")+`</vpcId></item></vpcSet>`+next+`</DescribeVpcsResponse>`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

func TestRepeatedPageTokenEndsPaginator(t *testing.T) {
	tests := []struct {
		name      string
		pages     map[string]string
		wantPages int
		wantErr   bool
	}{
		{"pages", map[string]string{"": "t1", "t1": "t2"}, 3, false},
		{"a page naming itself next", map[string]string{"": "t1", "t1": "t1"}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, calls := pagedVpcs(t, tt.pages)
			ctx := context.Background()
			p := ec2.NewDescribeVpcsPaginator(ec2.NewFromConfig(checkedConfig(t, url)), &ec2.DescribeVpcsInput{})
			pages := 0
			var err error
			for p.HasMorePages() && pages < 10 {
				if _, err = p.NextPage(ctx); err != nil {
					break
				}
				pages++
			}
			if pages != tt.wantPages {
				t.Errorf("%d pages read, want %d", pages, tt.wantPages)
			}
			if !tt.wantErr {
				if err != nil {
					t.Errorf("paginator failed: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrRepeatedPageToken) {
				t.Fatalf("paginator returned %v, want ErrRepeatedPageToken", err)
			}
			if outcome, _ := Classify(err); outcome != model.OutcomeFailed {
				t.Errorf("Classify(%v) = %s, want failed", err, outcome)
			}
			// One call per page, the repeating one included: no retry.
			if n := calls.Load(); n != 2 {
				t.Errorf("%d calls, want 2", n)
			}
		})
	}
}

package awsconn

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

// httpErr wraps err as the SDK does for an HTTP response with status.
func httpErr(status int, err error) error {
	return &awshttp.ResponseError{
		RequestID: "req-1",
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      err,
		},
	}
}

func apiErr(status int, code string) error {
	return httpErr(status, &smithy.GenericAPIError{Code: code, Message: "msg"})
}

func opErr(service, op string, err error) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		wantOutcome string
		wantDetail  string
	}{
		{"nil", nil, model.OutcomeOK, ""},
		{"bucket without tags", opErr("S3", "GetBucketTagging", apiErr(404, "NoSuchTagSet")), model.OutcomeOK, ""},
		{"log group not created yet", opErr("CloudWatch Logs", "FilterLogEvents", apiErr(400, "ResourceNotFoundException")), model.OutcomeOK, ""},
		{"not found elsewhere", opErr("CloudWatch Logs", "DescribeLogStreams", apiErr(400, "ResourceNotFoundException")), model.OutcomeFailed,
			"operation error CloudWatch Logs: DescribeLogStreams, https response error StatusCode: 400, RequestID: req-1, api error ResourceNotFoundException: msg"},
		{"missing credentials", opErr("STS", "AssumeRole", &CredentialsError{Err: httpErr(403, errors.New("imds forbidden"))}),
			model.OutcomeFailed, "no usable AWS credentials for skymap itself (static keys in init_config, or the default chain: " +
				"environment, shared config, web identity, ECS or EC2 instance role): https response error StatusCode: 403, RequestID: req-1, imds forbidden"},
		{"ec2 unauthorized operation", opErr("EC2", "DescribeInstances", apiErr(403, "UnauthorizedOperation")),
			model.OutcomeDenied, "not authorized to perform ec2:DescribeInstances (UnauthorizedOperation)"},
		{"s3 access denied", opErr("S3", "GetBucketPolicy", apiErr(403, "AccessDenied")),
			model.OutcomeDenied, "not authorized to perform s3:GetBucketPolicy (AccessDenied)"},
		{"logs access denied exception", opErr("CloudWatch Logs", "DescribeLogGroups", apiErr(400, "AccessDeniedException")),
			model.OutcomeDenied, "not authorized to perform logs:DescribeLogGroups (AccessDeniedException)"},
		{"sns authorization error", opErr("SNS", "ListTopics", apiErr(403, "AuthorizationError")),
			model.OutcomeDenied, "not authorized to perform sns:ListTopics (AuthorizationError)"},
		{"unauthorized access without operation", apiErr(403, "UnauthorizedAccess"),
			model.OutcomeDenied, "not authorized (UnauthorizedAccess)"},
		{"forbidden code", &smithy.GenericAPIError{Code: "Forbidden"}, model.OutcomeDenied, "not authorized (Forbidden)"},
		{"bare 403", opErr("S3", "HeadBucket", httpErr(403, errors.New("forbidden"))),
			model.OutcomeDenied, "not authorized to perform s3:ListBucket"},
		{"invalid client token is not a permission", opErr("STS", "GetCallerIdentity", apiErr(403, "InvalidClientTokenId")),
			model.OutcomeFailed, "operation error STS: GetCallerIdentity, https response error StatusCode: 403, RequestID: req-1, api error InvalidClientTokenId: msg"},
		{"throttling", apiErr(400, "Throttling"),
			model.OutcomeThrottled, "https response error StatusCode: 400, RequestID: req-1, api error Throttling: msg"},
		{"throttling exception", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"},
			model.OutcomeThrottled, "api error ThrottlingException: Rate exceeded"},
		{"ec2 request limit exceeded", apiErr(503, "RequestLimitExceeded"),
			model.OutcomeThrottled, "https response error StatusCode: 503, RequestID: req-1, api error RequestLimitExceeded: msg"},
		{"too many requests exception", &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "m"},
			model.OutcomeThrottled, "api error TooManyRequestsException: m"},
		{"s3 slow down", &smithy.GenericAPIError{Code: "SlowDown", Message: "m"}, model.OutcomeThrottled, "api error SlowDown: m"},
		{"bare 429", httpErr(429, errors.New("too many")),
			model.OutcomeThrottled, "https response error StatusCode: 429, RequestID: req-1, too many"},
		{"throttled to the last attempt", &retry.MaxAttemptsError{Attempt: 3, Err: &smithy.GenericAPIError{Code: "Throttling", Message: "m"}},
			model.OutcomeThrottled, "exceeded maximum number of attempts, 3, api error Throttling: m"},
		{"server error", apiErr(500, "InternalError"),
			model.OutcomeFailed, "https response error StatusCode: 500, RequestID: req-1, api error InternalError: msg"},
		{"incomplete answer", opErr("EC2", "DescribeVpcs", httpErr(200, &smithy.DeserializationError{Err: refuse("empty body")})),
			model.OutcomeFailed, "operation error EC2: DescribeVpcs, https response error StatusCode: 200, RequestID: req-1, " +
				"deserialization failed, incomplete answer: empty body"},
		{"repeated page token", opErr("EC2", "DescribeVpcs", fmt.Errorf("%w: NextToken", ErrRepeatedPageToken)),
			model.OutcomeFailed, "operation error EC2: DescribeVpcs, next page token repeats the page asked for: NextToken"},
		{"plain error", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"),
			model.OutcomeFailed, "dial tcp 127.0.0.1:1: connect: connection refused"},
		{"access key ids are removed", errors.New("key AKIAIOSFODNN7EXAMPLE and ASIAIOSFODNN7EXAMPLE rejected"),
			model.OutcomeFailed, "key [redacted] and [redacted] rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome, detail := Classify(tt.err)
			if diff := cmp.Diff([]string{tt.wantOutcome, tt.wantDetail}, []string{outcome, detail}); diff != "" {
				t.Errorf("Classify(%v) mismatch (-want +got):\n%s", tt.err, diff)
			}
		})
	}
}

func TestIAMAction(t *testing.T) {
	tests := []struct{ service, op, want string }{
		{"EC2", "DescribeInstances", "ec2:DescribeInstances"},
		{"S3", "ListBuckets", "s3:ListAllMyBuckets"},
		{"S3", "GetBucketNotificationConfiguration", "s3:GetBucketNotification"},
		{"STS", "AssumeRole", "sts:AssumeRole"},
		{"Elastic Load Balancing v2", "DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancers"},
		{"CloudWatch Logs", "DescribeLogGroups", "logs:DescribeLogGroups"},
		{"Lambda", "ListFunctions", "lambda:ListFunctions"},
		{"SFN", "ListStateMachines", "states:ListStateMachines"},
		{"API Gateway", "GetRestApis", "apigateway:GET"}, // authorized by HTTP verb
		{"ApiGatewayV2", "GetApis", "apigateway:GET"},
		{"Auto Scaling", "DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingGroups"},
		{"DynamoDB Streams", "ListStreams", "dynamodb:ListStreams"},
		{"Firehose", "ListDeliveryStreams", "firehose:ListDeliveryStreams"},
		{"EventBridge", "ListRules", "events:ListRules"},
		{"Route 53", "ListHostedZones", "route53:ListHostedZones"},
		{"DevOps Guru", "ListInsights", "devops-guru:ListInsights"},
		// Not in the table: lower case without spaces.
		{"Secrets Manager", "ListSecrets", "secretsmanager:ListSecrets"},
		{"RDS", "DescribeDBInstances", "rds:DescribeDBInstances"},
	}
	for _, tt := range tests {
		if got := IAMAction(tt.service, tt.op); got != tt.want {
			t.Errorf("IAMAction(%q, %q) = %q, want %q", tt.service, tt.op, got, tt.want)
		}
	}
}

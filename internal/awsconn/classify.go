package awsconn

import (
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/skymap/skymap/internal/model"
)

// deniedCodes are the error codes AWS services answer when the caller lacks
// a permission. Codes saying the credentials themselves are bad are failures.
var deniedCodes = set(
	"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
	"AuthorizationErrorException", "UnauthorizedAccess", "UnauthorizedException",
	"Forbidden", "ForbiddenException", "AllAccessDisabled",
)

// credentialCodes are the errors of missing, wrong or expired credentials. AWS
// sends several with HTTP 403, but they name no permission: outcome failed.
var credentialCodes = set(
	"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
	"InvalidAccessKeyId", "AuthFailure", "UnrecognizedClientException", "InvalidSignatureException",
	"IncompleteSignature", "MissingAuthenticationToken", "MissingAuthenticationTokenException",
	"RequestExpired", "InvalidToken",
)

// absentCodes are answers that a resource has no such setting (a bucket
// without tags): the call worked, so they are ok outcomes.
var absentCodes = set(
	"NoSuchTagSet", "NoSuchTagSetError", "NoSuchBucketPolicy", "NoSuchLifecycleConfiguration",
	"ServerSideEncryptionConfigurationNotFoundError", "NoSuchPublicAccessBlockConfiguration",
	"NoSuchWebsiteConfiguration", "NoSuchCORSConfiguration", "ReplicationConfigurationNotFoundError",
)

// absentAnswers are the error codes of single operations that say only
// that what was asked for does not exist yet: the log group of a Lambda
// function that never ran. The call worked, so they are ok outcomes.
var absentAnswers = map[string]string{
	"logs:FilterLogEvents": "ResourceNotFoundException",
}

// throttleCodes add to the SDK's retry.DefaultThrottleErrorCodes.
var throttleCodes = set(
	"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
	"SlowDown", "RequestThrottled", "ThrottledException", "RequestThrottledException",
)

var sdkThrottles = retry.IsErrorThrottles(retry.DefaultThrottles)

// Classify sorts a call's error into a model outcome: OutcomeOK for nil,
// OutcomeDenied for a missing permission (detail names the IAM action when err
// carries the operation), OutcomeThrottled when AWS throttled the call (to
// the last retry), else OutcomeFailed with the error text as detail (an
// answer refused as ErrIncompleteAnswer or ErrRepeatedPageToken among them).
// Access key ids are removed from the detail.
func Classify(err error) (outcome, detail string) {
	var op *smithy.OperationError
	api := ""
	if errors.As(err, &op) {
		api = IAMAction(op.ServiceID, op.OperationName)
	}
	return classify(err, api)
}

func classify(err error, api string) (outcome, detail string) {
	if err == nil {
		return model.OutcomeOK, ""
	}
	if code := ErrorCode(err); absentCodes[code] || (code != "" && absentAnswers[api] == code) {
		return model.OutcomeOK, ""
	}
	var noCreds *CredentialsError
	if errors.As(err, &noCreds) {
		return model.OutcomeFailed, redactKeys(noCreds.Error())
	}
	code := ErrorCode(err)
	status := httpStatus(err)
	switch {
	case credentialCodes[code]:
		return model.OutcomeFailed, redactKeys(err.Error())
	case deniedCodes[code], code == "" && status == http.StatusForbidden:
		detail = "not authorized"
		if api != "" {
			detail += " to perform " + api
		}
		if code != "" {
			detail += " (" + code + ")"
		}
		return model.OutcomeDenied, detail
	case throttleCodes[code], sdkThrottles.IsErrorThrottle(err).Bool(), status == http.StatusTooManyRequests:
		return model.OutcomeThrottled, redactKeys(err.Error())
	}
	return model.OutcomeFailed, redactKeys(err.Error())
}

// ErrorCode returns the AWS error code of err ("NoSuchKey",
// "AccessDenied"), "" when it carries none.
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// IsDenied tells whether AWS refused a call for lack of a permission
// (Classify's OutcomeDenied).
func IsDenied(err error) bool {
	outcome, _ := Classify(err)
	return outcome == model.OutcomeDenied
}

func httpStatus(err error) int {
	var resp interface{ HTTPStatusCode() int }
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode()
	}
	return 0
}

// iamPrefixes maps SDK service ids to the service prefix of IAM actions
// where the prefix is not the service id in lower case without spaces.
var iamPrefixes = map[string]string{
	"ACM PCA":                     "acm-pca",
	"API Gateway":                 "apigateway",
	"ApiGatewayV2":                "apigateway",
	"Application Auto Scaling":    "application-autoscaling",
	"Auto Scaling":                "autoscaling",
	"CloudWatch":                  "cloudwatch",
	"CloudWatch Events":           "events",
	"CloudWatch Logs":             "logs",
	"Cognito Identity":            "cognito-identity",
	"Cognito Identity Provider":   "cognito-idp",
	"Config Service":              "config",
	"DevOps Guru":                 "devops-guru",
	"DocDB":                       "rds",
	"DynamoDB Streams":            "dynamodb",
	"EC2":                         "ec2",
	"ECR PUBLIC":                  "ecr-public",
	"EFS":                         "elasticfilesystem",
	"EMR":                         "elasticmapreduce",
	"Elastic Beanstalk":           "elasticbeanstalk",
	"Elastic Load Balancing":      "elasticloadbalancing",
	"Elastic Load Balancing v2":   "elasticloadbalancing",
	"Elasticsearch Service":       "es",
	"EventBridge":                 "events",
	"Firehose":                    "firehose",
	"Kinesis Analytics V2":        "kinesisanalytics",
	"Lambda":                      "lambda",
	"Neptune":                     "rds",
	"Network Firewall":            "network-firewall",
	"OpenSearch":                  "es",
	"Redshift Serverless":         "redshift-serverless",
	"Resource Groups Tagging API": "tag",
	"Route 53":                    "route53",
	"S3":                          "s3",
	"S3 Control":                  "s3",
	"SESv2":                       "ses",
	"SFN":                         "states",
	"STS":                         "sts",
	"Timestream Query":            "timestream",
	"Timestream Write":            "timestream",
}

// iamActionOverrides are the operations whose IAM action is not named after
// them (mostly S3's; see the service authorization reference).
var iamActionOverrides = map[string]string{
	"S3/ListBuckets":                         "s3:ListAllMyBuckets",
	"S3/GetBucketNotificationConfiguration":  "s3:GetBucketNotification",
	"S3/PutBucketNotificationConfiguration":  "s3:PutBucketNotification",
	"S3/ListObjectsV2":                       "s3:ListBucket",
	"S3/ListObjects":                         "s3:ListBucket",
	"S3/ListObjectVersions":                  "s3:ListBucketVersions",
	"S3/HeadBucket":                          "s3:ListBucket",
	"S3/HeadObject":                          "s3:GetObject",
	"S3/GetBucketLifecycleConfiguration":     "s3:GetLifecycleConfiguration",
	"S3/GetBucketEncryption":                 "s3:GetEncryptionConfiguration",
	"S3/GetPublicAccessBlock":                "s3:GetBucketPublicAccessBlock",
	"Lambda/ListFunctions":                   "lambda:ListFunctions",
	"Elastic Load Balancing/DescribeTags":    "elasticloadbalancing:DescribeTags",
	"Elastic Load Balancing v2/DescribeTags": "elasticloadbalancing:DescribeTags",
	// API Gateway authorizes by HTTP verb on the resource path.
	"API Gateway/GetRestApis":      "apigateway:GET",
	"API Gateway/GetStages":        "apigateway:GET",
	"API Gateway/GetResources":     "apigateway:GET",
	"ApiGatewayV2/GetApis":         "apigateway:GET",
	"ApiGatewayV2/GetStages":       "apigateway:GET",
	"ApiGatewayV2/GetRoutes":       "apigateway:GET",
	"ApiGatewayV2/GetIntegrations": "apigateway:GET",
}

// IAMAction returns the IAM action of an operation of an SDK service, e.g.
// IAMAction("CloudWatch Logs", "DescribeLogGroups") = "logs:DescribeLogGroups".
func IAMAction(serviceID, operation string) string {
	if a, ok := iamActionOverrides[serviceID+"/"+operation]; ok {
		return a
	}
	prefix, ok := iamPrefixes[serviceID]
	if !ok {
		prefix = strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
	}
	return prefix + ":" + operation
}

// serviceKey is the key of a service in Options.Endpoints and Limits: the
// SDK service id in lower case with spaces as underscores, as the SDK's
// shared config file spells it ("cloudwatch_logs").
func serviceKey(serviceID string) string {
	return strings.ReplaceAll(strings.ToLower(serviceID), " ", "_")
}

func set(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

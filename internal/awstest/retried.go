package awstest

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// RetriedCreate returns nil for the error a create gets when the SDK
// retried it after the first attempt had succeeded (the connection closed
// before the answer came, seen under -race on 2-core machines): AWS answers
// most such retries with the same resource, moto with an "already exists"
// error. Any other error is returned as is. Use it only for names a test
// creates once, where "already exists" can only mean its own retry.
func RetriedCreate(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	code := ae.ErrorCode()
	switch {
	case strings.Contains(code, "AlreadyExists"), // IAM, RDS, SFN, Redshift, Kinesis...
		strings.HasSuffix(code, ".Duplicate"),                                   // EC2: InvalidGroup.Duplicate
		code == "ResourceInUseException",                                        // DynamoDB, Kinesis, Firehose
		code == "DuplicateLoadBalancerName", code == "DuplicateTargetGroupName": // ELBv2
		return nil
	}
	return err
}

package awsconn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// CredentialsError is a failure to obtain skymap's own (base) credentials:
// none in the default chain, or static ones that cannot be read. It says
// nothing about permissions in a monitored account, so Classify reports it
// as failed, never as denied, whatever HTTP status the source answered.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string {
	return "no usable AWS credentials for skymap itself (static keys in init_config, or the default chain: " +
		"environment, shared config, web identity, ECS or EC2 instance role): " + e.Err.Error()
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// baseCredentials marks retrieval failures of the base credentials.
type baseCredentials struct{ aws.CredentialsProvider }

func (b baseCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := b.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &CredentialsError{Err: err}
	}
	return c, nil
}

package awstest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// DefaultAccount is the account moto acts in for the static test credentials.
const DefaultAccount = "123456789012"

// TestRole is the role assumed in other accounts; moto grants any AssumeRole.
const TestRole = "skymap-test"

// Static test credentials, as moto's documentation uses them.
const (
	AccessKeyID     = "testing"
	SecretAccessKey = "testing"
)

// Config returns an aws.Config that talks to moto in region with static
// test credentials. For an account other than "" and DefaultAccount it
// assumes arn:aws:iam::<account>:role/skymap-test, so that what the config
// creates lives in that account. It does not read the environment or shared
// config files, so a developer's AWS profile never leaks into a test.
func (m *Moto) Config(ctx context.Context, region, account string) (aws.Config, error) {
	cfg := aws.Config{
		Region:       region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		BaseEndpoint: aws.String(m.URL),
		HTTPClient:   m.client,
	}
	if account == "" || account == DefaultAccount {
		return cfg, nil
	}
	arn := fmt.Sprintf("arn:aws:iam::%s:role/%s", account, TestRole)
	p := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "skymap-test"
	})
	cfg.Credentials = aws.NewCredentialsCache(p)
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("awstest: assume %s: %w", arn, err)
	}
	return cfg, nil
}

// Env returns environment entries ("KEY=value") that point skymap, the AWS
// CLI or any SDK at moto in region with the static test credentials, and keep
// them from using a profile, shared files or instance metadata. S3 clients
// must still be told to use path-style addressing: no variable does that.
func (m *Moto) Env(region string) []string {
	return []string{
		"AWS_ENDPOINT_URL=" + m.URL,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// SetEnv sets the entries of Env with t.Setenv, so they are restored when t
// ends. Like t.Setenv it cannot be used in parallel tests.
func (m *Moto) SetEnv(t testing.TB, region string) {
	t.Helper()
	for _, kv := range m.Env(region) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

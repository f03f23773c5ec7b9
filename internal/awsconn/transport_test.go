package awsconn

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/partition"
)

// TestEndpointPrecedence checks which endpoint the SDK's clients resolve from
// a Provider's configs: Options against the SDK's own environment variables.
func TestEndpointPrecedence(t *testing.T) {
	const (
		optAll = "http://127.0.0.1:1001"
		optEC2 = "http://127.0.0.1:1002"
		envAll = "http://127.0.0.1:2001"
		envEC2 = "http://127.0.0.1:2002"
		envS3  = "http://127.0.0.1:2003"
	)
	type resolved struct {
		EC2, S3     string
		S3PathStyle bool
	}
	tests := []struct {
		name string
		opts Options
		env  map[string]string
		want resolved
	}{
		{"none", Options{}, nil, resolved{}},
		{"option for all", Options{EndpointURL: optAll}, nil, resolved{optAll, optAll, true}},
		{"option per service wins over option for all", Options{EndpointURL: optAll, Endpoints: map[string]string{"EC2": optEC2}},
			nil, resolved{optEC2, optAll, true}},
		{"option per service alone", Options{Endpoints: map[string]string{"ec2": optEC2}}, nil, resolved{EC2: optEC2}},
		{"AWS_ENDPOINT_URL", Options{}, map[string]string{"AWS_ENDPOINT_URL": envAll}, resolved{envAll, envAll, true}},
		{"AWS_ENDPOINT_URL_S3", Options{}, map[string]string{"AWS_ENDPOINT_URL_S3": envS3}, resolved{S3: envS3, S3PathStyle: true}},
		{"option for all wins over AWS_ENDPOINT_URL", Options{EndpointURL: optAll}, map[string]string{"AWS_ENDPOINT_URL": envAll},
			resolved{optAll, optAll, true}},
		// An SDK quirk (service/*/endpoints.go resolveBaseEndpoint): with only the
		// global variable set, per-service config sources are not consulted.
		{"AWS_ENDPOINT_URL hides option per service", Options{Endpoints: map[string]string{"ec2": optEC2}},
			map[string]string{"AWS_ENDPOINT_URL": envAll}, resolved{envAll, envAll, true}},
		{"AWS_ENDPOINT_URL_EC2 wins over options", Options{EndpointURL: optAll, Endpoints: map[string]string{"ec2": optEC2}},
			map[string]string{"AWS_ENDPOINT_URL_EC2": envEC2}, resolved{envEC2, optAll, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			tt.opts.AccessKeyID, tt.opts.SecretAccessKey = "testing", "testing"
			p, err := New(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			cfg := p.newAccount("123456789012", partition.Partitions[0], "", p.base.Credentials).Config("eu-west-1")
			ec2Opts := ec2.NewFromConfig(cfg).Options()
			s3Opts := NewS3(cfg).Options()
			got := resolved{aws.ToString(ec2Opts.BaseEndpoint), aws.ToString(s3Opts.BaseEndpoint), s3Opts.UsePathStyle}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("resolved endpoints mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewS3OptionsRunAfterPathStyle(t *testing.T) {
	isolateEnv(t)
	p, err := New(context.Background(), Options{EndpointURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	client := NewS3(p.base, func(o *s3.Options) { o.UsePathStyle = false })
	if client.Options().UsePathStyle {
		t.Error("UsePathStyle = true, want the caller's false")
	}
}

func TestServiceEndpointsKeys(t *testing.T) {
	e := newServiceEndpoints(map[string]string{"cloudwatch_logs": "http://logs", "Elastic Load Balancing v2": "http://elb"})
	for sdkID, want := range map[string]string{"CloudWatch Logs": "http://logs", "Elastic Load Balancing v2": "http://elb", "EC2": ""} {
		got, found, err := e.GetServiceBaseEndpoint(context.Background(), sdkID)
		if err != nil || got != want || found != (want != "") {
			t.Errorf("GetServiceBaseEndpoint(%q) = %q, %v, %v; want %q", sdkID, got, found, err, want)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	isolateEnv(t)
	_, err := New(context.Background(), Options{
		AccessKeyID:    "AKIAIOSFODNN7EXAMPLE",
		ExternalID:     "x",
		MaxAttempts:    -1,
		EndpointURL:    "127.0.0.1:4566",
		Endpoints:      map[string]string{"ec2": "ftp://x"},
		RequestTimeout: -1,
	})
	if err == nil {
		t.Fatal("New accepted bad options")
	}
	want := []string{
		"static credentials need both an access key id and a secret access key",
		"external id: length 1, want 2 to 1224 characters",
		"max attempts -1: must not be negative",
		"request timeout -1ns: must not be negative",
		`endpoint url: "127.0.0.1:4566": want http(s)://host[:port]`,
		`endpoints[ec2]: "ftp://x": want http(s)://host[:port]`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("New error mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "AKIA") {
		t.Errorf("error names the access key: %v", err)
	}
}

func TestAccountRejectsRolesBeforeCallingAWS(t *testing.T) {
	isolateEnv(t)
	fake := newFakeAWS(t, nil)
	p, err := New(context.Background(), Options{AccessKeyID: "testing", SecretAccessKey: "testing", EndpointURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		role string
		want error
	}{
		{"arn:aws:iam::111111111111:role/skymap", ErrNoExternalID},
		{"arn:aws:iam::111111111111:user/skymap", ErrInvalidRoleARN},
		{"arn:aws:s3:::bucket", ErrInvalidRoleARN},
		{"skymap", ErrInvalidRoleARN},
		{"arn:aws-mars:iam::111111111111:role/skymap", ErrInvalidRoleARN},
	}
	for _, tt := range tests {
		if _, err := p.Account(context.Background(), tt.role); !errors.Is(err, tt.want) {
			t.Errorf("Account(%q) error = %v, want %v", tt.role, err, tt.want)
		}
	}
	if n := fake.count("AssumeRole"); n != 0 {
		t.Errorf("AssumeRole called %d times, want 0", n)
	}
}

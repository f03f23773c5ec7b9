package awsconn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

const (
	testRole       = "arn:aws:iam::111111111111:role/skymap"
	testExternalID = "skymap-test-external-id"
)

// motoProvider returns a Provider with moto's test keys and o's other settings.
func motoProvider(t *testing.T, o Options) *Provider {
	t.Helper()
	isolateEnv(t)
	o.AccessKeyID, o.SecretAccessKey = "testing", "testing"
	o.HTTPClient = testHTTPClient(t)
	p, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMoto(t *testing.T) {
	moto := startMoto(t)
	ctx := context.Background()

	t.Run("role with the probe opted out", func(t *testing.T) {
		p := motoProvider(t, Options{EndpointURL: moto, AllowRoleWithoutExternalID: true})
		a, err := p.Account(ctx, testRole)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"111111111111", "aws", testRole}, []string{a.ID, a.Partition, a.RoleARN}); diff != "" {
			t.Errorf("account mismatch (-want +got):\n%s", diff)
		}
		vpcs, err := ec2.NewFromConfig(a.Config("eu-west-1")).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(vpcs.Vpcs) == 0 {
			t.Error("DescribeVpcs returned no VPC, want moto's default VPC")
		}
		id, err := sts.NewFromConfig(a.Config("global")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(id.Account) != "111111111111" {
			t.Errorf("assumed credentials act in account %s, want 111111111111", aws.ToString(id.Account))
		}
		want := []model.CallStatus{
			{Account: "111111111111", Region: "eu-west-1", API: "ec2:DescribeVpcs", Outcome: model.OutcomeOK, Calls: 1},
			{Account: "111111111111", Region: "global", API: "sts:AssumeRole", Outcome: model.OutcomeOK, Calls: 1},
			{Account: "111111111111", Region: "global", API: "sts:GetCallerIdentity", Outcome: model.OutcomeOK, Calls: 1},
		}
		if diff := cmp.Diff(want, p.Recorder().Statuses(), ignoreTime); diff != "" {
			t.Errorf("Statuses() mismatch (-want +got):\n%s", diff)
		}

		regions, err := a.Regions(ctx, []string{"global", "all", "eu-west-1", "all"})
		if err != nil {
			t.Fatal(err)
		}
		if len(regions) < 10 || regions[0] != "global" || !slices.IsSorted(regions[1:]) ||
			!slices.Contains(regions, "eu-west-1") || !slices.Contains(regions, "us-east-1") {
			t.Errorf("Regions() = %v, want global then moto's sorted regions", regions)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(regions)))) != len(regions) {
			t.Errorf("Regions() = %v has duplicates", regions)
		}
	})

	t.Run("base credentials", func(t *testing.T) {
		p := motoProvider(t, Options{EndpointURL: moto})
		a, err := p.Account(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != "123456789012" || a.Partition != "aws" || a.RoleARN != "" {
			t.Errorf("base account = %s %s %q, want 123456789012 aws \"\"", a.ID, a.Partition, a.RoleARN)
		}
	})

	t.Run("probe refuses a role assumable without external id", func(t *testing.T) {
		p := motoProvider(t, Options{EndpointURL: moto, ExternalID: testExternalID})
		_, err := p.Account(ctx, testRole)
		if !errors.Is(err, ErrRoleWithoutExternalID) {
			t.Fatalf("Account() error = %v, want ErrRoleWithoutExternalID", err)
		}
		for _, s := range []string{testRole, "sts:ExternalId", "trust policy"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not mention %q", err, s)
			}
		}
		if strings.Contains(err.Error(), testExternalID) {
			t.Errorf("error %q reveals the external id", err)
		}
		st := p.Recorder().Statuses()
		if len(st) != 1 || st[0].API != "sts:AssumeRole" || st[0].Region != "global" || st[0].Outcome != model.OutcomeFailed {
			t.Errorf("Statuses() = %+v, want one failed sts:AssumeRole", st)
		}
	})

	t.Run("probe accepts a role requiring external id, assumes once", func(t *testing.T) {
		px := newProxy(t, moto, func(p *proxy) { p.denyProbe = true })
		// The proxy is reached only through the per-service overrides.
		p := motoProvider(t, Options{EndpointURL: moto, ExternalID: testExternalID,
			Endpoints: map[string]string{"sts": px.URL, "ec2": px.URL}})
		accounts := make([]*Account, 8)
		var wg sync.WaitGroup
		for i := range accounts {
			wg.Go(func() {
				a, err := p.Account(ctx, testRole)
				if err != nil {
					t.Error(err)
				}
				accounts[i] = a
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		a := accounts[0]
		for _, other := range accounts {
			if other != a {
				t.Fatal("concurrent Account() calls returned different accounts")
			}
		}
		for _, region := range []string{"eu-west-1", "us-east-1", "ap-southeast-2"} {
			for range 3 {
				if _, err := ec2.NewFromConfig(a.Config(region)).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := p.Account(ctx, testRole); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"", testExternalID}, px.assumedWith()); diff != "" {
			t.Errorf("AssumeRole calls by external id (-want +got):\n%s", diff)
		}
		if n := px.count("DescribeVpcs"); n != 9 {
			t.Errorf("DescribeVpcs through the ec2 override = %d, want 9", n)
		}
		if a.ID != "111111111111" {
			t.Errorf("account id = %s, want 111111111111", a.ID)
		}
	})

	t.Run("denied call names the IAM action", func(t *testing.T) {
		px := newProxy(t, moto, func(p *proxy) { p.denyDescribeInstances = true })
		p := motoProvider(t, Options{EndpointURL: moto, Endpoints: map[string]string{"ec2": px.URL}, AllowRoleWithoutExternalID: true})
		a, err := p.Account(ctx, testRole)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ec2.NewFromConfig(a.Config("eu-west-1")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnauthorizedOperation" {
			t.Fatalf("DescribeInstances error = %v, want UnauthorizedOperation", err)
		}
		wantDetail := "not authorized to perform ec2:DescribeInstances (UnauthorizedOperation)"
		if outcome, detail := Classify(err); outcome != model.OutcomeDenied || detail != wantDetail {
			t.Errorf("Classify() = %s, %q; want denied, %q", outcome, detail, wantDetail)
		}
		want := model.CallStatus{Account: "111111111111", Region: "eu-west-1", API: "ec2:DescribeInstances",
			Outcome: model.OutcomeDenied, Detail: wantDetail, Calls: 1}
		if diff := cmp.Diff(want, p.Recorder().Statuses()[0], ignoreTime); diff != "" {
			t.Errorf("status mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("s3 uses path style", func(t *testing.T) {
		p := motoProvider(t, Options{EndpointURL: moto, AllowRoleWithoutExternalID: true})
		a, err := p.Account(ctx, testRole)
		if err != nil {
			t.Fatal(err)
		}
		client := NewS3(a.Config("us-east-1"))
		bucket := aws.String("skymap-flow-logs")
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("AWSLogs/x"), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Contents) != 1 {
			t.Errorf("ListObjectsV2 returned %d objects, want 1", len(out.Contents))
		}
	})
}

func TestUnreachableEndpoint(t *testing.T) {
	closed := closedPortURL(t)
	tests := []struct {
		role, wantPrefix string
	}{
		{testRole, "assume role " + testRole + ": endpoint unreachable: "},
		{"", "get caller identity: endpoint unreachable: "},
	}
	for _, tt := range tests {
		isolateEnv(t)
		p, err := New(context.Background(), Options{AccessKeyID: "testing", SecretAccessKey: "testing",
			ExternalID: testExternalID, EndpointURL: closed, MaxAttempts: 2, RequestTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.Account(context.Background(), tt.role)
		if !errors.Is(err, ErrUnreachable) || !strings.HasPrefix(err.Error(), tt.wantPrefix) {
			t.Errorf("Account(%q) error = %v, want prefix %q", tt.role, err, tt.wantPrefix)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Account(%q) took %s, want a quick failure", tt.role, d)
		}
		if tt.role != "" {
			st := p.Recorder().Statuses()
			if len(st) != 1 || st[0].API != "sts:AssumeRole" || st[0].Outcome != model.OutcomeFailed ||
				!strings.Contains(st[0].Detail, "connection refused") {
				t.Errorf("Statuses() = %+v, want one failed sts:AssumeRole", st)
			}
		}
	}
}

package awstest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// FlowLogHeader is the header line of default-format (version 2) flow logs.
const FlowLogHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// FlowLogKey is where AWS delivers a flow-log object of an account and
// region for a time: AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/
// <account>_vpcflowlogs_<region>_<flow log id>_<yyyymmddThhmmZ>_<hash>.log.gz.
func FlowLogKey(account, region, flowLogID string, t time.Time, hash string) string {
	t = t.UTC()
	return fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%s.log.gz",
		account, region, t.Format("2006/01/02"), account, region, flowLogID, t.Format("20060102T1504Z"), hash)
}

// GzipLines returns the lines, newline-terminated, as one gzip member: a
// flow-log object as Amazon S3 receives it.
func GzipLines(lines []string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for _, l := range lines {
		zw.Write([]byte(l + "\n")) //nolint:errcheck // a bytes.Buffer does not fail
	}
	zw.Close() //nolint:errcheck
	return b.Bytes()
}

// SeedFlowLogs creates the account's default flow-log bucket
// (stackstate-flowlogs-<account>), a flow log of the prod VPC delivering to
// it, and one object of default-format records for the last ten minutes:
// internet clients to web-1 on 443, an SSH attempt on web-1 rejected,
// web-1 to app-1 on 8080 (seen by both interfaces), app-1 to the orders-db
// RDS instance on 5432, and a NODATA record. It runs after SeedDatabases,
// whose RDS interface it names.
func SeedFlowLogs(ctx context.Context, s *Seed) error {
	ids, err := s.needAll("<vpc:prod>", "<eni:web-1>", "<eni:app-1>", "<ip:web-1>", "<ip:app-1>", "<ip:orders-db>", "<eni:db-1>")
	if err != nil {
		return err
	}
	vpc, webENI, appENI, webIP, appIP, dbIP, idleENI := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6]
	bucket := "stackstate-flowlogs-" + s.Account
	c := s3.NewFromConfig(s.Config, func(o *s3.Options) { o.UsePathStyle = true })
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if s.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(s.Region)}
	}
	if _, err := c.CreateBucket(ctx, in); RetriedCreate(err) != nil && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	fl, err := ec2.NewFromConfig(s.Config).CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{
		ResourceIds: []string{vpc}, ResourceType: ec2types.FlowLogsResourceTypeVpc, TrafficType: ec2types.TrafficTypeAll,
		LogDestinationType: ec2types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::" + bucket),
	})
	if err != nil {
		return fmt.Errorf("create flow log: %w", err)
	}
	flowLogID := "fl-seeded"
	if len(fl.FlowLogIds) > 0 {
		flowLogID = fl.FlowLogIds[0]
		if err := s.Add(flowLogID, "fl", "prod"); err != nil {
			return err
		}
	}
	end := time.Now().UTC().Truncate(time.Minute)
	lines := []string{FlowLogHeader}
	rec := func(eni, src, dst string, sport, dport, proto, packets, bytes int, start int64, action string) {
		lines = append(lines, fmt.Sprintf("2 %s %s %s %s %d %d %d %d %d %d %d %s OK",
			s.Account, eni, src, dst, sport, dport, proto, packets, bytes, start, start+60, action))
	}
	for m := 10; m >= 1; m-- {
		t := end.Add(-time.Duration(m) * time.Minute).Unix()
		k := 10 - m // 0..9: the figures grow a little each minute
		rec(webENI, "198.51.100.7", webIP, 51234, 443, 6, 20+k, 4_000+100*k, t, "ACCEPT")
		rec(webENI, webIP, "198.51.100.7", 443, 51234, 6, 30+k, 90_000+1_000*k, t, "ACCEPT")
		rec(webENI, "203.0.113.9", webIP, 40022, 22, 6, 3, 180, t, "REJECT")
		rec(webENI, webIP, appIP, 43210, 8080, 6, 10, 2_000, t, "ACCEPT")
		rec(webENI, appIP, webIP, 8080, 43210, 6, 12, 40_000, t, "ACCEPT")
		rec(appENI, webIP, appIP, 43210, 8080, 6, 10, 2_000, t, "ACCEPT")
		rec(appENI, appIP, webIP, 8080, 43210, 6, 12, 40_000, t, "ACCEPT")
		rec(appENI, appIP, dbIP, 50000, 5432, 6, 8, 1_200, t, "ACCEPT")
		rec(appENI, dbIP, appIP, 5432, 50000, 6, 9, 30_000, t, "ACCEPT")
		lines = append(lines, fmt.Sprintf("2 %s %s - - - - - - - %d %d - NODATA", s.Account, idleENI, t, t+60))
	}
	key := FlowLogKey(s.Account, s.Region, flowLogID, end, "seeded0")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(GzipLines(lines))}); err != nil {
		return fmt.Errorf("put flow-log object %s: %w", key, err)
	}
	return nil
}

package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// flowBucket is the sample estate's flow-log bucket (SeedFlowLogs).
const (
	flowAccount = "123456789012"
	flowRegion  = "eu-west-1"
	flowBucket  = "stackstate-flowlogs-" + flowAccount
	ordersDB    = "arn:aws:rds:eu-west-1:123456789012:db:orders-db"
)

// flowEstate is what the flow-log tests share: one moto holding the
// seeded sample estate, its generated ids, and a data dir that holds a
// full scan of it (made with flow logs off), copied for every serve so
// that each starts with the map and no flows.
type flowEstate struct {
	m        *awstest.Moto
	b        *awstest.Built
	s3       *s3.Client
	scanned  string
	web, app string // instance ids
	webENI   string
	appENI   string
	idleENI  string // db-1's: the NODATA records
	seedKey  string
}

// TestServeFlowLogs runs skymap serve against moto's sample estate with
// flow logs on, as a user would, through the HTTP API. The subtests share
// the estate and run in order; each serves its own copy of one scanned
// data dir.
func TestServeFlowLogs(t *testing.T) {
	m, b := estate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := m.Config(ctx, flowRegion, flowAccount)
	if err != nil {
		t.Fatal(err)
	}
	e := &flowEstate{m: m, b: b, s3: awsconn.NewS3(cfg)}
	for ph, dst := range map[string]*string{"<i:web-1>": &e.web, "<i:app-1>": &e.app, "<eni:web-1>": &e.webENI,
		"<eni:app-1>": &e.appENI, "<eni:db-1>": &e.idleENI} {
		id, ok := b.ID(ph)
		if !ok {
			t.Fatalf("the estate has no %s", ph)
		}
		*dst = id
	}
	list, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(flowBucket)})
	if err != nil || len(list.Contents) != 1 {
		t.Fatalf("the seeded flow-log bucket: %v, %d objects; want the one SeedFlowLogs wrote", err, len(list.Contents))
	}
	e.seedKey = aws.ToString(list.Contents[0].Key)

	// One full scan, without flows, for every subtest to start from.
	e.scanned = t.TempDir()
	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\n", e.scanned)
	waitScan(t, addr, time.Time{})
	stop()

	t.Run("Relations", e.testRelations)
	t.Run("PublicTraffic", e.testPublicTraffic)
	t.Run("Queue", e.testQueue)
	t.Run("BadInputAndDelete", e.testBadInputAndDelete)
}

// seeded are the figures of SeedFlowLogs' object, computed as it writes
// them: ten minutes k = 0..9 (oldest first), per minute
//
//	198.51.100.7:51234 -> web-1:443  20+k packets, 4000+100k bytes; back 30+k, 90000+1000k
//	203.0.113.9:40022 -> web-1:22    3 packets, 180 bytes, REJECT
//	web-1:43210 -> app-1:8080        10 packets, 2000 bytes; back 12, 40000 (both ENIs report it)
//	app-1:50000 -> orders-db:5432    8 packets, 1200 bytes; back 9, 30000
//
// and a NODATA record of db-1's interface.
type traffic struct {
	BytesToServer   uint64 `json:"bytes_to_server"`
	BytesToClient   uint64 `json:"bytes_to_client"`
	PacketsToServer uint64 `json:"packets_to_server"`
	PacketsToClient uint64 `json:"packets_to_client"`
	Accepted        uint64 `json:"accepted_records"`
	Rejected        uint64 `json:"rejected_records"`
}

// seededTraffic returns the relations' expected figures, by (client,
// server). A conversation's minute is rolled up from its two directions,
// so each minute is 2 records (1 for the rejected SSH, whose answer never
// left), and one seen by both ENIs is counted once, as the server's.
func (e *flowEstate) seededTraffic() map[[2]string]traffic {
	var web traffic
	for k := range uint64(10) {
		web.BytesToServer += 4_000 + 100*k
		web.BytesToClient += 90_000 + 1_000*k
		web.PacketsToServer += 20 + k
		web.PacketsToClient += 30 + k
	}
	web.Accepted = 20
	return map[[2]string]traffic{
		{"urn:host:/198.51.100.7", e.web}: web,
		{"urn:host:/203.0.113.9", e.web}:  {BytesToServer: 10 * 180, PacketsToServer: 10 * 3, Rejected: 10},
		{e.web, e.app}:                    {BytesToServer: 10 * 2_000, BytesToClient: 10 * 40_000, PacketsToServer: 10 * 10, PacketsToClient: 10 * 12, Accepted: 20},
		{e.app, ordersDB}:                 {BytesToServer: 10 * 1_200, BytesToClient: 10 * 30_000, PacketsToServer: 10 * 8, PacketsToClient: 10 * 9, Accepted: 20},
	}
}

func (e *flowEstate) testRelations(t *testing.T) {
	dir := copyDir(t, e.scanned)
	addr, stop := serve(t, flowsConfig(""), dir)
	rels := waitFlowRelations(t, addr, 4)

	type relation struct {
		Source, Target string
		Protocol       any
		Port           float64
		Ports          []any
	}
	var got []relation
	for _, r := range rels {
		got = append(got, relation{r.Source, r.Target, r.Data["protocol"], toFloat(r.Data["server_port"]), toSlice(r.Data["ports"])})
		if r.Data["window"] != "1h" {
			t.Errorf("relation %s -> %s: window %v, want the default 1h", r.Source, r.Target, r.Data["window"])
		}
	}
	want := []relation{
		{e.app, ordersDB, "tcp", 5432, []any{"tcp/5432"}},
		{e.web, e.app, "tcp", 8080, []any{"tcp/8080"}},
		{"urn:host:/198.51.100.7", e.web, "tcp", 443, []any{"tcp/443"}},
		{"urn:host:/203.0.113.9", e.web, "tcp", 22, []any{"tcp/22"}},
	}
	sortBy := func(rs []relation) {
		slices.SortFunc(rs, func(a, b relation) int { return strings.Compare(a.Source+" "+a.Target, b.Source+" "+b.Target) })
	}
	sortBy(got)
	sortBy(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("flowlog relations (-want +got):\n%s", e.b.Normalize(d))
	}

	// Component details merge the live figures into the relations.
	wantTraffic := e.seededTraffic()
	for _, id := range []string{e.web, e.app} {
		for pair, tr := range relationTraffic(t, addr, id) {
			w, ok := wantTraffic[pair]
			if !ok {
				t.Errorf("%s: unexpected flowlog relation %s -> %s", id, pair[0], pair[1])
				continue
			}
			if tr != w {
				t.Errorf("%s: traffic of %s -> %s = %+v, want %+v", e.b.Normalize(id), e.b.Normalize(pair[0]), e.b.Normalize(pair[1]), tr, w)
			}
		}
	}

	// The public addresses are external hosts.
	var hosts ComponentListJSON
	getJSON(t, "http://"+addr+"/api/components?type=external-host", &hosts)
	var hostIDs []string
	for _, c := range hosts.Components {
		hostIDs = append(hostIDs, c.ID)
	}
	if d := cmp.Diff([]string{"urn:host:/198.51.100.7", "urn:host:/203.0.113.9"}, hostIDs); d != "" {
		t.Errorf("external hosts (-want +got):\n%s", d)
	}

	// web-1's traffic per minute, relative to it: in is what it received
	// as the server of 443 and 22 and as the client of app-1:8080.
	var tr struct {
		Points []store.FlowPoint `json:"points"`
	}
	getJSON(t, "http://"+addr+"/api/flows/traffic?component="+e.web, &tr)
	if len(tr.Points) != 10 {
		t.Fatalf("web-1's traffic: %d points, want the seed's 10 minutes: %+v", len(tr.Points), tr.Points)
	}
	for k, p := range tr.Points {
		kk := uint64(k)
		want := store.FlowPoint{Time: tr.Points[0].Time.Add(time.Duration(k) * time.Minute),
			BytesIn: 4_000 + 100*kk + 180 + 40_000, BytesOut: 90_000 + 1_000*kk + 2_000,
			PacketsIn: 20 + kk + 3 + 12, PacketsOut: 30 + kk + 10, Accepted: 2 + 2, Rejected: 1}
		if p != want {
			t.Errorf("web-1's minute %d: %+v, want %+v", k, p, want)
		}
	}

	// The rejected SSH attempt.
	var rejected struct {
		Conversations []store.FlowConversation `json:"conversations"`
	}
	getJSON(t, "http://"+addr+"/api/flows/conversations?action=REJECT", &rejected)
	if len(rejected.Conversations) != 1 {
		t.Fatalf("rejected conversations %+v, want the SSH attempt alone", rejected.Conversations)
	}
	if c := rejected.Conversations[0]; c.Client != "urn:host:/203.0.113.9" || c.Server != e.web || c.ServerPort != 22 || c.Protocol != 6 ||
		c.Rejected != 10 || c.Accepted != 0 || c.BytesToServer != 1_800 || c.Account != flowAccount || c.Region != flowRegion {
		t.Errorf("rejected conversation %+v, want 203.0.113.9 -> web-1:22, 10 rejected records of 180 bytes", c)
	}

	// SQL over the raw records, with Athena's column names.
	res := postSQL(t, addr, "SELECT interface_id, count(*) FROM vpc_flow_logs GROUP BY 1 ORDER BY 1", http.StatusOK)
	perENI := map[string]float64{}
	for _, row := range res.Rows {
		perENI[fmt.Sprint(row[0])] = toFloat(row[1])
	}
	if d := cmp.Diff(map[string]float64{e.webENI: 50, e.appENI: 40, e.idleENI: 10}, perENI); d != "" || len(res.Columns) != 2 || res.Columns[0] != "interface_id" {
		t.Errorf("records per interface, columns %v (-want +got):\n%s", res.Columns, e.b.Normalize(d))
	}
	var all ComponentListJSON
	getJSON(t, "http://"+addr+"/api/components?limit=1", &all)
	res = postSQL(t, addr, "SELECT count(*) FROM components", http.StatusOK)
	if len(res.Rows) != 1 || toFloat(res.Rows[0][0]) != float64(all.Total) {
		t.Errorf("SELECT count(*) FROM components = %v, want the %d served", res.Rows, all.Total)
	}
	postSQL(t, addr, "DELETE FROM flow_rollups", http.StatusBadRequest)

	st := flowStatus(t, addr, "s3://"+flowBucket)
	if st.Objects != 1 || st.Records != 100 || st.Failed != 0 || len(st.Problems) != 0 {
		t.Errorf("status of %s: %+v, want 1 object of 100 records and no problem", flowBucket, st)
	}
	metrics := getText(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		`skymap_flowlog_objects_total{source="s3://` + flowBucket + `"} 1` + "\n",
		`skymap_flowlog_records_total{source="s3://` + flowBucket + `"} 100` + "\n",
		`skymap_flowlog_malformed_lines_total{source="s3://` + flowBucket + `"} 0` + "\n",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	before := conversations(t, addr, "")
	stop()

	// A restart on the same data dir counts nothing twice: the object is
	// still in the bucket (delete_objects is off) and found committed.
	restarted := time.Now()
	addr, stop = serve(t, flowsConfig(""), dir)
	defer stop()
	st = waitFlowStatus(t, addr, "s3://"+flowBucket, func(st flowlogs.Status) bool { return st.LastPoll.After(restarted) })
	if st.Objects != 0 || st.Skipped != 1 {
		t.Errorf("status after a restart: %+v, want the object skipped as committed", st)
	}
	if d := cmp.Diff(before, conversations(t, addr, "")); d != "" {
		t.Errorf("conversations changed across a restart (-before +after):\n%s", d)
	}
}

func (e *flowEstate) testPublicTraffic(t *testing.T) {
	for _, tt := range []struct {
		policy string
		want   [][2]string // flowlog relations
		hosts  []string
	}{
		{"drop", [][2]string{{e.app, ordersDB}, {e.web, e.app}}, nil},
		{"aggregate", [][2]string{{e.app, ordersDB}, {e.web, e.app}, {model.PublicAggregate, e.web}}, []string{model.PublicAggregate}},
	} {
		t.Run(tt.policy, func(t *testing.T) {
			addr, stop := serve(t, flowsConfig("  public_traffic: "+tt.policy+"\n"), copyDir(t, e.scanned))
			defer stop()
			var got [][2]string
			for _, r := range waitFlowRelations(t, addr, len(tt.want)) {
				got = append(got, [2]string{r.Source, r.Target})
				if r.Source == model.PublicAggregate && !slices.Equal(toSlice(r.Data["ports"]), []any{"tcp/22", "tcp/443"}) {
					t.Errorf("the internet's relation to web-1 has ports %v, want tcp/22 and tcp/443", r.Data["ports"])
				}
			}
			less := func(a, b [2]string) int { return strings.Compare(a[0]+" "+a[1], b[0]+" "+b[1]) }
			slices.SortFunc(got, less)
			slices.SortFunc(tt.want, less)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("flowlog relations (-want +got):\n%s", e.b.Normalize(d))
			}
			var hosts ComponentListJSON
			getJSON(t, "http://"+addr+"/api/components?type=external-host", &hosts)
			var ids []string
			for _, c := range hosts.Components {
				ids = append(ids, c.ID)
			}
			if d := cmp.Diff(tt.hosts, ids); d != "" {
				t.Errorf("external hosts (-want +got):\n%s", d)
			}
			if tt.policy == "aggregate" {
				if tr := relationTraffic(t, addr, e.web)[[2]string{model.PublicAggregate, e.web}]; tr.Accepted != 20 || tr.Rejected != 10 {
					t.Errorf("the internet's traffic to web-1: %+v, want 20 accepted records (443) and 10 rejected (22)", tr)
				}
			}
		})
	}
}

func (e *flowEstate) testQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := e.m.Config(ctx, flowRegion, flowAccount)
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("skymap-flowlogs")})
	if err != nil {
		t.Fatal(err)
	}
	// Notifications name their bucket: another one than the default, so
	// that the objects are not in the seeded bucket the other subtests
	// list.
	const bucket = "skymap-flowlogs-notified"
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: flowRegion}}); err != nil {
		t.Fatal(err)
	}
	queueURL := aws.ToString(queue.QueueUrl)
	conf, err := config.Parse([]byte(`
init_config:
  external_id: skymap-test-external-id
instances:
  - role_arn: arn:aws:iam::123456789012:role/StackStateAwsIntegrationRole
    regions: [global, eu-west-1, us-east-1]
    flowlogs_queue_url: ` + queueURL + `
` + flowsConfig("")))
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveConfig(t, conf, copyDir(t, e.scanned))
	defer stop()

	// Two objects, announced by an S3 event notification sent to the
	// queue directly and by one through SNS.
	now := time.Now().UTC().Truncate(time.Minute)
	direct := e.put(ctx, t, bucket, awstest.FlowLogKey(flowAccount, flowRegion, "fl-queue", now, "direct"),
		e.records(now, "192.0.2.80", 443, 3, 700))
	wrapped := e.put(ctx, t, bucket, awstest.FlowLogKey(flowAccount, flowRegion, "fl-queue", now, "sns"),
		e.records(now, "192.0.2.81", 443, 2, 900))
	notification := func(o putObject) string {
		b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
			"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": flowRegion, "eventName": "ObjectCreated:Put",
			"s3": map[string]any{"bucket": map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
				"object": map[string]any{"key": o.key, "size": o.size, "eTag": o.etag}},
		}}})
		return string(b)
	}
	sns, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "m-1",
		"TopicArn": "arn:aws:sns:eu-west-1:123456789012:flowlogs", "Message": notification(wrapped)})
	for _, body := range []string{notification(direct), string(sns)} {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: queue.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}

	st := waitFlowStatus(t, addr, queueURL, func(st flowlogs.Status) bool { return st.MessagesDeleted >= 2 })
	if st.Objects != 2 || st.Records != 5 || st.Messages != 2 || st.MessagesDeleted != 2 || len(st.Problems) != 0 {
		t.Errorf("queue status %+v, want 2 messages of 2 objects (5 records) handled and deleted", st)
	}
	for _, c := range []struct {
		host  string
		bytes uint64
	}{{"urn:host:/192.0.2.80", 3 * 700}, {"urn:host:/192.0.2.81", 2 * 900}} {
		convs := conversations(t, addr, "?component="+c.host)
		if len(convs) != 1 || convs[0].Server != e.web || convs[0].BytesToServer != c.bytes {
			t.Errorf("conversations of %s: %+v, want %d bytes to web-1", c.host, convs, c.bytes)
		}
	}
	// The bucket of the seeded object is not listed: the queue says what to read.
	if convs := conversations(t, addr, "?component=urn:host:/198.51.100.7"); len(convs) != 0 {
		t.Errorf("the seeded object was read along with the queue: %+v", convs)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range attrs.Attributes {
		if v != "0" {
			t.Errorf("the flow-log queue still holds messages: %s = %s", k, v)
		}
	}
	// delete_objects is off: the objects stay.
	for _, o := range []putObject{direct, wrapped} {
		if !e.exists(ctx, t, bucket, o.key) {
			t.Errorf("%s was deleted with delete_objects off", o.key)
		}
	}
}

func (e *flowEstate) testBadInputAndDelete(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if !e.exists(ctx, t, flowBucket, e.seedKey) {
		t.Fatalf("the seeded object is gone before the test that deletes it")
	}
	now := time.Now().UTC().Truncate(time.Minute)
	key := func(hash string) string { return awstest.FlowLogKey(flowAccount, flowRegion, "fl-bad", now, hash) }
	start := now.Add(-2 * time.Minute).Unix()
	webIP := e.id(t, "<ip:web-1>")

	// No dstaddr: nothing can be attributed.
	missing := e.put(ctx, t, flowBucket, key("nodst"), awstest.GzipLines([]string{
		strings.Replace(awstest.FlowLogHeader, " dstaddr", "", 1),
		fmt.Sprintf("2 %s %s 192.0.2.40 51000 443 6 5 500 %d %d ACCEPT OK", flowAccount, e.webENI, start, start+60),
	}))
	// Truncated: five records, a sync flush, five more, cut short one byte
	// into the block after the flush: the first five are read, the rest
	// is lost.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	io.WriteString(zw, strings.Join(e.lines(start, "192.0.2.50", 443, 5, 1_000), "\n")+"\n")
	zw.Flush()
	cut := zb.Len()
	io.WriteString(zw, strings.Join(e.lines(start, "192.0.2.50", 443, 5, 1_000)[1:], "\n")+"\n")
	zw.Close()
	corrupt := e.put(ctx, t, flowBucket, key("trunc"), zb.Bytes()[:cut+1])
	// Three records of an account not monitored, two of ours.
	filtered := e.put(ctx, t, flowBucket, key("other"), awstest.GzipLines(append(e.lines(start, "192.0.2.60", 443, 2, 300),
		fmt.Sprintf("2 999999999999 eni-0aaaaaaaaaaaaaaaa 192.0.2.61 10.9.0.1 51000 443 6 5 500 %d %d ACCEPT OK", start, start+60),
		fmt.Sprintf("2 999999999999 eni-0aaaaaaaaaaaaaaaa 192.0.2.61 10.9.0.1 51001 443 6 5 500 %d %d ACCEPT OK", start, start+60),
		fmt.Sprintf("2 999999999999 eni-0aaaaaaaaaaaaaaaa 192.0.2.61 10.9.0.1 51002 443 6 5 500 %d %d ACCEPT OK", start, start+60),
	)))
	// Two malformed lines among three records.
	good := e.lines(start, "192.0.2.70", 443, 3, 400)
	malformed := e.put(ctx, t, flowBucket, key("malformed"), awstest.GzipLines([]string{
		good[0], good[1], "this is no flow-log record", good[2],
		fmt.Sprintf("2 %s %s 192.0.2.70 %s 51999 443 6 five 400 %d %d ACCEPT OK", flowAccount, e.webENI, webIP, start, start+60),
		good[3],
	}))

	dir := copyDir(t, e.scanned)
	addr, stop := serve(t, flowsConfig("  delete_objects: true\n"), dir)
	st := waitFlowStatus(t, addr, "s3://"+flowBucket, func(st flowlogs.Status) bool {
		return st.Objects+st.Failed >= 5 && st.Deleted >= 3
	})
	// The seeded object and the two readable ones are committed, then
	// deleted; the two unreadable ones are kept.
	if st.Objects != 3 || st.Failed != 2 || st.Deleted != 3 {
		t.Errorf("status %+v, want 3 objects committed and deleted, 2 failed", st)
	}
	if want := int64(100 + 5 + 2 + 3 + 3); st.Records != want {
		t.Errorf("%d records counted, want %d: the seed's 100, 5 before the fault, 2+3 of the filtered object, 3 of the malformed", st.Records, want)
	}
	problem := func(k string, c flowlogs.Category) *flowlogs.Problem {
		for i, p := range st.Problems {
			if p.Key == k && p.Category == c {
				return &st.Problems[i]
			}
		}
		t.Errorf("no %s problem of %s in %+v", c, k, st.Problems)
		return &flowlogs.Problem{}
	}
	if p := problem(missing.key, flowlogs.LogParse); !slices.Equal(p.Fields, []string{"dstaddr"}) || !strings.Contains(p.Detail, "dstaddr") {
		t.Errorf("problem of the object without dstaddr: %+v, want it named", p)
	}
	if p := problem(corrupt.key, flowlogs.LogParse); !strings.Contains(p.Detail, "corrupt") {
		t.Errorf("problem of the truncated object: %+v, want it called corrupt", p)
	}
	if p := problem(filtered.key, flowlogs.LogFilter); p.Count != 3 {
		t.Errorf("problem of the other account's records: %+v, want a count of 3", p)
	}
	if p := problem(malformed.key, flowlogs.LogParse); p.Count != 2 || !strings.Contains(p.Detail, "line 3") {
		t.Errorf("problem of the malformed lines: %+v, want 2 counted and the first named", p)
	}

	kept := func(when string) {
		t.Helper()
		for _, o := range []putObject{missing, corrupt} {
			if !e.exists(ctx, t, flowBucket, o.key) {
				t.Errorf("%s: %s was deleted, though not (fully) read", when, o.key)
			}
		}
		for _, k := range []string{e.seedKey, filtered.key, malformed.key} {
			if e.exists(ctx, t, flowBucket, k) {
				t.Errorf("%s: %s is still in the bucket with delete_objects on", when, k)
			}
		}
	}
	kept("first run")
	// Deleted only after commit: what the deleted objects held is there.
	wantBytes := map[string]uint64{
		"urn:host:/192.0.2.50": 5 * 1_000, "urn:host:/192.0.2.60": 2 * 300, "urn:host:/192.0.2.70": 3 * 400,
		"urn:host:/198.51.100.7": e.seededTraffic()[[2]string{"urn:host:/198.51.100.7", e.web}].BytesToServer,
	}
	checkBytes := func(when string) {
		t.Helper()
		for host, want := range wantBytes {
			convs := conversations(t, addr, "?component="+host)
			if len(convs) != 1 || convs[0].BytesToServer != want {
				t.Errorf("%s: conversations of %s %+v, want %d bytes to the server", when, host, convs, want)
			}
		}
		for _, host := range []string{"urn:host:/192.0.2.40", "urn:host:/192.0.2.61"} {
			if convs := conversations(t, addr, "?component="+host); len(convs) != 0 {
				t.Errorf("%s: %s should have no traffic: %+v", when, host, convs)
			}
		}
	}
	checkBytes("first run")
	res := postSQL(t, addr, "SELECT count(*) FROM flow_rollups", http.StatusOK)
	rollups := toFloat(res.Rows[0][0])
	stop()

	// A restart reads the kept objects again (they fail again) and counts
	// nothing twice.
	restarted := time.Now()
	addr, stop = serve(t, flowsConfig("  delete_objects: true\n"), dir)
	defer stop()
	st = waitFlowStatus(t, addr, "s3://"+flowBucket, func(st flowlogs.Status) bool { return st.LastPoll.After(restarted) })
	if st.Objects != 0 || st.Deleted != 0 || st.Failed != 2 {
		t.Errorf("status after a restart %+v: want nothing committed or deleted again, the 2 unreadable objects reported again", st)
	}
	kept("after a restart")
	checkBytes("after a restart")
	if res := postSQL(t, addr, "SELECT count(*) FROM flow_rollups", http.StatusOK); toFloat(res.Rows[0][0]) != rollups {
		t.Errorf("%v rollups after a restart, %v before", res.Rows[0][0], rollups)
	}
}

// lines are a header and n default-format records from host to web-1 on
// port, each of bytes bytes, reported by web-1's interface at start.
func (e *flowEstate) lines(start int64, host string, port, n int, bytes int) []string {
	web, _ := e.b.ID("<ip:web-1>")
	out := []string{awstest.FlowLogHeader}
	for i := range n {
		out = append(out, fmt.Sprintf("2 %s %s %s %s %d %d 6 5 %d %d %d ACCEPT OK",
			flowAccount, e.webENI, host, web, 50_000+i, port, bytes, start, start+60))
	}
	return out
}

// records is lines as a flow-log object, two minutes before now.
func (e *flowEstate) records(now time.Time, host string, port, n, bytes int) []byte {
	return awstest.GzipLines(e.lines(now.Add(-2*time.Minute).Unix(), host, port, n, bytes))
}

func (e *flowEstate) id(t *testing.T, placeholder string) string {
	t.Helper()
	id, ok := e.b.ID(placeholder)
	if !ok {
		t.Fatalf("the estate has no %s", placeholder)
	}
	return id
}

type putObject struct {
	key, etag string
	size      int
}

func (e *flowEstate) put(ctx context.Context, t *testing.T, bucket, key string, body []byte) putObject {
	t.Helper()
	out, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
	return putObject{key: key, etag: strings.Trim(aws.ToString(out.ETag), `"`), size: len(body)}
}

func (e *flowEstate) exists(ctx context.Context, t *testing.T, bucket, key string) bool {
	t.Helper()
	_, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err == nil
}

// flowsConfig is the config tail of the flow-log tests: moto's roles, and
// a flowlogs section polling every second, with extra (indented keys).
func flowsConfig(extra string) string {
	return optOut + "flowlogs:\n  poll_interval: 1\n" + extra
}

// ComponentListJSON is the answer of /api/components as a client reads it.
type ComponentListJSON struct {
	Components []model.Component `json:"components"`
	Total      int               `json:"total"`
}

// waitFlowRelations waits until the served map holds n flowlog relations,
// and returns them.
func waitFlowRelations(t *testing.T, addr string, n int) []model.Relation {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rl struct {
			Relations []model.Relation `json:"relations"`
		}
		getJSON(t, "http://"+addr+"/api/relations?type="+model.FlowLog, &rl)
		if len(rl.Relations) >= n || time.Now().After(deadline) {
			if len(rl.Relations) != n {
				var st StatusDoc
				getJSON(t, "http://"+addr+"/api/status", &st)
				t.Fatalf("%d flowlog relations, want %d: %+v; flow-log status %+v", len(rl.Relations), n, rl.Relations, st.FlowLogs)
			}
			return rl.Relations
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// flowStatus returns the served status of the flow-log source named
// source.
func flowStatus(t *testing.T, addr, source string) flowlogs.Status {
	t.Helper()
	var st StatusDoc
	getJSON(t, "http://"+addr+"/api/status", &st)
	for _, s := range st.FlowLogs {
		if s.Source == source {
			return s
		}
	}
	return flowlogs.Status{}
}

// waitFlowStatus waits until the status of source satisfies ok.
func waitFlowStatus(t *testing.T, addr, source string, ok func(flowlogs.Status) bool) flowlogs.Status {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := flowStatus(t, addr, source)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status of %s: %+v, still not as wanted after 30 s", source, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// relationTraffic returns the live figures of component id's flowlog
// relations, by (source, target).
func relationTraffic(t *testing.T, addr, id string) map[[2]string]traffic {
	t.Helper()
	var d struct {
		Outgoing []model.Relation `json:"outgoing"`
		Incoming []model.Relation `json:"incoming"`
	}
	getJSON(t, "http://"+addr+"/api/components/"+id, &d)
	out := map[[2]string]traffic{}
	for _, r := range append(d.Outgoing, d.Incoming...) {
		if r.Type != model.FlowLog {
			continue
		}
		b, err := json.Marshal(r.Data["traffic"])
		if err != nil {
			t.Fatal(err)
		}
		var tr traffic
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatalf("traffic of %s -> %s: %v", r.Source, r.Target, err)
		}
		out[[2]string{r.Source, r.Target}] = tr
	}
	return out
}

// conversations returns GET /api/flows/conversations with query.
func conversations(t *testing.T, addr, query string) []store.FlowConversation {
	t.Helper()
	var c struct {
		Conversations []store.FlowConversation `json:"conversations"`
	}
	getJSON(t, "http://"+addr+"/api/flows/conversations"+query, &c)
	return c.Conversations
}

// postSQL runs query with POST /api/sql and checks the status.
func postSQL(t *testing.T, addr, query string, status int) store.SQLResult {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := http.Post("http://"+addr+"/api/sql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("POST /api/sql %q: %s %s, want %d", query, resp.Status, b, status)
	}
	var res store.SQLResult
	if status == http.StatusOK {
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("POST /api/sql %q: %v", query, err)
		}
	}
	return res
}

// copyDir copies the data dir src into a new temporary dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func toFloat(v any) float64 {
	f, _ := v.(float64)
	return f
}

func toSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return string(b)
}

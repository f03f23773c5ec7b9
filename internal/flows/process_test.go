package flows

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"

	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/model"
)

const (
	acct   = "123456789012"
	region = "eu-west-1"
	rdsARN = "arn:aws:rds:eu-west-1:123456789012:db:orders"
	m0     = 1767225600 // 2026-01-01T00:00:00Z, a minute boundary
)

// estate is an application instance and the RDS instance it queries, in
// one VPC, with their network interfaces, as the inventory describes them.
func estate() []model.Component {
	return []model.Component{
		testInstance("i-app", "vpc-1", "10.0.1.10"),
		testENI("eni-app", "vpc-1", map[string]any{"Kind": "instance", "Id": "i-app"}, false, "10.0.1.10"),
		testRDS("orders", "vpc-1", "10.0.2.20"),
		testENI("eni-rds", "vpc-1", map[string]any{"Kind": "service", "Id": "amazon-rds"}, false, "10.0.2.20"),
	}
}

// line is one default-format record.
func line(account, eni, src, dst string, sport, dport, proto, packets, bytes int, start, end int64, action string) string {
	return fmt.Sprintf("2 %s %s %s %s %d %d %d %d %d %d %d %s OK", account, eni, src, dst, sport, dport, proto, packets, bytes, start, end, action)
}

// objectText is a flow-log object of the estate's traffic in its first
// two minutes; see TestProcess for what it holds.
func objectText() string {
	l := []string{
		flowlogstestHeader,
		// The app queries the database, seen by both interfaces; a second
		// connection in the same minute; a third in the next minute.
		line(acct, "eni-app", "10.0.1.10", "10.0.2.20", 40000, 5432, 6, 10, 1000, m0+5, m0+60, "ACCEPT"),
		line(acct, "eni-app", "10.0.2.20", "10.0.1.10", 5432, 40000, 6, 8, 6000, m0+5, m0+60, "ACCEPT"),
		line(acct, "eni-app", "10.0.1.10", "10.0.2.20", 40002, 5432, 6, 2, 200, m0+30, m0+60, "ACCEPT"),
		line(acct, "eni-rds", "10.0.1.10", "10.0.2.20", 40000, 5432, 6, 10, 1000, m0+5, m0+60, "ACCEPT"),
		line(acct, "eni-rds", "10.0.2.20", "10.0.1.10", 5432, 40000, 6, 8, 6000, m0+5, m0+60, "ACCEPT"),
		line(acct, "eni-app", "10.0.1.10", "10.0.2.20", 40001, 5432, 6, 5, 500, m0+65, m0+115, "ACCEPT"),
		// A public scanner, rejected.
		line(acct, "eni-app", "198.51.100.7", "10.0.1.10", 51515, 22, 6, 1, 40, m0+10, m0+20, "REJECT"),
		// The app calls a public API.
		line(acct, "eni-app", "10.0.1.10", "203.0.113.9", 45000, 443, 6, 3, 300, m0+10, m0+40, "ACCEPT"),
		line(acct, "eni-app", "203.0.113.9", "10.0.1.10", 443, 45000, 6, 4, 4000, m0+10, m0+40, "ACCEPT"),
		// A private address no component owns.
		line(acct, "eni-app", "10.0.1.10", "10.0.7.7", 45001, 8080, 6, 1, 60, m0+10, m0+40, "ACCEPT"),
		"2 123456789012 eni-app - - - - - - - 1767225600 1767225660 - NODATA",
		"2 123456789012 eni-rds - - - - - - - 1767225600 1767225660 - SKIPDATA",
		// An account that is not monitored.
		line("999999999999", "eni-zzz", "10.5.0.1", "10.5.0.2", 40000, 443, 6, 1, 40, m0, m0+10, "ACCEPT"),
		"2 123456789012 eni-app garbage",
	}
	return strings.Join(l, "\n") + "\n"
}

const flowlogstestHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rollup is a FlowRollup of the test object, in the estate's account.
func rollup(minute int64, eni string, reporter model.FlowSide, client, server, caddr, saddr string, port uint16, accepted bool, bts, btc, pts, ptc, recs uint64) model.FlowRollup {
	r := model.FlowRollup{
		Minute: time.Unix(minute, 0).UTC(), Account: acct, Region: region, Interface: eni, Reporter: reporter,
		Client: client, Server: server, ServerPort: port, Protocol: 6, Accepted: accepted,
		BytesToServer: bts, BytesToClient: btc, PacketsToServer: pts, PacketsToClient: ptc, Records: recs,
	}
	if caddr != "" {
		r.ClientAddr = netip.MustParseAddr(caddr)
	}
	if saddr != "" {
		r.ServerAddr = netip.MustParseAddr(saddr)
	}
	return r
}

func sortRollups(rs []model.FlowRollup) {
	slices.SortFunc(rs, func(a, b model.FlowRollup) int {
		return strings.Compare(fmt.Sprintf("%d|%s|%s|%s|%v", a.Minute.Unix(), a.Interface, a.Client, a.Server, a.ClientAddr),
			fmt.Sprintf("%d|%s|%s|%s|%v", b.Minute.Unix(), b.Interface, b.Client, b.Server, b.ClientAddr))
	})
}

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func TestProcess(t *testing.T) {
	meta := ObjectMeta{Bucket: "logs", Key: "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/01/01/x.log.gz", ETag: "e1", Account: acct, Region: region}
	dbCalls := []model.FlowRollup{
		rollup(m0, "eni-app", model.FlowClient, "i-app", rdsARN, "10.0.1.10", "10.0.2.20", 5432, true, 1200, 6000, 12, 8, 3),
		rollup(m0, "eni-rds", model.FlowServer, "i-app", rdsARN, "10.0.1.10", "10.0.2.20", 5432, true, 1000, 6000, 10, 8, 2),
		rollup(m0+60, "eni-app", model.FlowClient, "i-app", rdsARN, "10.0.1.10", "10.0.2.20", 5432, true, 500, 0, 5, 0, 1),
		rollup(m0, "eni-app", model.FlowClient, "i-app", "urn:host:/10.0.7.7", "10.0.1.10", "10.0.7.7", 8080, true, 60, 0, 1, 0, 1),
	}
	tests := []struct {
		policy  PublicPolicy
		public  []model.FlowRollup
		dropped int64
	}{
		{PublicKeep, []model.FlowRollup{
			rollup(m0, "eni-app", model.FlowServer, "urn:host:/198.51.100.7", "i-app", "198.51.100.7", "10.0.1.10", 22, false, 40, 0, 1, 0, 1),
			rollup(m0, "eni-app", model.FlowClient, "i-app", "urn:host:/203.0.113.9", "10.0.1.10", "203.0.113.9", 443, true, 300, 4000, 3, 4, 2),
		}, 0},
		{PublicAggregate, []model.FlowRollup{
			rollup(m0, "eni-app", model.FlowServer, model.PublicAggregate, "i-app", "", "10.0.1.10", 22, false, 40, 0, 1, 0, 1),
			rollup(m0, "eni-app", model.FlowClient, "i-app", model.PublicAggregate, "10.0.1.10", "", 443, true, 300, 4000, 3, 4, 2),
		}, 0},
		{PublicDrop, nil, 3},
	}
	x := NewIndex(estate(), time.Unix(m0+3600, 0))
	for _, tt := range tests {
		for _, compressed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/gzip=%v", tt.policy, compressed), func(t *testing.T) {
				body := []byte(objectText())
				if compressed {
					body = gzipped(t, objectText())
				}
				p := NewProcessor(x, Options{Accounts: []string{acct}, Public: tt.policy})
				res, err := p.Process(context.Background(), meta, body)
				if err != nil {
					t.Fatal(err)
				}
				want := append(slices.Clone(dbCalls), tt.public...)
				sortRollups(want)
				rollups := res.Rollups.Slice()
				sortRollups(rollups)
				if d := cmp.Diff(want, rollups, addrCmp); d != "" {
					t.Errorf("rollups (-want +got):\n%s", d)
				}
				got := [...]int64{res.Records, res.OK, res.NoData, res.SkipData, res.Malformed, res.Filtered, res.Dropped}
				if wantN := [...]int64{13, 11, 1, 1, 1, 1, tt.dropped}; got != wantN {
					t.Errorf("records, ok, nodata, skipdata, malformed, filtered, dropped = %v, want %v", got, wantN)
				}
				if len(res.LineErrors) != 1 || res.LineErrors[0].Line != 15 {
					t.Errorf("line errors: %v", res.LineErrors)
				}
				if !res.Start.Equal(time.Unix(m0, 0)) || !res.End.Equal(time.Unix(m0+115, 0)) {
					t.Errorf("start, end = %v, %v", res.Start, res.End)
				}
				if res.Format != flowlogstestHeader || res.Parquet || !bytes.Equal(res.Body, body) ||
					res.Bucket != "logs" || res.ETag != "e1" || res.Account != acct || res.Region != region {
					t.Errorf("object fields: %+v", res.FlowObject)
				}
			})
		}
	}
}

// TestProcessReuse: an address moves from instance A to instance B at
// t1; records before t1 are A's, after it B's.
func TestProcessReuse(t *testing.T) {
	a := testInstance("i-a", "vpc-1", "10.0.1.10")
	b := testInstance("i-b", "vpc-1", "10.0.1.10")
	srv := testInstance("i-srv", "vpc-1", "10.0.9.9")
	x := NewIndex([]model.Component{a, srv, testENI("eni-srv", "vpc-1", nil, false, "10.0.9.9")}, time.Unix(m0, 0))
	t1 := int64(m0 + 600)
	x.Update(&a, nil, time.Unix(t1, 0))
	x.Update(nil, &b, time.Unix(t1, 0))
	text := flowlogstestHeader + "\n" +
		line(acct, "eni-srv", "10.0.1.10", "10.0.9.9", 40000, 443, 6, 1, 100, t1-60, t1-1, "ACCEPT") + "\n" +
		line(acct, "eni-srv", "10.0.1.10", "10.0.9.9", 40000, 443, 6, 1, 100, t1+5, t1+60, "ACCEPT") + "\n"
	res, err := NewProcessor(x, Options{}).Process(context.Background(), ObjectMeta{Account: acct, Region: region}, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []model.FlowRollup{
		rollup(t1-60, "eni-srv", model.FlowServer, "i-a", "i-srv", "10.0.1.10", "10.0.9.9", 443, true, 100, 0, 1, 0, 1),
		rollup(t1, "eni-srv", model.FlowServer, "i-b", "i-srv", "10.0.1.10", "10.0.9.9", 443, true, 100, 0, 1, 0, 1),
	}
	got := res.Rollups.Slice()
	sortRollups(got)
	if d := cmp.Diff(want, got, addrCmp); d != "" {
		t.Errorf("rollups (-want +got):\n%s", d)
	}
}

// TestProcessReporter: which side the reporting interface is on, when its
// address is neither (a middlebox), from flow-direction.
func TestProcessReporter(t *testing.T) {
	x := NewIndex(estate(), time.Unix(m0, 0))
	format := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction tcp-flags"
	text := format + "\n" +
		// eni-app forwards: neither address is its own.
		"5 123456789012 eni-app 10.0.2.20 10.0.7.7 5432 40000 6 1 10 1767225600 1767225610 ACCEPT OK egress 0\n" +
		"5 123456789012 eni-app 10.0.7.7 10.0.2.20 40000 5432 6 1 10 1767225600 1767225610 ACCEPT OK ingress 0\n" +
		// An interface the index does not know, in the default layout but
		// with a SYN: the flags decide against the ports.
		"5 123456789012 eni-new 10.0.2.20 10.0.1.10 5432 40000 6 1 10 1767225600 1767225610 ACCEPT OK ingress 2\n"
	res, err := NewProcessor(x, Options{}).Process(context.Background(), ObjectMeta{Account: acct, Region: region}, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []model.FlowRollup{
		// egress from eni-app, 10.0.2.20 (src) the server: eni-app is on the server's side.
		rollup(m0, "eni-app", model.FlowServer, "urn:host:/10.0.7.7", rdsARN, "10.0.7.7", "10.0.2.20", 5432, true, 0, 10, 0, 1, 1),
		// ingress to eni-app, 10.0.2.20 (dst) the server.
		rollup(m0, "eni-app", model.FlowServer, "urn:host:/10.0.7.7", rdsARN, "10.0.7.7", "10.0.2.20", 5432, true, 10, 0, 1, 0, 1),
		rollup(m0, "eni-new", model.FlowServer, rdsARN, "i-app", "10.0.2.20", "10.0.1.10", 40000, true, 10, 0, 1, 0, 1),
	}
	// The first two share a key: one rollup.
	want = []model.FlowRollup{want[0], want[2]}
	want[0].BytesToServer, want[0].PacketsToServer, want[0].Records = 10, 1, 2
	got := res.Rollups.Slice()
	sortRollups(got)
	if d := cmp.Diff(want, got, addrCmp); d != "" {
		t.Errorf("rollups (-want +got):\n%s", d)
	}
	if res.Format != format {
		t.Errorf("format %q", res.Format)
	}
}

func TestProcessMissingFields(t *testing.T) {
	x := NewIndex(nil, t0)
	text := "version account-id srcaddr dstaddr packets bytes start end action\n2 1 10.0.0.1 10.0.0.2 1 1 1 1 ACCEPT\n"
	res, err := NewProcessor(x, Options{}).Process(context.Background(), ObjectMeta{Key: "k"}, gzipped(t, text))
	var mf *flowlogs.MissingFieldsError
	if !errors.Is(err, flowlogs.ErrMissingFields) || !errors.As(err, &mf) || res != nil {
		t.Fatalf("got %v, %v; want a missing-fields error", res, err)
	}
	if want := []string{"srcport", "dstport", "protocol", "interface-id or pkt-srcaddr+pkt-dstaddr"}; !slices.Equal(mf.Missing, want) {
		t.Errorf("missing %q, want %q", mf.Missing, want)
	}
	// A LogFormat given for objects without a header is checked too.
	lf, err := flowlogs.ParseLogFormat("${version} ${srcaddr} ${dstaddr}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewProcessor(x, Options{}).Process(context.Background(), ObjectMeta{Key: "k", Format: lf}, []byte("2 10.0.0.1 10.0.0.2\n"))
	if !errors.Is(err, flowlogs.ErrMissingFields) {
		t.Errorf("log format without fields: %v", err)
	}
}

// TestProcessFallbackFormat: an object without a header line is read
// with the flow log's LogFormat.
func TestProcessFallbackFormat(t *testing.T) {
	x := NewIndex(estate(), time.Unix(m0, 0))
	lf, err := flowlogs.ParseLogFormat("${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${vpc-id}")
	if err != nil {
		t.Fatal(err)
	}
	text := "eni-other 10.0.1.10 10.0.2.20 40000 5432 6 1 10 1767225600 1767225610 ACCEPT vpc-1\n"
	res, err := NewProcessor(x, Options{Accounts: []string{acct}}).Process(context.Background(), ObjectMeta{Account: acct, Region: region, Format: lf}, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []model.FlowRollup{rollup(m0, "eni-other", model.FlowClient, "i-app", rdsARN, "10.0.1.10", "10.0.2.20", 5432, true, 10, 0, 1, 0, 1)}
	if d := cmp.Diff(want, res.Rollups.Slice(), addrCmp); d != "" {
		t.Errorf("rollups (-want +got):\n%s", d)
	}
	if res.Format != lf.String() || res.Filtered != 0 {
		t.Errorf("format %q, filtered %d", res.Format, res.Filtered)
	}
}

// TestProcessCorrupt: a gzip object cut short gives what was read before
// the cut and an error wrapping ErrCorrupt.
func TestProcessCorrupt(t *testing.T) {
	x := NewIndex(estate(), time.Unix(m0, 0))
	var sb strings.Builder
	sb.WriteString(flowlogstestHeader + "\n")
	for i := range 50_000 {
		sb.WriteString(line(acct, "eni-app", "10.0.1.10", "10.0.2.20", 40000+i%20000, 5432, 6, 1, 100+i%977, m0+int64(i%3600), m0+int64(i%3600)+10, "ACCEPT") + "\n")
	}
	full := gzipped(t, sb.String())
	cut := full[:len(full)*2/3]
	res, err := NewProcessor(x, Options{}).Process(context.Background(), ObjectMeta{Key: "cut.gz"}, cut)
	if !errors.Is(err, flowlogs.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	if res == nil || res.Records == 0 || res.Records >= 50_000 || res.Rollups.Len() == 0 {
		t.Fatalf("partial result: %+v", res)
	}
	if res.ReadWhole {
		t.Error("a cut object is ReadWhole")
	}
	whole, err := NewProcessor(x, Options{}).Process(context.Background(), ObjectMeta{Key: "full.gz"}, full)
	if err != nil {
		t.Fatal(err)
	}
	if !whole.ReadWhole || whole.Records != 50_000 {
		t.Errorf("the whole object: ReadWhole %v, %d records", whole.ReadWhole, whole.Records)
	}
	var n uint64
	for _, r := range res.Rollups.Slice() {
		n += r.Records
	}
	if int64(n) != res.Records {
		t.Errorf("rollups hold %d records, %d read", n, res.Records)
	}
	// Garbage from the first byte: nothing read, the error all the same.
	res, err = NewProcessor(x, Options{}).Process(context.Background(), ObjectMeta{Key: "bad.gz"}, append([]byte{0x1f, 0x8b}, "garbage"...))
	if !errors.Is(err, flowlogs.ErrCorrupt) || res == nil || res.Records != 0 {
		t.Errorf("garbage: %v, %v", res, err)
	}
}

type parquetRow struct {
	Version       int32  `parquet:"version"`
	AccountID     string `parquet:"account_id"`
	InterfaceID   string `parquet:"interface_id"`
	SrcAddr       string `parquet:"srcaddr"`
	DstAddr       string `parquet:"dstaddr"`
	SrcPort       int32  `parquet:"srcport"`
	DstPort       int32  `parquet:"dstport"`
	Protocol      int32  `parquet:"protocol"`
	Packets       int64  `parquet:"packets"`
	Bytes         int64  `parquet:"bytes"`
	Start         int64  `parquet:"start"`
	End           int64  `parquet:"end"`
	Action        string `parquet:"action"`
	LogStatus     string `parquet:"log_status"`
	FlowDirection string `parquet:"flow_direction"`
}

func TestProcessParquet(t *testing.T) {
	x := NewIndex(estate(), time.Unix(m0, 0))
	rows := []parquetRow{
		{5, acct, "eni-rds", "10.0.1.10", "10.0.2.20", 40000, 5432, 6, 3, 300, m0 + 1, m0 + 9, "ACCEPT", "OK", "ingress"},
		{5, acct, "eni-rds", "10.0.2.20", "10.0.1.10", 5432, 40000, 6, 2, 2000, m0 + 1, m0 + 9, "ACCEPT", "OK", "egress"},
	}
	var b bytes.Buffer
	if err := parquet.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	res, err := NewProcessor(x, Options{}).Process(context.Background(), ObjectMeta{Account: acct, Region: region}, b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []model.FlowRollup{rollup(m0, "eni-rds", model.FlowServer, "i-app", rdsARN, "10.0.1.10", "10.0.2.20", 5432, true, 300, 2000, 3, 2, 2)}
	if d := cmp.Diff(want, res.Rollups.Slice(), addrCmp); d != "" {
		t.Errorf("rollups (-want +got):\n%s", d)
	}
	if !res.Parquet || res.Format != flowlogstestHeader+" flow-direction" || res.Records != 2 {
		t.Errorf("parquet %v, format %q, records %d", res.Parquet, res.Format, res.Records)
	}
}

func TestParsePublicPolicy(t *testing.T) {
	for _, p := range []PublicPolicy{PublicKeep, PublicAggregate, PublicDrop} {
		if got, err := ParsePublicPolicy(p.String()); err != nil || got != p {
			t.Errorf("ParsePublicPolicy(%q) = %v, %v", p, got, err)
		}
	}
	if _, err := ParsePublicPolicy("some"); err == nil {
		t.Error("ParsePublicPolicy accepted some")
	}
}

// TestProcessConcurrent processes objects from several goroutines while
// the index changes (run with -race): every call sees one snapshot.
func TestProcessConcurrent(t *testing.T) {
	x := NewIndex(estate(), time.Unix(m0, 0))
	p := NewProcessor(x, Options{Accounts: []string{acct}})
	body := gzipped(t, objectText())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				res, err := p.Process(context.Background(), ObjectMeta{Account: acct, Region: region}, body)
				if err != nil || res.Records != 13 || res.Rollups.Len() != 6 {
					t.Errorf("Process: %v, %+v", err, res)
					return
				}
			}
		})
	}
	for i := range 50 {
		c := testInstance(fmt.Sprintf("i-%d", i), "vpc-1", fmt.Sprintf("10.0.50.%d", i+1))
		x.Update(nil, &c, time.Unix(m0, 0))
	}
	wg.Wait()
}

// TestProcessInterfaceAccounts: an interface id is taken in its account;
// the same id under an account that is not monitored is filtered.
func TestProcessInterfaceAccounts(t *testing.T) {
	x := NewIndex(estate(), time.Unix(m0, 0))
	text := flowlogstestHeader + "\n" +
		line("999999999999", "eni-app", "10.0.1.10", "10.0.2.20", 40000, 5432, 6, 1, 10, m0, m0+5, "ACCEPT") + "\n" +
		line(acct, "eni-app", "10.0.1.10", "10.0.2.20", 40000, 5432, 6, 1, 20, m0, m0+5, "ACCEPT") + "\n" +
		line("999999999999", "eni-app", "10.0.1.10", "10.0.2.20", 40000, 5432, 6, 1, 10, m0, m0+5, "ACCEPT") + "\n" +
		line(acct, "eni-app", "10.0.1.10", "10.0.2.20", 40000, 5432, 6, 1, 20, m0, m0+5, "ACCEPT") + "\n"
	res, err := NewProcessor(x, Options{Accounts: []string{acct}}).Process(context.Background(), ObjectMeta{Account: acct, Region: region}, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []model.FlowRollup{rollup(m0, "eni-app", model.FlowClient, "i-app", rdsARN, "10.0.1.10", "10.0.2.20", 5432, true, 40, 0, 2, 0, 2)}
	if d := cmp.Diff(want, res.Rollups.Slice(), addrCmp); d != "" || res.Filtered != 2 {
		t.Errorf("filtered %d, rollups (-want +got):\n%s", res.Filtered, d)
	}
}

// Rows come out sorted by minute, stably, by the counting sort and by
// the fallback for rows spanning years.
func TestSortByMinute(t *testing.T) {
	for _, minutes := range [][]uint32{{5, 3, 3, 9, 5, 3}, {7, 7}, {5, 3_000_000, 3, 9, 5, 3}} {
		rows := make([]model.FlowRollupRow, len(minutes))
		for i, m := range minutes {
			rows[i] = model.FlowRollupRow{Minute: m, Records: uint64(i)}
		}
		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b model.FlowRollupRow) int { return int(a.Minute) - int(b.Minute) })
		got, spare := sortByMinute(rows, nil)
		if !slices.Equal(got, want) {
			t.Errorf("%v: %v, want %v", minutes, got, want)
		}
		if len(spare) > 0 && &spare[0] == &got[0] {
			t.Errorf("%v: the spare buffer is the result", minutes)
		}
	}
}

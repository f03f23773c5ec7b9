package flowlogs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
)

// awsParquetRow is a row of a Parquet flow log as AWS's table of Parquet
// data types describes it: the field names with '_' for '-', INT_32 for
// version, ports, protocol, tcp-flags and traffic-path, INT_64 for counts
// and times, STRING for the rest, every column nullable. The column
// future_field stands for a field skymap does not know yet.
type awsParquetRow struct {
	Version       *int32  `parquet:"version,optional"`
	AccountID     *string `parquet:"account_id,optional"`
	InterfaceID   *string `parquet:"interface_id,optional"`
	SrcAddr       *string `parquet:"srcaddr,optional"`
	DstAddr       *string `parquet:"dstaddr,optional"`
	SrcPort       *int32  `parquet:"srcport,optional"`
	DstPort       *int32  `parquet:"dstport,optional"`
	Protocol      *int32  `parquet:"protocol,optional"`
	Packets       *int64  `parquet:"packets,optional"`
	Bytes         *int64  `parquet:"bytes,optional"`
	Start         *int64  `parquet:"start,optional"`
	End           *int64  `parquet:"end,optional"`
	Action        *string `parquet:"action,optional"`
	LogStatus     *string `parquet:"log_status,optional"`
	TCPFlags      *int32  `parquet:"tcp_flags,optional"`
	PktSrcAddr    *string `parquet:"pkt_srcaddr,optional"`
	FlowDirection *string `parquet:"flow_direction,optional"`
	TrafficPath   *int32  `parquet:"traffic_path,optional"`
	FutureField   *string `parquet:"future_field,optional"`
}

func ptr[T any](v T) *T { return &v }

func parquetRow(src, dst string, sport, dport int32, bytes int64, action, status string) awsParquetRow {
	return awsParquetRow{
		Version: ptr(int32(5)), AccountID: ptr("123456789012"), InterfaceID: ptr("eni-0123456789abcdef0"),
		SrcAddr: ptr(src), DstAddr: ptr(dst), SrcPort: ptr(sport), DstPort: ptr(dport), Protocol: ptr(int32(6)),
		Packets: ptr(int64(3)), Bytes: ptr(bytes), Start: ptr(int64(1700000000)), End: ptr(int64(1700000060)),
		Action: ptr(action), LogStatus: ptr(status), TCPFlags: ptr(int32(19)), PktSrcAddr: ptr(src),
		FlowDirection: ptr("ingress"), TrafficPath: nil, FutureField: ptr("x"),
	}
}

func writeParquet(t testing.TB, rows []awsParquetRow) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := parquet.Write(&b, rows, parquet.MaxRowsPerRowGroup(3)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParquetReader(t *testing.T) {
	nodata := awsParquetRow{Version: ptr(int32(5)), AccountID: ptr("123456789012"), InterfaceID: ptr("eni-0123456789abcdef0"),
		Start: ptr(int64(1700000000)), End: ptr(int64(1700000060)), LogStatus: ptr("NODATA")}
	spaced := parquetRow("10.0.0.1", "10.0.0.2", 1, 2, 3, "ACCEPT", "OK")
	spaced.FutureField = ptr("a b")
	rows := []awsParquetRow{
		parquetRow("10.0.0.1", "10.0.0.2", 40000, 443, 1000, "ACCEPT", "OK"),
		nodata,
		parquetRow("2001:db8::1", "2001:db8::2", 40000, 22, 50, "REJECT", "OK"),
		parquetRow("10.0.0.1", "10.0.0.2", 40000, 70000, 1, "ACCEPT", "OK"), // port out of range
		parquetRow("10.0.0.1", "not-an-address", 1, 2, 1, "ACCEPT", "OK"),
		spaced,
		parquetRow("10.0.0.3", "10.0.0.4", 5, 6, -7, "ACCEPT", "OK"), // negative count
		parquetRow("10.0.0.3", "10.0.0.4", 5, 6, 7, "ACCEPT", "OK"),
	}
	data := writeParquet(t, rows)
	if !IsParquet(data) || IsParquet(gz(t, "x")) {
		t.Fatal("IsParquet")
	}
	p, err := NewParquetReader(bytes.NewReader(data), int64(len(data)), "obj.parquet")
	if err != nil {
		t.Fatal(err)
	}
	wantFormat := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " +
		"tcp-flags pkt-srcaddr flow-direction traffic-path future_field"
	if got := p.Format().String(); got != wantFormat {
		t.Errorf("format\n got %s\nwant %s", got, wantFormat)
	}
	if err := p.Format().CheckAttribution(); err != nil {
		t.Error(err)
	}
	if len(p.groups) < 2 {
		t.Errorf("%d row groups: the test does not cross row groups", len(p.groups))
	}
	var got []string
	for p.Next() {
		got = append(got, string(p.Record().AppendLine(nil)))
	}
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"5 123456789012 eni-0123456789abcdef0 10.0.0.1 10.0.0.2 40000 443 6 3 1000 1700000000 1700000060 ACCEPT OK 19 10.0.0.1 ingress - x",
		"5 123456789012 eni-0123456789abcdef0 - - - - - - - 1700000000 1700000060 - NODATA - - - - -",
		"5 123456789012 eni-0123456789abcdef0 2001:db8::1 2001:db8::2 40000 22 6 3 50 1700000000 1700000060 REJECT OK 19 2001:db8::1 ingress - x",
		"5 123456789012 eni-0123456789abcdef0 10.0.0.3 10.0.0.4 5 6 6 3 7 1700000000 1700000060 ACCEPT OK 19 10.0.0.3 ingress - x",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	n, errs := p.Malformed()
	var reasons []string
	for _, e := range errs {
		reasons = append(reasons, e.Error())
	}
	wantReasons := []string{
		`line 4: dstport (column 7): out of range: "70000"`,
		`line 5: dstaddr (column 5): not an IPv4 or IPv6 address: "not-an-address"`,
		`line 6: future_field (column 19): value with a space`,
		`line 7: bytes (column 10): not a number: "-7"`,
	}
	if diff := cmp.Diff(wantReasons, reasons); diff != "" || n != 4 {
		t.Errorf("malformed %d (-want +got):\n%s", n, diff)
	}
}

func TestParquetReaderBadObjects(t *testing.T) {
	for name, data := range map[string][]byte{
		"not parquet": []byte("PAR1 but nothing else"),
		"text":        []byte(hdr + rec1 + "\n"),
		"cut":         writeParquet(t, []awsParquetRow{parquetRow("10.0.0.1", "10.0.0.2", 1, 2, 3, "ACCEPT", "OK")})[:40],
		"tiny":        []byte("PAR1"),
		// Found by FuzzParquetReader: a footer length of 2.7 GB, which
		// parquet-go would allocate.
		"huge footer": []byte("PAR1\x15\x06\x15\f\x15\f\x15\xabPAR1"),
	} {
		if _, err := NewParquetReader(bytes.NewReader(data), int64(len(data)), "obj"); !errors.Is(err, ErrBadFormat) || !strings.HasPrefix(err.Error(), "obj: ") {
			t.Errorf("%s: %v, want ErrBadFormat naming the object", name, err)
		}
	}
	type nested struct {
		Srcaddr string `parquet:"srcaddr"`
		Inner   struct {
			Port int32 `parquet:"port"`
		} `parquet:"inner"`
	}
	var b bytes.Buffer
	if err := parquet.Write(&b, []nested{{Srcaddr: "10.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewParquetReader(bytes.NewReader(b.Bytes()), int64(b.Len()), "obj"); !errors.Is(err, ErrBadFormat) || !strings.Contains(err.Error(), "nested parquet column inner.port") {
		t.Errorf("nested: %v", err)
	}
}

// Summarize reads Parquet files as it reads text ones: the same records
// give the same summary.
func TestSummarizeParquet(t *testing.T) {
	rows := []awsParquetRow{
		parquetRow("10.0.0.1", "10.0.0.2", 40000, 443, 1000, "ACCEPT", "OK"),
		parquetRow("10.0.0.1", "10.0.0.2", 40001, 443, 500, "ACCEPT", "OK"),
		parquetRow("2001:db8::1", "2001:db8::2", 40000, 22, 50, "REJECT", "OK"),
		parquetRow("10.0.0.1", "10.0.0.2", 40000, 70000, 1, "ACCEPT", "OK"),
	}
	var text strings.Builder
	text.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags pkt-srcaddr flow-direction traffic-path future_field\n")
	for _, r := range rows {
		text.WriteString(strings.Join([]string{"5", *r.AccountID, *r.InterfaceID, *r.SrcAddr, *r.DstAddr,
			fmt.Sprint(*r.SrcPort), fmt.Sprint(*r.DstPort), "6", "3", fmt.Sprint(*r.Bytes), "1700000000", "1700000060",
			*r.Action, *r.LogStatus, "19", *r.PktSrcAddr, "ingress", "-", "x"}, " ") + "\n")
	}
	dir := t.TempDir()
	pq := writeFile(t, dir, "a.parquet", writeParquet(t, rows))
	txt := writeFile(t, dir, "a.log", []byte(text.String()))
	fromParquet, pres := Summarize(context.Background(), []string{pq}, SummarizeOptions{})
	fromText, tres := Summarize(context.Background(), []string{txt}, SummarizeOptions{})
	if diff := cmp.Diff(fromText, fromParquet, groupOpts); diff != "" {
		t.Errorf("summary (-text +parquet):\n%s", diff)
	}
	if fromParquet.OK != 3 || fromParquet.Malformed != 1 || pres[0].Malformed != 1 || pres[0].Err != nil || tres[0].Malformed != 1 {
		t.Errorf("parquet %+v %+v, text %+v", fromParquet, pres, tres)
	}
}

// Reading Parquet allocates per page and batch of rows (parquet-go does),
// not for each record: about 0.3 times per record here, where pages hold
// about 90 rows.
func TestParquetReaderAllocs(t *testing.T) {
	rows := make([]awsParquetRow, 20000)
	for i := range rows {
		rows[i] = parquetRow(fmt.Sprintf("10.0.%d.%d", i/256%256, i%256), "10.1.0.1", int32(i%60000), 443, int64(i), "ACCEPT", "OK")
	}
	var b bytes.Buffer
	if err := parquet.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	allocs := testing.AllocsPerRun(3, func() {
		p, err := NewParquetReader(bytes.NewReader(data), int64(len(data)), "obj")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for p.Next() {
			n++
		}
		if n != len(rows) || p.Err() != nil {
			t.Fatal(n, p.Err())
		}
	})
	if perRecord := allocs / float64(len(rows)); perRecord > 0.5 {
		t.Errorf("%.3f allocations per record (%v per object)", perRecord, allocs)
	} else {
		t.Logf("%.4f allocations per record", perRecord)
	}
}

// FuzzParquetReader checks that no object, Parquet or not, makes the
// Parquet reader panic.
//
//	go test ./internal/collect/flowlogs -run '^$' -fuzz FuzzParquetReader -fuzztime 60s
func FuzzParquetReader(f *testing.F) {
	f.Add(writeParquet(f, []awsParquetRow{parquetRow("10.0.0.1", "10.0.0.2", 1, 2, 3, "ACCEPT", "OK")}))
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := NewParquetReader(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		for p.Next() {
		}
	})
}

package flowdb

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"

	"github.com/skymap/skymap/internal/store"
)

// parquetRow is a row of a Parquet flow log as AWS writes them: '_' in
// the names, INT_32 for small numbers, INT_64 for counts and times, all
// nullable; future_field is a field the view does not know.
type parquetRow struct {
	Version       *int32  `parquet:"version,optional"`
	AccountID     *string `parquet:"account_id,optional"`
	InterfaceID   *string `parquet:"interface_id,optional"`
	SrcAddr       *string `parquet:"srcaddr,optional"`
	DstAddr       *string `parquet:"dstaddr,optional"`
	DstPort       *int32  `parquet:"dstport,optional"`
	Bytes         *int64  `parquet:"bytes,optional"`
	Start         *int64  `parquet:"start,optional"`
	End           *int64  `parquet:"end,optional"`
	Action        *string `parquet:"action,optional"`
	LogStatus     *string `parquet:"log_status,optional"`
	FlowDirection *string `parquet:"flow_direction,optional"`
	FutureField   *string `parquet:"future_field,optional"`
}

func ptr[T any](v T) *T { return &v }

func TestParquetWithText(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	ctx := context.Background()
	var b bytes.Buffer
	rows := []parquetRow{{Version: ptr(int32(5)), AccountID: ptr("123456789012"), InterfaceID: ptr("eni-p"), SrcAddr: ptr("10.0.0.1"),
		DstAddr: ptr("10.0.0.2"), DstPort: ptr(int32(443)), Bytes: ptr(int64(77)), Start: ptr(int64(1795341600)),
		End: ptr(int64(1795341660)), Action: ptr("ACCEPT"), LogStatus: ptr("OK"), FlowDirection: ptr("ingress"), FutureField: ptr("x")}}
	if err := parquet.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	pq := &store.FlowObject{Bucket: "logs", Key: "p.parquet", ETag: "e", Body: b.Bytes(), Parquet: true,
		Start: t0, End: t0.Add(time.Minute), Records: 1}
	text := textObject(t, "t.log.gz", "2 123456789012 eni-t 10.0.0.3 10.0.0.4 40000 22 6 1 12 1795341600 1795341660 REJECT OK")
	for _, o := range []*store.FlowObject{pq, text} {
		if err := d.CommitFlowObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	res := mustSQL(t, d, `SELECT interface_id, dstport, bytes, action, flow_direction, future_field FROM vpc_flow_logs ORDER BY bytes`)
	want := [][]any{{"eni-t", int32(22), int64(12), "REJECT", nil, nil}, {"eni-p", int32(443), int64(77), "ACCEPT", "ingress", "x"}}
	if diff := cmp.Diff(want, res.Rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/app"
	"github.com/skymap/skymap/internal/collect/flowlogs"
)

func TestStatusTable(t *testing.T) {
	doc := app.StatusDoc{
		LastScan: &app.ScanReport{Finished: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Components: 150, Relations: 160},
		Accounts: []app.AccountStatus{{Account: "123456789012", State: "partially connected", Denied: []string{"ec2:DescribeSubnets"}}},
		FlowLogs: []flowlogs.Status{{Source: "s3://stackstate-flowlogs-123456789012", Objects: 3, Records: 300,
			Problems: []flowlogs.Problem{{Category: flowlogs.LogParse, Severity: flowlogs.SeverityError,
				Bucket: "stackstate-flowlogs-123456789012", Key: "AWSLogs/x\x1b[31m.log.gz", Count: 1,
				Detail: "missing fields needed for attribution: dstaddr"}}}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/status" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(doc)
	}))
	defer srv.Close()
	code, out, stderr := run(t, "status", "--server", srv.URL)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"123456789012  partially connected  ec2:DescribeSubnets",
		"s3://stackstate-flowlogs-123456789012  3        300",
		"error logParse s3://stackstate-flowlogs-123456789012/AWSLogs/x",
		"missing fields needed for attribution: dstaddr",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a control character from a key reached the terminal:\n%q", out)
	}
	if code, _, _ := run(t, "status", "--server", "http://127.0.0.1:1"); code != exitFailure {
		t.Errorf("no server: exit %d, want %d", code, exitFailure)
	}
}

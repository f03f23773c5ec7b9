package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/flowdb"
)

// flowsDir is a data directory holding one flow-log object of two records.
func flowsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := flowdb.Open(dir, flowdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	fmt.Fprintf(zw, "%s\n2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1795341600 1795341660 ACCEPT OK\n"+
		"2 123456789012 eni-1 10.0.0.9 10.0.0.2 40001 22 6 1 40 1795341600 1795341660 REJECT OK\n", header)
	zw.Close()
	start := time.Unix(1795341600, 0)
	err = db.CommitFlowObject(context.Background(), &store.FlowObject{Bucket: "logs", Key: "k", ETag: "e",
		Account: "123456789012", Region: "eu-west-1", Body: b.Bytes(), Format: header, Start: start, End: start.Add(time.Minute), Records: 2})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func runSQLCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := NewMain(strings.NewReader("SELECT 42 AS answer"), &out, &errb).Run(context.Background(), append([]string{"sql"}, args...))
	return code, out.String(), errb.String()
}

const sqlQuery = `SELECT srcaddr, dstport, bytes, action, vpc_id FROM vpc_flow_logs ORDER BY bytes DESC`

func TestSQLCommandData(t *testing.T) {
	dir := flowsDir(t)
	code, out, errOut := runSQLCmd("--data", dir, sqlQuery)
	want := "srcaddr   dstport  bytes  action  vpc_id\n" +
		"10.0.0.1  443      1000   ACCEPT  NULL\n" +
		"10.0.0.9  22       40     REJECT  NULL\n"
	if code != exitOK || out != want {
		t.Errorf("table: exit %d, stderr %q\n got:\n%s\nwant:\n%s", code, errOut, out, want)
	}
	code, out, _ = runSQLCmd("--data", dir, "--output", "csv", sqlQuery)
	if want := "srcaddr,dstport,bytes,action,vpc_id\n10.0.0.1,443,1000,ACCEPT,\n10.0.0.9,22,40,REJECT,\n"; code != exitOK || out != want {
		t.Errorf("csv: exit %d\n%s", code, out)
	}
	code, out, errOut = runSQLCmd("--data", dir, "--output", "json", "--max-rows", "1", sqlQuery)
	if code != exitOK || !strings.Contains(out, `"truncated": true`) || !strings.Contains(out, `"10.0.0.1"`) || !strings.Contains(errOut, "first 1 rows") {
		t.Errorf("json: exit %d, stderr %q\n%s", code, errOut, out)
	}
	code, out, _ = runSQLCmd("--data", dir, "-")
	if code != exitOK || !strings.Contains(out, "42") {
		t.Errorf("query from stdin: exit %d\n%s", code, out)
	}
	code, _, errOut = runSQLCmd("--data", dir, "DELETE FROM flow_rollups")
	if code != exitFailure || !strings.Contains(errOut, "only a SELECT") {
		t.Errorf("delete: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runSQLCmd("--data", filepath.Join(dir, "nope"), "SELECT 1")
	if code != exitFailure || !strings.Contains(errOut, "no flows database") {
		t.Errorf("missing dir: exit %d, stderr %q", code, errOut)
	}
	// While a server holds the directory, --data says to ask it.
	db, err := flowdb.Open(dir, flowdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	code, _, errOut = runSQLCmd("--data", dir, "SELECT 1")
	if code != exitFailure || !strings.Contains(errOut, "--server") {
		t.Errorf("held dir: exit %d, stderr %q", code, errOut)
	}
}

func TestSQLCommandServer(t *testing.T) {
	dir := flowsDir(t)
	db, err := flowdb.Open(dir, flowdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := httptest.NewServer((&api.Server{Flows: db}).Handler())
	defer srv.Close()
	code, out, errOut := runSQLCmd("--server", srv.URL, `SELECT sum(bytes) AS bytes, 9007199254740993::BIGINT AS big FROM vpc_flow_logs`)
	want := "bytes  big\n1040   9007199254740993\n"
	if code != exitOK || out != want {
		t.Errorf("exit %d, stderr %q\n got:\n%s\nwant:\n%s", code, errOut, out, want)
	}
	code, _, errOut = runSQLCmd("--server", srv.URL, `SELECT * FROM read_csv('/etc/passwd')`)
	if code != exitFailure || !strings.Contains(errOut, "400") || !strings.Contains(errOut, "read_csv is not allowed") {
		t.Errorf("refused: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runSQLCmd("--server", "http://127.0.0.1:1", "SELECT 1")
	if code != exitFailure || !strings.Contains(errOut, "--data") {
		t.Errorf("no server: exit %d, stderr %q", code, errOut)
	}
	for _, args := range [][]string{{}, {"--server", srv.URL, "--data", dir, "SELECT 1"}, {"--output", "xml", "SELECT 1"},
		{"--max-rows", "0", "SELECT 1"}, {"SELECT 1", "SELECT 2"}} {
		if code, _, _ := runSQLCmd(args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

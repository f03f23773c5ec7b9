package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHistoryCommand(t *testing.T) {
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.EscapedPath() + "?" + r.URL.RawQuery
		if strings.Contains(r.URL.Path, "nope") {
			w.WriteHeader(404)
			w.Write([]byte(`{"error":{"code":"not_found","message":"no component \u001b[31mnope"}}`))
			return
		}
		w.Write([]byte(`{"versions":[{"seq":1,"time":"2026-11-22T10:00:00Z","entity":"component","id":"i-1","change":"created","cause":"scan"},` +
			`{"seq":2,"time":"2026-11-22T10:05:00Z","entity":"component","id":"i-1","change":"updated","cause":"event:e1 ModifyInstanceAttribute",` +
			`"actor":"arn:aws:iam::123456789012:user/ann","source_ip":"203.0.113.9","diff":{"name":{"old":"a","new":"b"},"data.InstanceType":{"old":"t3","new":"m5"}}}]}`))
	}))
	defer srv.Close()
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := NewMain(nil, &out, &errb).Run(context.Background(), append([]string{"history", "--server", srv.URL}, args...))
		return code, out.String(), errb.String()
	}
	code, out, _ := run("arn:aws:ec2:eu-west-1:123456789012:instance/i-1")
	if code != exitOK || asked != "/api/components/arn:aws:ec2:eu-west-1:123456789012:instance%2Fi-1/history?limit=100" {
		t.Fatalf("exit %d, asked %s", code, asked)
	}
	for _, want := range []string{"TIME", "2026-11-22T10:05:00Z  updated  event:e1 ModifyInstanceAttribute  arn:aws:iam::123456789012:user/ann  203.0.113.9  data.InstanceType name"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut := run("nope")
	if code != exitFailure || !strings.Contains(errOut, "404") || strings.Contains(errOut, "\x1b") {
		t.Errorf("unknown component: exit %d, stderr %q (want 404, control characters escaped)", code, errOut)
	}
	if code, _, _ := run(); code != exitUsage {
		t.Errorf("no id: exit %d, want %d", code, exitUsage)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/skymap/skymap/internal/collect/devopsguru"
)

// TestIAMPolicyIsValidReadOnly checks what `skymap iam-policy` prints: a
// JSON IAM policy of read-only actions only (and the few that consume
// events), small enough for a managed
// policy (6,144 characters without white space). That it covers every call
// the collectors make is checked by the app's golden scan.
func TestIAMPolicyIsValidReadOnly(t *testing.T) {
	var out, errb bytes.Buffer
	if code := NewMain(nil, &out, &errb).Run(context.Background(), []string{"iam-policy"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var policy struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   []string
			Resource string
		}
	}
	if err := json.Unmarshal(out.Bytes(), &policy); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if policy.Version != "2012-10-17" || len(policy.Statement) != 1 || policy.Statement[0].Effect != "Allow" {
		t.Fatalf("unexpected policy shape: %+v", policy)
	}
	action := regexp.MustCompile(`^[a-z0-9-]+:(Describe|List|Get|GET$)[A-Za-z0-9]*$`)
	// Following events consumes them: the only actions that are not reads.
	consume := map[string]bool{"s3:DeleteObject": true, "sqs:ReceiveMessage": true, "sqs:DeleteMessage": true,
		"cloudtrail:LookupEvents": true,
		// Reads not named Describe/List/Get (access level Read in the
		// service authorization reference).
		"logs:FilterLogEvents": true}
	seen := map[string]bool{}
	for _, a := range policy.Statement[0].Action {
		if !action.MatchString(a) && !consume[a] {
			t.Errorf("action %q is not a read-only Describe/List/Get action", a)
		}
		if seen[a] {
			t.Errorf("action %q is listed twice", a)
		}
		seen[a] = true
	}
	// Optional collectors' actions are in the policy too, off or on.
	for _, a := range devopsguru.IAMActions {
		if !seen[a] {
			t.Errorf("action %q of DevOps Guru insights is missing", a)
		}
	}
	if len(seen) < 60 {
		t.Errorf("only %d actions: the collectors make more calls than that", len(seen))
	}
	if n := len(strings.Join(strings.Fields(out.String()), "")); n > 6144 {
		t.Errorf("policy is %d characters without white space; managed policies take 6,144", n)
	}
}

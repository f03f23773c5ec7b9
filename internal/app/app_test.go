package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store/postgres/pgtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(pgtest.Shared(awstest.SharedMain(m)),
		// The SDK's HTTP transport keeps idle connections after a test.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// testConfig is the config of the sample estate's two accounts; extra is
// appended (skymap sections).
func testConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`
init_config:
  aws_access_key_id: ''
  aws_secret_access_key: ''
  external_id: skymap-test-external-id
instances:
  - role_arn: arn:aws:iam::123456789012:role/StackStateAwsIntegrationRole
    regions: [global, eu-west-1, us-east-1]
  - role_arn: arn:aws:iam::111111111111:role/StackStateAwsIntegrationRole
    regions: [global, eu-west-1]
` + extra))
	if err != nil {
		t.Fatalf("test config: %v", err)
	}
	return cfg
}

// optOut is the config section that lets moto's roles be assumed: moto
// ignores trust policies, so every role there is assumable without an
// external id, which skymap otherwise refuses.
const optOut = `
aws:
  allow_role_without_external_id: true
  max_attempts: 2
`

// estate starts (or resets) moto, builds the sample estate and points the
// SDK's environment at moto.
func estate(t *testing.T) (*awstest.Moto, *awstest.Built) {
	t.Helper()
	m := awstest.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := awstest.SampleEstate().Build(ctx, m)
	if err != nil {
		t.Fatalf("build estate: %v", err)
	}
	m.SetEnv(t, "us-east-1")
	return m, b
}

func TestScanGolden(t *testing.T) {
	_, built := estate(t)
	doc, err := Scan(context.Background(), testConfig(t, optOut), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := doc.Problems(); n != 0 {
		t.Errorf("%d problems in a scan of a healthy estate: %+v", n, doc.Status)
	}
	// Every call the collectors made is in the policy `skymap iam-policy`
	// prints, so a collector cannot call what the table lacks.
	policy := inventory.IAMActions()
	for _, st := range doc.Status {
		if st.API != "sts:AssumeRole" && !slices.Contains(policy, st.API) {
			t.Errorf("the scan called %s, which inventory's IAM actions lack", st.API)
		}
	}
	got := normalizeDoc(t, built, doc)
	golden := filepath.Join("testdata", "scan.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("scan differs from %s (-want +got); if intended, rerun with -update:\n%s", golden, d)
	}
}

// normalizeDoc renders doc with generated ids replaced by placeholders,
// timestamps blanked, and lists re-sorted by their normalized ids.
func normalizeDoc(t *testing.T, b *awstest.Built, doc Document) []byte {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(b.Normalize(string(raw))), &v); err != nil {
		t.Fatal(err)
	}
	blankTimes(v)
	// The engine sorts identifiers by their generated values; sort them
	// again by their placeholders.
	comps, _ := v["components"].([]any)
	for _, c := range comps {
		if m, ok := c.(map[string]any); ok {
			if ids, ok := m["identifiers"].([]any); ok {
				sort.SliceStable(ids, func(i, j int) bool { return fmt.Sprint(ids[i]) < fmt.Sprint(ids[j]) })
			}
		}
	}
	for _, key := range []string{"components", "relations", "pending_relations", "status"} {
		list, _ := v[key].([]any)
		sort.SliceStable(list, func(i, j int) bool { return sortKey(list[i]) < sortKey(list[j]) })
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func sortKey(v any) string {
	m, _ := v.(map[string]any)
	var parts []string
	for _, k := range []string{"id", "source", "target", "type", "account", "region", "api"} {
		if s, ok := m[k].(string); ok {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\x00")
}

// blankTimes replaces every RFC 3339 timestamp by "<time>".
func blankTimes(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if s, ok := sub.(string); ok {
				if _, err := time.Parse(time.RFC3339, s); err == nil {
					v[k] = "<time>"
				}
				continue
			}
			blankTimes(sub)
		}
	case []any:
		for i, sub := range v {
			if s, ok := sub.(string); ok {
				if _, err := time.Parse(time.RFC3339, s); err == nil {
					v[i] = "<time>"
				}
				continue
			}
			blankTimes(sub)
		}
	}
}

// status returns the status entry of api in account and region.
func status(doc Document, account, region, api string) (model.CallStatus, bool) {
	for _, s := range doc.Status {
		if s.Account == account && s.Region == region && s.API == api {
			return s, true
		}
	}
	return model.CallStatus{}, false
}

func countType(doc Document, typ string) int {
	n := 0
	for _, c := range doc.Components {
		if c.Type == typ {
			n++
		}
	}
	return n
}

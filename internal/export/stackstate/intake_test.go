package stackstate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

func TestIntakeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://sts.example.com":                          "https://sts.example.com/stsAgent/intake",
		"https://sts.example.com/":                         "https://sts.example.com/stsAgent/intake",
		"https://sts.example.com/receiver":                 "https://sts.example.com/receiver/stsAgent/intake",
		"https://sts.example.com/receiver/stsAgent":        "https://sts.example.com/receiver/stsAgent/intake",
		"https://sts.example.com/receiver/stsAgent/":       "https://sts.example.com/receiver/stsAgent/intake",
		"https://sts.example.com/receiver/stsAgent/intake": "https://sts.example.com/receiver/stsAgent/intake",
		"http://10.0.0.5:7077/stsAgent":                    "http://10.0.0.5:7077/stsAgent/intake",
		"http://10.0.0.5:7077/stsAgent/intake/#x":          "http://10.0.0.5:7077/stsAgent/intake",
	} {
		u, err := IntakeURL(in)
		if err != nil || u.String() != want {
			t.Errorf("IntakeURL(%q) = %v, %v, want %s", in, u, err, want)
		}
	}
	for in, want := range map[string]string{
		"sts.example.com":                     "receiver URL sts.example.com is not an http(s) URL with a host",
		"ftp://sts.example.com":               "receiver URL ftp://sts.example.com is not an http(s) URL with a host",
		"https://sts.example.com/?api_key=k3": "receiver URL must not have a query: the API key is given apart",
		"https://user:pass@/stsAgent":         "receiver URL https://user:xxxxx@/stsAgent is not an http(s) URL with a host",
		"https://x/%zz":                       "receiver URL does not parse",
	} {
		if _, err := IntakeURL(in); err == nil || err.Error() != want {
			t.Errorf("IntakeURL(%q) error %v, want %q", in, err, want)
		}
	}
}

// Snapshots group by account: relations go with their source, even to
// another account's component; configured accounts without components get
// an empty snapshot; relations to components not in the map are left out.
func TestSnapshots(t *testing.T) {
	comps := []model.Component{
		{ID: "q1", Account: "111111111111"}, {ID: "t1", Account: "111111111111"}, {ID: "q2", Account: "222222222222"},
	}
	rels := []model.Relation{
		{Source: "t1", Target: "q1", Type: "uses-service"},
		{Source: "t1", Target: "q2", Type: "uses-service"},
		{Source: "q2", Target: "gone", Type: "uses-service"},
	}
	got := Snapshots(comps, rels, []string{"333333333333", "111111111111"})
	want := []Snapshot{
		{Instance: Instance{"aws-v2", "111111111111"}, Components: comps[:2], Relations: rels[:2]},
		{Instance: Instance{"aws-v2", "222222222222"}, Components: comps[2:]},
		{Instance: Instance{"aws-v2", "333333333333"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Snapshots (-want +got):\n%s", d)
	}
}

// An empty snapshot is one body that starts and stops both the topology
// and the health stream: StackState then deletes what it held.
func TestEncodeEmptySnapshot(t *testing.T) {
	e := Encoder{Hostname: "h", Time: time.Unix(1700000000, 0), Health: true, RepeatInterval: time.Hour}
	var bodies [][]byte
	n, err := e.Encode(Snapshot{Instance: Instance{"aws-v2", "333333333333"}}, func(b []byte) error {
		bodies = append(bodies, b)
		return nil
	})
	if err != nil || n != (Counts{Bodies: 1}) || len(bodies) != 1 {
		t.Fatalf("Encode = %+v, %v; %d bodies", n, err, len(bodies))
	}
	want := `{"collection_timestamp":1700000000,"internalHostname":"h","events":{},"metrics":[],"service_checks":[],` +
		`"health":[{"start_snapshot":{"repeat_interval_s":1800},"stop_snapshot":{},"stream":{"urn":"urn:health:skymap:333333333333"},"check_states":[]}],` +
		`"topologies":[{"start_snapshot":true,"stop_snapshot":true,"instance":{"type":"aws-v2","url":"333333333333"},"components":[],"relations":[],"delete_ids":[]}]}`
	if string(bodies[0]) != want {
		t.Errorf("body\n%s\nwant\n%s", bodies[0], want)
	}
	var v map[string]any
	if err := json.Unmarshal(bodies[0], &v); err != nil || strings.Contains(string(bodies[0]), "null") {
		t.Errorf("body is not JSON without nulls: %v", err)
	}
}

package stackstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/skymap/skymap/internal/model"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// httptest servers and clients keep idle connections after a test.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// testKey is an API key no test output may show.
const testKey = "sts-K3Y/with+odd=chars-0123456789"

// newPusher returns a pusher of src to rcv with fast retries; change
// adjusts the options.
func newPusher(t *testing.T, rcvURL string, src Source, change func(*Options)) *Pusher {
	t.Helper()
	o := Options{Receiver: rcvURL + "/receiver/stsAgent", APIKey: testKey, Source: src, Hostname: "collector-1",
		Compress: true, Backoff: time.Millisecond, Now: func() time.Time { return time.Unix(1700000000, 0) }}
	if change != nil {
		change(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sent is what the receiver holds of one instance after a push.
type sent struct {
	components map[string]int    // external id -> times received
	types      map[string]string // external id -> type
	relations  map[string]int
	checks     map[string]string // check state id -> health
	bodies     int
}

// checkSnapshots checks that every instance's topology (and health
// stream, when health is true) was sent as one snapshot: start in its
// first part only, stop in its last part only, nothing of it after the
// stop. It returns what each instance got.
func checkSnapshots(t *testing.T, reqs []request, health bool) map[string]*sent {
	t.Helper()
	out := map[string]*sent{}
	stopped := map[string]bool{}
	started := map[string]bool{}
	hStarted, hStopped := map[string]bool{}, map[string]bool{}
	for i, r := range reqs {
		if r.Path != "/receiver/stsAgent/intake" || r.APIKey != testKey || r.HeaderKey != testKey ||
			r.ContentType != "application/json" {
			t.Errorf("request %d: path %s, key in query %t, in header %t, content type %q", i, r.Path,
				r.APIKey == testKey, r.HeaderKey == testKey, r.ContentType)
		}
		in := r.Intake
		if in.InternalHostname != "collector-1" || *in.CollectionTimestamp != 1700000000 {
			t.Errorf("request %d: internalHostname %q, collection_timestamp %d", i, in.InternalHostname, *in.CollectionTimestamp)
		}
		for _, tp := range in.Topologies {
			url := tp.Instance.URL
			s := out[url]
			if s == nil {
				s = &sent{components: map[string]int{}, types: map[string]string{}, relations: map[string]int{}, checks: map[string]string{}}
				out[url] = s
			}
			s.bodies++
			if tp.Instance.Type != "aws-v2" {
				t.Errorf("request %d: instance type %q, want aws-v2", i, tp.Instance.Type)
			}
			if tp.StartSnapshot != !started[url] {
				t.Errorf("request %d: instance %s: start_snapshot %t, want it in the first part only", i, url, tp.StartSnapshot)
			}
			if stopped[url] {
				t.Errorf("request %d: instance %s: sent after its stop_snapshot", i, url)
			}
			started[url], stopped[url] = true, tp.StopSnapshot
			if tp.DeleteIDs == nil || len(tp.DeleteIDs) != 0 {
				t.Errorf("request %d: delete_ids %v, want []", i, tp.DeleteIDs)
			}
			for _, c := range tp.Components {
				s.components[c.ExternalID]++
				s.types[c.ExternalID] = c.Type.Name
			}
			for _, rel := range tp.Relations {
				s.relations[rel.ExternalID]++
				if want := rel.SourceID + "-" + rel.Type.Name + "-" + rel.TargetID; rel.ExternalID != want || rel.Data == nil {
					t.Errorf("request %d: relation %s, want external id %s and data", i, rel.ExternalID, want)
				}
			}
		}
		for _, h := range in.Health {
			url := strings.TrimPrefix(h.Stream.URN, "urn:health:skymap:")
			if !health {
				t.Errorf("request %d: health stream %s with health off", i, h.Stream.URN)
				continue
			}
			if (h.StartSnapshot != nil) != !hStarted[url] || hStopped[url] {
				t.Errorf("request %d: health stream %s: start_snapshot %v after start %t, stop %t", i, h.Stream.URN,
					h.StartSnapshot, hStarted[url], hStopped[url])
			}
			hStarted[url], hStopped[url] = true, h.StopSnapshot != nil
			for _, cs := range h.CheckStates {
				out[url].checks[cs.CheckStateID] = cs.Health
				if cs.TopologyElementIdentifier != cs.CheckStateID || cs.Name == "" {
					t.Errorf("request %d: check state %+v", i, cs)
				}
			}
		}
	}
	for url := range out {
		if !stopped[url] || health && !hStopped[url] {
			t.Errorf("instance %s: topology stopped %t, health stopped %t", url, stopped[url], hStopped[url])
		}
	}
	return out
}

// Every component and relation of a scanned map reaches the receiver
// exactly once, in one snapshot per account split over bodies of at most
// the element limit, gzipped, with the key in the query.
func TestPushSendsEverythingOnceInSnapshots(t *testing.T) {
	m := scannedMap(t)
	rcv := newReceiver(t, nil)
	p := newPusher(t, rcv.srv.URL, m, func(o *Options) { o.MaxElements = 25 })
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.got()
	got := checkSnapshots(t, reqs, false)
	wantComps, wantRels := map[string]map[string]int{}, map[string]map[string]int{}
	accountOf := map[string]string{}
	for _, c := range m.comps {
		if wantComps[c.Account] == nil {
			wantComps[c.Account], wantRels[c.Account] = map[string]int{}, map[string]int{}
		}
		wantComps[c.Account][c.ID] = 1
		accountOf[c.ID] = c.Account
	}
	for _, r := range m.rels {
		wantRels[accountOf[r.Source]][r.Source+"-"+r.Type+"-"+r.Target] = 1
	}
	if len(got) != 2 {
		t.Fatalf("instances %d, want the 2 accounts", len(got))
	}
	for account, s := range got {
		if d := cmp.Diff(wantComps[account], s.components); d != "" {
			t.Errorf("account %s components (-want +got):\n%s", account, d)
		}
		if d := cmp.Diff(wantRels[account], s.relations); d != "" {
			t.Errorf("account %s relations (-want +got):\n%s", account, d)
		}
	}
	for i, r := range reqs {
		n := 0
		for _, tp := range r.Intake.Topologies {
			n += len(tp.Components) + len(tp.Relations)
		}
		if n > 25 || r.Encoding != "gzip" {
			t.Errorf("request %d: %d elements (limit 25), encoding %q", i, n, r.Encoding)
		}
	}
	st := p.Status()
	if st.Components != len(m.comps) || st.Relations != len(m.rels) || st.Bodies != len(reqs) || st.Instances != 2 ||
		st.Posts != len(reqs) || st.LastError != "" || st.LastSuccess.IsZero() || st.Bytes == 0 || st.Bytes != st.SentBytes {
		t.Errorf("status %+v; sent %d bodies", st, len(reqs))
	}
	if strings.Contains(st.Endpoint, testKey) || st.Endpoint != rcv.srv.URL+"/receiver/stsAgent/intake" {
		t.Errorf("status endpoint %q", st.Endpoint)
	}
}

// A component's data holds the component as skymap's export writes it and
// the keys the agent's checks set.
func TestComponentData(t *testing.T) {
	c := model.Component{ID: "i-1", Type: "aws.ec2.instance", Name: "web-1", Identifiers: []string{"urn:host:/i-1"},
		Labels: []string{"aws-account:123456789012", "stackstate-domain:shop", "team:web"}, Account: "123456789012",
		Region: "eu-west-1", Layer: "Machines", Environment: "prod", ConsoleURL: "https://console/i-1",
		Data: map[string]any{"InstanceType": "t3.micro", "Tags": map[string]any{"team": "web"}}, Health: model.HealthCritical}
	rcv := newReceiver(t, nil)
	p := newPusher(t, rcv.srv.URL, staticMap{comps: []model.Component{c}}, func(o *Options) { o.Compress = false })
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.got()
	if len(reqs) != 1 || len(reqs[0].Intake.Topologies) != 1 || len(reqs[0].Intake.Topologies[0].Components) != 1 || reqs[0].Encoding != "" {
		t.Fatalf("requests %+v", reqs)
	}
	got := reqs[0].Intake.Topologies[0].Components[0]
	want := map[string]any{
		"id": "i-1", "type": "aws.ec2.instance", "name": "web-1", "identifiers": []any{"urn:host:/i-1"},
		"labels": []any{"aws-account:123456789012", "stackstate-domain:shop", "team:web"}, "account": "123456789012",
		"region": "eu-west-1", "layer": "Machines", "environment": "prod", "console_url": "https://console/i-1",
		"data": map[string]any{"InstanceType": "t3.micro", "Tags": map[string]any{"team": "web"}}, "health": "CRITICAL",
		"tags": []any{"aws-account:123456789012", "integration-type:aws-v2", "integration-url:123456789012",
			"stackstate-domain:shop", "team:web"},
		"domain": "shop", "Name": "web-1", "Tags": map[string]any{"team": "web"}, "URN": []any{"urn:host:/i-1"},
		"Location": map[string]any{"AwsAccount": "123456789012", "AwsRegion": "eu-west-1"},
	}
	if got.ExternalID != "i-1" || got.Type.Name != "aws.ec2.instance" {
		t.Errorf("externalId %q, type %q", got.ExternalID, got.Type.Name)
	}
	if d := cmp.Diff(want, got.Data); d != "" {
		t.Errorf("data (-want +got):\n%s", d)
	}
}

// With health on, each account has a health stream: a check state per
// component with a StackState health, none for UNKNOWN or no health,
// started and stopped around the bodies like the topology.
func TestPushHealthStream(t *testing.T) {
	m := scannedMap(t)
	healths := []string{model.HealthClear, model.HealthDeviating, model.HealthCritical, model.HealthUnknown}
	want := map[string]map[string]string{}
	for i := range m.comps {
		c := &m.comps[i]
		if i%5 == 4 {
			continue
		}
		c.Health = healths[i%5]
		c.HealthReasons = []string{"alarm x: ALARM"}
		if c.Health == model.HealthUnknown {
			continue
		}
		if want[c.Account] == nil {
			want[c.Account] = map[string]string{}
		}
		want[c.Account][c.ID] = c.Health
	}
	rcv := newReceiver(t, nil)
	p := newPusher(t, rcv.srv.URL, m, func(o *Options) {
		o.Health, o.MaxElements, o.Interval = true, 40, 10*time.Minute
	})
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.got()
	got := checkSnapshots(t, reqs, true)
	for account, s := range got {
		if d := cmp.Diff(want[account], s.checks); d != "" {
			t.Errorf("account %s check states (-want +got):\n%s", account, d)
		}
	}
	first := reqs[0].Intake.Health
	if len(first) != 1 || first[0].StartSnapshot == nil || first[0].StartSnapshot.RepeatIntervalS != 600 {
		t.Errorf("first body's health: %+v, want a start with repeat_interval_s 600", first)
	}
	if st := p.Status(); st.CheckStates == 0 || st.CheckStates != len(want["123456789012"])+len(want["111111111111"]) {
		t.Errorf("status counts %d check states", st.CheckStates)
	}
}

// A body stays under the byte bound however few elements it holds.
func TestPushBoundsBodyBytes(t *testing.T) {
	m := scannedMap(t)
	rcv := newReceiver(t, nil)
	const limit = 16 << 10
	p := newPusher(t, rcv.srv.URL, m, func(o *Options) { o.MaxBytes = limit })
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.got()
	checkSnapshots(t, reqs, false)
	for i, r := range reqs {
		n := 0
		for _, tp := range r.Intake.Topologies {
			n += len(tp.Components) + len(tp.Relations)
		}
		if len(r.Body) > limit && n > 1 {
			t.Errorf("request %d: %d bytes in %d elements, limit %d", i, len(r.Body), n, limit)
		}
	}
	if len(reqs) < 5 {
		t.Errorf("%d bodies; a 16 KiB limit should split the map more", len(reqs))
	}
}

// 503 and 429 are retried (a Retry-After of 0 is honoured) until the
// receiver takes the body; the snapshot arrives whole.
func TestPushRetriesThenSucceeds(t *testing.T) {
	m := scannedMap(t)
	rcv := newReceiver(t, func(n int) (int, http.Header, string) {
		switch n {
		case 0:
			return http.StatusServiceUnavailable, nil, "receiver starting"
		case 1:
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"0"}}, ""
		}
		return http.StatusOK, nil, ""
	})
	p := newPusher(t, rcv.srv.URL, m, nil)
	if err := p.Push(context.Background()); err != nil {
		t.Fatalf("Push: %v", err)
	}
	reqs := rcv.got()
	// The first body was posted three times: drop the refused attempts.
	if len(reqs) < 3 || !bytes.Equal(reqs[0].Body, reqs[2].Body) {
		t.Fatalf("%d requests; the first body was not posted again", len(reqs))
	}
	checkSnapshots(t, reqs[2:], false)
	if st := p.Status(); st.Retries != 2 || st.Posts != len(reqs)-2 || st.Failures != 0 {
		t.Errorf("status: retries %d, posts %d, failures %d", st.Retries, st.Posts, st.Failures)
	}
}

// A 4xx is not retried: the push fails with the status and the start of
// the answer, the key redacted even where the receiver echoes it.
func TestPushReportsRejection(t *testing.T) {
	rcv := newReceiver(t, func(int) (int, http.Header, string) {
		return http.StatusForbidden, nil, "invalid api key " + testKey + "\n\tfor intake"
	})
	comps := []model.Component{{ID: "i-1", Type: "aws.ec2.instance", Account: "123456789012"}}
	p := newPusher(t, rcv.srv.URL, staticMap{comps: comps}, nil)
	err := p.Push(context.Background())
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusForbidden || se.Temporary() {
		t.Fatalf("Push error %v, want a permanent *StatusError of 403", err)
	}
	want := "account 123456789012: post " + rcv.srv.URL + "/receiver/stsAgent/intake: 403 Forbidden: invalid api key [redacted] for intake"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if n := len(rcv.got()); n != 1 {
		t.Errorf("%d requests, want 1: a 403 is not retried", n)
	}
	if st := p.Status(); st.LastError != want || st.Failures != 1 || !st.LastSuccess.IsZero() {
		t.Errorf("status %+v", st)
	}
}

// The API key shows in no error and no log line, whatever fails: a
// receiver that is down, one that answers 500 forever, a redirect.
func TestKeyNeverLoggedOrInErrors(t *testing.T) {
	down := newReceiver(t, nil)
	downURL := down.srv.URL
	down.srv.Close()
	failing := newReceiver(t, func(int) (int, http.Header, string) { return 500, nil, "oops " + testKey })
	moved := newReceiver(t, func(int) (int, http.Header, string) {
		return http.StatusMovedPermanently, http.Header{"Location": {"https://elsewhere.example.com/intake?api_key=" + testKey}}, ""
	})
	comps := []model.Component{{ID: "i-1", Type: "aws.ec2.instance", Account: "123456789012"}}
	for name, url := range map[string]string{"down": downURL, "500": failing.srv.URL, "redirect": moved.srv.URL} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			p := newPusher(t, url, staticMap{comps: comps}, func(o *Options) {
				o.Log, o.MaxAttempts, o.Interval = log, 3, time.Hour
			})
			err := p.Push(context.Background())
			if err == nil {
				t.Fatal("Push succeeded")
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- p.Run(ctx) }()
			for deadline := time.Now().Add(10 * time.Second); p.Status().Pushes < 2 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			all := err.Error() + "\n" + p.Status().LastError + "\n" + logs.String() + fmt.Sprint(p) + fmt.Sprintf("%+v", p)
			for _, k := range []string{testKey, "K3Y", "K3Y%2Fwith"} {
				if strings.Contains(all, k) {
					t.Errorf("the key (%s) shows:\n%s", k, all)
				}
			}
			if !strings.Contains(logs.String(), "stackstate push failed") {
				t.Errorf("no failure logged:\n%s", logs.String())
			}
		})
	}
}

// Run pushes at once, after Trigger and every interval, and returns nil
// when cancelled; a Trigger before Run does not cause a second push.
func TestRunPushesOnTriggerAndInterval(t *testing.T) {
	rcv := newReceiver(t, nil)
	comps := []model.Component{{ID: "i-1", Type: "aws.ec2.instance", Account: "123456789012"}}
	p := newPusher(t, rcv.srv.URL, staticMap{comps: comps}, func(o *Options) { o.Interval = time.Hour })
	p.Trigger()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	waitPushes := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if p.Status().Pushes >= n {
				return
			}
		}
		t.Fatalf("%d pushes, want %d", p.Status().Pushes, n)
	}
	waitPushes(1)
	time.Sleep(50 * time.Millisecond)
	if n := p.Status().Pushes; n != 1 {
		t.Errorf("%d pushes after start, want 1: the Trigger before Run is covered by the first", n)
	}
	p.Trigger()
	waitPushes(2)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}

	fast := newPusher(t, rcv.srv.URL, staticMap{comps: comps}, func(o *Options) { o.Interval = 20 * time.Millisecond })
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- fast.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); fast.Status().Pushes < 3 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if n := fast.Status().Pushes; n < 3 {
		t.Errorf("%d pushes with a 20ms interval, want at least 3", n)
	}
}

// A push goes on with the other accounts when one fails, and names the
// account that failed.
func TestPushFailureOfOneAccount(t *testing.T) {
	rcv := newReceiver(t, func(n int) (int, http.Header, string) {
		if n == 0 {
			return http.StatusBadRequest, nil, "bad"
		}
		return http.StatusOK, nil, ""
	})
	comps := []model.Component{
		{ID: "a", Type: "aws.sqs.queue", Account: "111111111111"},
		{ID: "b", Type: "aws.sqs.queue", Account: "222222222222"},
	}
	p := newPusher(t, rcv.srv.URL, staticMap{comps: comps}, nil)
	err := p.Push(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "account 111111111111: post ") {
		t.Fatalf("Push error %v, want the first account's", err)
	}
	got := checkSnapshots(t, rcv.got()[1:], false)
	if s := got["222222222222"]; s == nil || s.components["b"] != 1 {
		t.Errorf("the second account was not sent: %+v", got)
	}
	if st := p.Status(); st.Components != 1 || st.Failures != 1 {
		t.Errorf("status %+v", st)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	src := staticMap{}
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"no url", Options{APIKey: "k", Source: src}, "stackstate: receiver URL  is not an http(s) URL with a host"},
		{"key in url", Options{Receiver: "https://x/stsAgent?api_key=" + testKey, APIKey: "k", Source: src},
			"stackstate: receiver URL must not have a query: the API key is given apart"},
		{"no key", Options{Receiver: "https://x", Source: src}, "stackstate: no API key"},
		{"no map", Options{Receiver: "https://x", APIKey: "k"}, "stackstate: no map to push"},
	} {
		if _, err := New(tt.o); err == nil || err.Error() != tt.want {
			t.Errorf("%s: New error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "-1": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
	if !slices.Equal([]bool{(&StatusError{Status: 429}).Temporary(), (&StatusError{Status: 502}).Temporary(),
		(&StatusError{Status: 404}).Temporary(), (&StatusError{Status: 301}).Temporary()}, []bool{true, true, false, false}) {
		t.Error("Temporary: want 429 and 5xx only")
	}
}

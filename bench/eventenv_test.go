package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/skymap/skymap/internal/app"
	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/config"
)

// The event benchmarks' account and regions in moto: the static test
// credentials act in awstest.DefaultAccount, and serve assumes a role
// there. The changes happen in evRegion; the event queue lives in
// evQueueRegion, so that evRegion holds no queue but the benchmark's: moto
// 5.2's ListQueues answers at most 1,000 queues and no NextToken, and a
// listing of 1,001 would miss one.
const (
	evAccount     = awstest.DefaultAccount
	evRegion      = "eu-west-1"
	evQueueRegion = "us-east-1"
	evActor       = "arn:aws:iam::" + evAccount + ":user/bench"
)

// eventEnv is skymap serve, in-process, following an SQS event queue in
// moto, after its first full scan.
type eventEnv struct {
	moto *awstest.Moto
	// sqs and events are the benchmark's own clients in evRegion and
	// evQueueRegion: the SDK's defaults (kept-alive connections, standard
	// retries), as skymap's.
	sqs, events *sqs.Client
	eventsURL   string
	// api is the base URL of skymap's API, "http://127.0.0.1:port".
	api string
	// stop ends serve and waits for it; safe to call more than once.
	stop func()
	// motoCPU returns the CPU time moto's process has used so far.
	motoCPU func() time.Duration
}

// startEventEnv starts moto (skipped when it is not installed, failed under
// CI=true), creates the event queue, and runs serve on a config whose one
// instance reads its events from that queue; it returns once the first
// full scan has finished. Full scans are hourly: none runs again during a
// benchmark.
func startEventEnv(b *testing.B) *eventEnv {
	b.Helper()
	m := awstest.StartT(b)
	m.SetEnv(b, evRegion)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(evRegion))
	if err != nil {
		b.Fatal(err)
	}
	env := &eventEnv{moto: m, sqs: sqs.NewFromConfig(awsCfg), motoCPU: childCPU,
		events: sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.Region = evQueueRegion })}
	q, err := env.events.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("skymap-events")})
	if err != nil {
		b.Fatal(err)
	}
	env.eventsURL = aws.ToString(q.QueueUrl)

	// moto ignores trust policies, so its roles are assumable without the
	// external id, which skymap refuses unless told otherwise. The event
	// queue's URL names no region in moto: serve reads it in the
	// instance's first region.
	cfg, err := config.Parse([]byte(`
init_config:
  external_id: skymap-bench-external-id
  full_run_interval: 3600
instances:
  - role_arn: arn:aws:iam::` + evAccount + `:role/skymap-bench
    regions: [` + evQueueRegion + `, ` + evRegion + `]
    events_queue_url: ` + env.eventsURL + `
aws:
  allow_role_without_external_id: true
`))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sctx, scancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- app.Serve(sctx, cfg, app.ServeOptions{Options: app.Options{Logger: log},
			DataDir: b.TempDir(), Listen: "127.0.0.1:0", Ready: func(a string) { ready <- a },
			EventInterval: time.Second})
	}()
	select {
	case addr := <-ready:
		env.api = "http://" + addr
	case err := <-done:
		scancel()
		b.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		scancel()
		b.Fatal("serve did not start listening")
	}
	stopped := false
	env.stop = func() {
		if stopped {
			return
		}
		stopped = true
		scancel()
		if err := <-done; err != nil {
			b.Errorf("serve: %v", err)
		}
	}
	b.Cleanup(env.stop)
	env.waitFirstScan(b)
	return env
}

func (env *eventEnv) waitFirstScan(b *testing.B) {
	b.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st, err := env.status(); err == nil && st.LastScan != nil {
			return
		}
	}
	b.Fatal("no full scan finished in 2 minutes")
}

// status reads GET /api/status.
func (env *eventEnv) status() (app.StatusDoc, error) {
	var st app.StatusDoc
	resp, err := httpClient.Get(env.api + "/api/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return st, fmt.Errorf("GET /api/status: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// queueARN is the component id of queue name in the benchmark's account.
func queueARN(name string) string {
	return "arn:aws:sqs:" + evRegion + ":" + evAccount + ":" + name
}

// createQueueEvent is the EventBridge event of a CreateQueue call, as
// CloudTrail records it: what skymap's event mapping reads is the event
// source and name, requestParameters.queueName,
// responseElements.queueUrl, and userIdentity.arn as the actor.
func createQueueEvent(id, name, queueURL string, at time.Time) string {
	ts := at.UTC().Format(time.RFC3339)
	ev := map[string]any{
		"version": "0", "id": id, "detail-type": "AWS API Call via CloudTrail", "source": "aws.sqs",
		"account": evAccount, "time": ts, "region": evRegion, "resources": []string{},
		"detail": map[string]any{
			"eventVersion": "1.08",
			"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDABENCH", "arn": evActor,
				"accountId": evAccount, "userName": "bench"},
			"eventTime": ts, "eventSource": "sqs.amazonaws.com", "eventName": "CreateQueue",
			"awsRegion": evRegion, "sourceIPAddress": "203.0.113.9", "userAgent": "skymap-bench",
			"requestParameters": map[string]any{"queueName": name},
			"responseElements":  map[string]any{"queueUrl": queueURL},
			"requestID":         "req-" + id, "eventID": "ct-" + id, "readOnly": false,
			"eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": evAccount,
		},
	}
	body, err := json.Marshal(ev)
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return string(body)
}

// queueHolds returns how many messages queueURL holds, visible or in
// flight: skymap deletes an event's message only once its change is
// committed, so what it no longer holds was handled.
func queueHolds(ctx context.Context, c *sqs.Client, queueURL string) (int, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, err
	}
	total := 0
	for k, v := range out.Attributes {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("queue attribute %s: %q", k, v)
		}
		total += n
	}
	return total, nil
}

// envInt reads a positive size from the environment, else def.
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// envFloat is envInt for a positive number.
func envFloat(b *testing.B, name string, def float64) float64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return f
}

// percentile is the nearest-rank q-quantile of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ms is d in milliseconds, for ReportMetric.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// reportLatencies reports p50, p90, p99 and max of d as <name>-p50-ms etc.
func reportLatencies(b *testing.B, name string, d []time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	b.ReportMetric(ms(percentile(s, 0.50)), name+"-p50-ms")
	b.ReportMetric(ms(percentile(s, 0.90)), name+"-p90-ms")
	b.ReportMetric(ms(percentile(s, 0.99)), name+"-p99-ms")
	if len(s) > 0 {
		b.ReportMetric(ms(s[len(s)-1]), name+"-max-ms")
	}
}

// childCPU is the CPU time used so far by this process's children (moto),
// read from /proc since they are not waited for; 0 where /proc is missing.
func childCPU() time.Duration {
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime stime: fields 4, 14 and 15; comm may hold spaces.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 || f[1] != self {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// machineBusy returns the busy and total CPU time of the machine, all
// cores, from /proc/stat.
func machineBusy() (busy, total time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var idle, all int64
	for i, s := range f[1:] {
		v, _ := strconv.ParseInt(s, 10, 64)
		if i < 8 {
			all += v
		}
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return time.Duration(all-idle) * 10 * time.Millisecond, time.Duration(all) * 10 * time.Millisecond
}

// cpuShares measures the CPU used between start and report: by this
// process (skymap serve, the benchmark's driver and poller), by moto, and
// by the whole machine, each as a percentage of one core.
type cpuShares struct {
	wall0       time.Time
	self0, moto time.Duration
	busy0       time.Duration
	motoCPU     func() time.Duration
}

func startCPU(motoCPU func() time.Duration) *cpuShares {
	busy, _ := machineBusy()
	return &cpuShares{wall0: time.Now(), self0: cpuTime(), moto: motoCPU(), busy0: busy, motoCPU: motoCPU}
}

func (c *cpuShares) report(b *testing.B, prefix string) {
	wall := time.Since(c.wall0).Seconds()
	busy, _ := machineBusy()
	b.ReportMetric(100*(cpuTime()-c.self0).Seconds()/wall, prefix+"process-cpu-%")
	b.ReportMetric(100*(c.motoCPU()-c.moto).Seconds()/wall, prefix+"moto-cpu-%")
	b.ReportMetric(100*(busy-c.busy0).Seconds()/wall, prefix+"machine-cpu-%")
}

// close stops serve and moto.
func (env *eventEnv) close() {
	env.stop()
	env.moto.Stop()
}

package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/app"
	"github.com/skymap/skymap/internal/config"
)

// fakeEnv, when set, makes the test binary serve fakeEC2 instead of
// running tests: the scan benchmark starts it as a separate process, so
// that the scan's CPU time is measured without the server's.
const fakeEnv = "SKYMAP_BENCH_FAKE_EC2"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		serveFake()
		return
	}
	os.Exit(m.Run())
}

// Per account-region counts of the scan benchmark's estate: 5 accounts x 2
// regions x 5,000 resources = 50,000 resources.
var estate = &fakeEC2{vpcs: 20, subnets: 200, groups: 780, instances: 4000,
	base: 100 * time.Millisecond, perItem: time.Millisecond}

func serveFake() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	http.Serve(ln, estate)
}

// startFake runs the fake EC2 in a child process and returns its URL.
func startFake(b *testing.B) string {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fakeEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("fake EC2 did not start: %v", err)
	}
	return "http://" + strings.TrimSpace(line)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScanFiftyThousand runs `skymap scan` in-process against a fake
// EC2 holding 50,000 resources in 5 accounts x 2 regions, answering each
// call in 100 ms + 1 ms per resource returned. It reports resources/s, API
// calls per resource, the scan's CPU time as a share of its wall time, and
// the process's peak RSS.
// Run it alone: go test ./bench -run '^$' -bench ScanFiftyThousand -benchtime 1x
func BenchmarkScanFiftyThousand(b *testing.B) {
	url := startFake(b)
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEBENCH0000000")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	b.Setenv("AWS_REGION", "us-east-1")
	var yaml strings.Builder
	yaml.WriteString("init_config:\n  external_id: skymap-bench\ninstances:\n")
	for a := range 5 {
		fmt.Fprintf(&yaml, "  - role_arn: arn:aws:iam::%012d:role/skymap\n    regions: [eu-west-1, us-east-1]\n"+
			"    apis_to_run: ['ec2|instances vpcs subnets security_groups internet_gateways vpn_gateways']\n", 100000000000+a)
	}
	fmt.Fprintf(&yaml, "aws:\n  endpoint_url: %s\n", url)
	cfg, err := config.Parse([]byte(yaml.String()))
	if err != nil {
		b.Fatal(err)
	}
	want := 10 * (estate.vpcs + estate.subnets + estate.groups + estate.instances)
	for range b.N {
		cpu0, t0 := cpuTime(), time.Now()
		doc, err := app.Scan(context.Background(), cfg, app.Options{})
		wall, cpu := time.Since(t0), cpuTime()-cpu0
		if err != nil {
			b.Fatal(err)
		}
		if doc.Problems() != 0 || len(doc.Components) != want {
			b.Fatalf("%d components (want %d), %d problems: %+v", len(doc.Components), want, doc.Problems(), doc.Status)
		}
		calls := 0
		for _, s := range doc.Status {
			calls += s.Calls
		}
		b.ReportMetric(wall.Seconds(), "scan-s")
		b.ReportMetric(float64(want)/wall.Seconds(), "resources/s")
		b.ReportMetric(float64(calls)/float64(want), "calls/resource")
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%-of-wall")
		b.ReportMetric(rssKiB("VmHWM")/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(len(doc.Relations)), "relations")
	}
}

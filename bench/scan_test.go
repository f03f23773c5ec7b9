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

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/app"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
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
		baseCPU, baseWall := sdkBaseline(b, url)
		cpu0, t0 := cpuTime(), time.Now()
		g := topology.New(nil)
		status, err := app.ScanInto(context.Background(), cfg, app.Options{}, g)
		wall, cpu := time.Since(t0), cpuTime()-cpu0
		if err != nil {
			b.Fatal(err)
		}
		calls := 0
		for _, s := range status {
			calls += s.Calls
			if s.Outcome != model.OutcomeOK {
				b.Fatalf("call status %+v", s)
			}
		}
		if g.Len() != want {
			b.Fatalf("%d components, want %d", g.Len(), want)
		}
		b.ReportMetric(wall.Seconds(), "scan-s")
		b.ReportMetric(float64(want)/wall.Seconds(), "resources/s")
		b.ReportMetric(float64(calls)/float64(want), "calls/resource")
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%-of-wall")
		b.ReportMetric(baseWall.Seconds(), "sdk-only-s")
		b.ReportMetric(100*baseCPU.Seconds()/baseWall.Seconds(), "sdk-only-cpu-%-of-wall")
		b.ReportMetric(100*(cpu-baseCPU).Seconds()/wall.Seconds(), "own-cpu-%-of-wall")
		b.ReportMetric(rssKiB("VmHWM")/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(g.RelationCount()), "relations")

		// The hourly steady state: the same estate scanned again into the
		// graph that holds it, nothing changed.
		cpu0, t0 = cpuTime(), time.Now()
		if _, err := app.ScanInto(context.Background(), cfg, app.Options{}, g); err != nil {
			b.Fatal(err)
		}
		wall, cpu = time.Since(t0), cpuTime()-cpu0
		b.ReportMetric(wall.Seconds(), "rescan-s")
		b.ReportMetric(100*(cpu-baseCPU).Seconds()/wall.Seconds(), "rescan-own-cpu-%-of-wall")
	}
}

// sdkBaseline makes the same calls as the scan with the bare SDK, at the
// same concurrency, and returns their CPU and wall time: what calling the
// APIs costs before skymap does anything with the answers.
func sdkBaseline(b *testing.B, url string) (cpu, wall time.Duration) {
	ctx := context.Background()
	base, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithBaseEndpoint(url), awsconfig.WithRegion("us-east-1"))
	if err != nil {
		b.Fatal(err)
	}
	cpu0, t0 := cpuTime(), time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for a := range 5 {
		role := fmt.Sprintf("arn:aws:iam::%012d:role/skymap", 100000000000+a)
		creds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), role,
			func(o *stscreds.AssumeRoleOptions) { o.ExternalID = aws.String("skymap-bench") }))
		for _, region := range []string{"eu-west-1", "us-east-1"} {
			cfg := base.Copy()
			cfg.Region, cfg.Credentials = region, creds
			c := ec2.NewFromConfig(cfg)
			page := aws.Int32(1000)
			for _, list := range []func() error{
				func() error {
					return drain(ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: page}), gctx)
				},
				func() error {
					return drain(ec2.NewDescribeVpcsPaginator(c, &ec2.DescribeVpcsInput{MaxResults: page}), gctx)
				},
				func() error {
					return drain(ec2.NewDescribeSubnetsPaginator(c, &ec2.DescribeSubnetsInput{MaxResults: page}), gctx)
				},
				func() error {
					return drain(ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{MaxResults: page}), gctx)
				},
				func() error {
					return drain(ec2.NewDescribeInternetGatewaysPaginator(c, &ec2.DescribeInternetGatewaysInput{MaxResults: page}), gctx)
				},
				func() error { _, err := c.DescribeVpnGateways(gctx, &ec2.DescribeVpnGatewaysInput{}); return err },
			} {
				g.Go(list)
			}
		}
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return cpuTime() - cpu0, time.Since(t0)
}

// drain reads every page of a paginator.
func drain[O any, P interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*ec2.Options)) (O, error)
}](p P, ctx context.Context) error {
	for p.HasMorePages() {
		if _, err := p.NextPage(ctx); err != nil {
			return err
		}
	}
	return nil
}

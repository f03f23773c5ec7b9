// Command seed builds awstest.SampleEstate in a moto server that is already
// running, for the demo and for poking at skymap by hand:
//
//	python3 -m moto.server -H 127.0.0.1 -p 5000 &
//	go run ./internal/awstest/seed --endpoint http://127.0.0.1:5000
//
// Build it into a fresh moto, or pass --reset to empty moto first. It also
// puts the estate's telemetry (an hour of metrics, alarms, log events:
// awstest.SeedTelemetry) unless --telemetry=false.
//
// With --traces URL it seeds nothing: it sends the estate's application
// spans to skymap's OTLP/HTTP receiver at URL once it answers (and again
// every --every, until stopped), as an instrumented application would:
//
//	go run ./internal/awstest/seed --endpoint http://127.0.0.1:5000 --traces http://127.0.0.1:8080/v1/traces --every 5m
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/skymap/skymap/internal/awstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

// run parses args, seeds moto and prints a one-line summary to out.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "http://127.0.0.1:5000", "URL of the running moto server")
	reset := fs.Bool("reset", false, "discard everything in moto before seeding")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long (with --traces: waiting for skymap, each time)")
	telemetry := fs.Bool("telemetry", true, "also put the estate's metrics, alarms and log events")
	tracesURL := fs.String("traces", "", "send the estate's spans to this OTLP/HTTP traces URL instead of seeding")
	every := fs.Duration("every", 0, "with --traces: send again at this interval until stopped (0: once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *tracesURL != "" {
		return sendTraces(ctx, *endpoint, *tracesURL, *timeout, *every, out)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	m, err := awstest.Connect(ctx, *endpoint)
	if err != nil {
		return fmt.Errorf("%w (start it with: python3 -m moto.server -H 127.0.0.1 -p PORT)", err)
	}
	defer m.Stop()
	if *reset {
		if err := m.Reset(ctx); err != nil {
			return err
		}
	}
	estate := awstest.SampleEstate()
	built, err := estate.Build(ctx, m)
	if errors.Is(err, awstest.ErrNotFresh) {
		return fmt.Errorf("%w (or pass --reset)", err)
	}
	if err != nil {
		return err
	}
	with := ""
	if *telemetry {
		if err := awstest.SeedTelemetry(ctx, m, built); err != nil {
			return err
		}
		with = ", with telemetry (metrics, alarms, log events of web-1 and skymap-demo-api)"
	}
	fmt.Fprintf(out, "seeded %s into %s (%d generated ids)%s\n", summary(estate), m.URL, built.Len(), with)
	return nil
}

// sendTraces sends the estate's spans to url once skymap answers there,
// and again every interval (when not 0) until ctx ends.
func sendTraces(ctx context.Context, endpoint, url string, timeout, every time.Duration, out io.Writer) error {
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := awstest.Connect(wait, endpoint)
	if err != nil {
		return err
	}
	defer m.Stop()
	instance, err := webInstance(wait, m)
	if err != nil {
		return err
	}
	for {
		send, cancel := context.WithTimeout(ctx, timeout)
		err := waitAndSend(send, url, instance)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		}
		fmt.Fprintf(out, "sent the sample estate's spans to %s\n", url)
		if every <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// waitAndSend sends the spans once skymap answers at url, trying every
// second until ctx ends.
func waitAndSend(ctx context.Context, url, instance string) error {
	for {
		err := answers(ctx, url)
		if err == nil {
			err = awstest.SendDemoTraces(ctx, url, instance)
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

// answers tells whether an HTTP server answers at url (any status).
func answers(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// webInstance is web-1's instance id in 123456789012/eu-west-1.
func webInstance(ctx context.Context, m *awstest.Moto) (string, error) {
	cfg, err := m.Config(ctx, "eu-west-1", "123456789012")
	if err != nil {
		return "", err
	}
	out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"web-1"}}}})
	if err != nil {
		return "", fmt.Errorf("find web-1: %w", err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			return aws.ToString(i.InstanceId), nil
		}
	}
	return "", errors.New("no instance web-1 in moto's 123456789012/eu-west-1: seed the estate first")
}

// summary counts what e declares, e.g. "2 accounts, 3 regions, 4 vpcs, ...".
func summary(e awstest.Estate) string {
	var regions, vpcs, subnets, groups, instances, buckets, seeders int
	for _, a := range e.Accounts {
		regions += len(a.Regions)
		buckets += len(a.Buckets)
		seeders += len(a.Global)
		for _, r := range a.Regions {
			seeders += len(r.Services)
			vpcs += len(r.VPCs)
			for _, v := range r.VPCs {
				groups += len(v.SecurityGroups)
				subnets += len(v.Subnets)
				for _, s := range v.Subnets {
					instances += len(s.Instances)
				}
			}
		}
	}
	return fmt.Sprintf("%d accounts, %d account-regions, %d vpcs, %d subnets, %d security groups, %d instances, %d buckets"+
		" and %d service seeders (load balancers, databases, queues, functions, APIs, stacks, DNS, flow logs...)",
		len(e.Accounts), regions, vpcs, subnets, groups, instances, buckets, seeders)
}

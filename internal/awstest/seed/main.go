// Command seed builds awstest.SampleEstate in a moto server that is already
// running, for the demo and for poking at skymap by hand:
//
//	python3 -m moto.server -H 127.0.0.1 -p 5000 &
//	go run ./internal/awstest/seed --endpoint http://127.0.0.1:5000
//
// Build it into a fresh moto, or pass --reset to empty moto first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

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
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
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
	fmt.Fprintf(out, "seeded %s into %s (%d generated ids)\n", summary(estate), m.URL, built.Len())
	return nil
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

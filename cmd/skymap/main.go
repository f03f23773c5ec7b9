// Command skymap keeps a live map of AWS estates. Run `skymap help` for its
// commands. Exit codes: 0 success; 1 runtime failure; 2 bad usage or invalid
// config; 3 finished with problems: some API calls of a scan failed or were
// denied, or some flow-log files could not be read whole.
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
)

// Exit codes of skymap.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitPartial = 3
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain(os.Stdin, os.Stdout, os.Stderr)
	m.Token = os.Getenv("SKYMAP_TOKEN")
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main is the skymap program with its standard streams.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Token, when set, is sent as a bearer token to a running server
	// (server.auth.token); main reads it from SKYMAP_TOKEN.
	Token string
}

// NewMain returns a Main writing to the given streams.
func NewMain(stdin io.Reader, stdout, stderr io.Writer) *Main {
	return &Main{Stdin: stdin, Stdout: stdout, Stderr: stderr}
}

// command is one subcommand: it parses its own flags and returns an exit code.
type command struct {
	name, summary string
	run           func(ctx context.Context, m *Main, args []string) int
}

func commands() []command {
	return []command{
		{"version", "print skymap's version", runVersion},
		{"config", "check a config file: skymap config check --config FILE", runConfig},
		{"scan", "run one full scan and print the topology", runScan},
		{"serve", "scan on schedule and serve the API", runServe},
		{"history", "print a component's history, from a running serve", runHistory},
		{"status", "print the integration status of a running serve: accounts, events, flow logs", runStatus},
		{"export", "print the map of a running serve as NDJSON, a component or relation a line, or as StackState intake bodies", runExport},
		{"sql", "run a read-only SELECT over flow logs (vpc_flow_logs, flow_rollups, components)", runSQL},
		{"flowlogs", "summarize local flow-log files: skymap flowlogs summarize FILE...", runFlowlogs},
		{"iam-policy", "print the IAM policy skymap needs in monitored accounts", runIAMPolicy},
	}
}

// Run runs the command named by args[0] and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, m, args[1:])
		}
	}
	fmt.Fprintf(m.Stderr, "skymap: unknown command %q\n\n", args[0])
	m.usage(m.Stderr)
	return exitUsage
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "skymap keeps a live map of AWS estates.\n\nUsage: skymap <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `skymap <command> --help` for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 failure, 2 bad usage or invalid config, 3 finished with problems (a scan's API calls, a flow-log file).")
}

// flags returns a flag set for a command whose usage goes to stderr.
func (m *Main) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: skymap %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; it returns an exit code and false when the command
// should stop (help asked, or bad flags).
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, false
	case err != nil:
		return exitUsage, false
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage, false
	}
	return exitOK, true
}

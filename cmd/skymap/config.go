package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/config"
)

func runConfig(ctx context.Context, m *Main, args []string) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(m.Stdout, "Usage: skymap config check --config FILE\n\nValidates FILE and lists every problem with its YAML path.\nExit codes: 0 valid, 2 invalid or unreadable.")
			return exitOK
		}
		fmt.Fprintln(m.Stderr, "Usage: skymap config check --config FILE")
		return exitUsage
	}
	fs := m.flags("config check", "config check --config FILE")
	path := fs.String("config", "", "config file (StackState aws_topology conf.yaml or skymap YAML)")
	if code, ok := parse(fs, args[1:]); !ok {
		return code
	}
	cfg, code := m.loadConfig(*path)
	if cfg == nil {
		return code
	}
	fmt.Fprintf(m.Stdout, "%s: ok (%d instance(s))\n", *path, len(cfg.Instances))
	for _, in := range cfg.Instances {
		role := in.RoleARN
		if role == "" {
			role = "(base credentials)"
		}
		fmt.Fprintf(m.Stdout, "  %s: %s, regions %s\n", in.Name, role, strings.Join(in.Regions, ", "))
	}
	return exitOK
}

// loadConfig loads and validates path, printing every problem. It returns
// nil and the exit code when the config cannot be used.
func (m *Main) loadConfig(path string) (*config.Config, int) {
	if path == "" {
		fmt.Fprintln(m.Stderr, "skymap: --config FILE is required")
		return nil, exitUsage
	}
	cfg, err := config.Load(path)
	if err == nil {
		// Filters of apis_to_run are checked against the collectors, which
		// the config package does not know.
		var errs []error
		for i, in := range cfg.Instances {
			for _, e := range inventory.CheckAPIs(in.APIs) {
				errs = append(errs, fmt.Errorf("instances[%d].%w", i, e))
			}
		}
		err = errors.Join(errs...)
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "%s: invalid config:\n", path)
		for _, line := range flatten(err) {
			fmt.Fprintf(m.Stderr, "  %s\n", line)
		}
		return nil, exitUsage
	}
	return cfg, exitOK
}

// flatten lists the messages of a joined error, one per line.
func flatten(err error) []string {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return strings.Split(err.Error(), "\n")
}

// logger returns the logger the config asks for, writing to stderr.
func (m *Main) logger(cfg *config.Config, minLevel slog.Level) *slog.Logger {
	level := cfg.Log.Level
	if level < minLevel {
		level = minLevel
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

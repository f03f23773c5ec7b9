package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"time"
)

// runExport writes the map of a running `skymap serve` as NDJSON: one
// component or relation a line (GET /api/export), now or at a past time;
// with --format stackstate, the bodies a push to StackState would post.
func runExport(ctx context.Context, m *Main, args []string) int {
	fs := m.flags("export", "export [--server URL] [--at TIME] [--format ndjson|stackstate] [--hostname NAME]")
	server := fs.String("server", "http://127.0.0.1:8080", "`URL` of a running skymap serve")
	at := fs.String("at", "", "the map as it was at this RFC 3339 `TIME` (default now)")
	format := fs.String("format", "ndjson", "ndjson: a component or relation a line; stackstate: the StackState receiver intake bodies "+
		"a push would POST, a line each (a dry run of the push)")
	hostname := fs.String("hostname", "", "internalHostname of the stackstate bodies (default this host's name)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	if *format != "ndjson" && *format != "stackstate" {
		fmt.Fprintf(m.Stderr, "skymap export: --format: want ndjson or stackstate, got %q\n", *format)
		return exitUsage
	}
	path := "/api/export"
	if *at != "" {
		if _, err := time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintf(m.Stderr, "skymap export: --at: want an RFC 3339 time such as 2026-11-22T10:00:00Z, got %q\n", *at)
			return exitUsage
		}
		path += "?at=" + url.QueryEscape(*at)
	}
	if *format == "stackstate" {
		return exportStackState(ctx, m, *server, path, *hostname)
	}
	return streamAPI(ctx, m, "export", *server, path, m.Stdout, -1)
}

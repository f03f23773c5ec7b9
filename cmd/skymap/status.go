package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/skymap/skymap/internal/app"
)

// runStatus prints the integration status of a running `skymap serve`:
// each account's state and denied actions, the event feeds, and the
// flow-log sources with their problems.
func runStatus(ctx context.Context, m *Main, args []string) int {
	fs := m.flags("status", "status [--server URL] [--output table|json]")
	server := fs.String("server", "http://127.0.0.1:8080", "`URL` of a running skymap serve")
	output := fs.String("output", "table", "table or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 0 || (*output != "table" && *output != "json") {
		fs.Usage()
		return exitUsage
	}
	body, code := getAPI(ctx, m, "status", *server, "/api/status")
	if code != exitOK {
		return code
	}
	if *output == "json" {
		m.Stdout.Write(body)
		return exitOK
	}
	var doc app.StatusDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		fmt.Fprintf(m.Stderr, "skymap status: answer is not a status: %v\n", err)
		return exitFailure
	}
	writeStatus(m.Stdout, doc)
	return exitOK
}

// writeStatus prints doc as tables. Every text from AWS or from files
// (details, keys) goes through safe.
func writeStatus(w io.Writer, doc app.StatusDoc) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if s := doc.LastScan; s != nil {
		fmt.Fprintf(tw, "last scan\t%s\t%d components, %d relations, %d pending, %.1f s\n",
			s.Finished.Format(time.RFC3339), s.Components, s.Relations, s.Pending, s.Seconds)
	} else {
		fmt.Fprintln(tw, "last scan\tnone yet")
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "ACCOUNT\tSTATE\tDENIED")
	for _, a := range doc.Accounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Account, a.State, safe(strings.Join(a.Denied, " ")))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "EVENTS\tREGION\tPATH\tEVENTS\tERROR")
	for _, e := range doc.Events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", e.Account, e.Region, e.Path, e.Events, safe(e.Error))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "FLOW LOGS\tOBJECTS\tRECORDS\tLAST SUCCESS\tPROBLEMS")
	for _, f := range doc.FlowLogs {
		last := "never"
		if !f.LastSuccess.IsZero() {
			last = f.LastSuccess.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\n", safe(f.Source), f.Objects, f.Records, last, len(f.Problems))
	}
	tw.Flush()
	problems := false
	for _, f := range doc.FlowLogs {
		for _, p := range f.Problems {
			if !problems {
				fmt.Fprintln(w)
				fmt.Fprintln(w, "flow-log problems:")
				problems = true
			}
			where := safe(f.Source)
			if p.Key != "" {
				where = safe("s3://" + p.Bucket + "/" + p.Key)
			}
			fmt.Fprintf(w, "  %s %s %s (x%d): %s\n", p.Severity, p.Category, where, p.Count, safe(p.Detail))
		}
	}
}

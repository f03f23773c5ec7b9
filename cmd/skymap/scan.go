package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/skymap/skymap/internal/app"
)

func runScan(ctx context.Context, m *Main, args []string) int {
	fs := m.flags("scan", "scan --config FILE [--output json|table] [--out FILE]")
	path := fs.String("config", "", "config file")
	output := fs.String("output", "json", "output format: json or table")
	out := fs.String("out", "", "write the output to FILE instead of stdout")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *output != "json" && *output != "table" {
		fmt.Fprintf(m.Stderr, "skymap scan: --output: want json or table, got %q\n", *output)
		return exitUsage
	}
	cfg, code := m.loadConfig(*path)
	if cfg == nil {
		return code
	}
	opts := app.Options{Logger: m.logger(cfg, slog.LevelWarn)}
	var bar *progressBar
	if isTerminal(m.Stderr) {
		bar = &progressBar{w: m.Stderr}
		opts.Progress = bar.update
	}
	doc, err := app.Scan(ctx, cfg, opts)
	bar.finish()
	if err != nil {
		fmt.Fprintf(m.Stderr, "skymap scan: %v\n", err)
		return exitFailure
	}
	var buf bytes.Buffer
	if *output == "json" {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			fmt.Fprintf(m.Stderr, "skymap scan: encode: %v\n", err)
			return exitFailure
		}
	} else {
		writeTable(&buf, doc)
	}
	if *out != "" {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintf(m.Stderr, "skymap scan: %v\n", err)
			return exitFailure
		}
	} else if _, err := m.Stdout.Write(buf.Bytes()); err != nil {
		return exitFailure
	}
	if n := doc.Problems(); n > 0 {
		fmt.Fprintf(m.Stderr, "skymap scan: %d API(s) not ok:\n", n)
		for _, s := range doc.Status {
			if s.Outcome != "ok" {
				fmt.Fprintf(m.Stderr, "  account %s region %s %s: %s: %s\n", s.Account, s.Region, s.API, s.Outcome, oneLine(s.Detail))
			}
		}
		return exitPartial
	}
	return exitOK
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeTable prints the document as three aligned tables. Untrusted text
// (names from tags) is printed with control characters escaped.
func writeTable(w io.Writer, doc app.Document) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tID\tNAME\tACCOUNT\tREGION\tLAYER")
	for _, c := range doc.Components {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Type, safe(c.ID), safe(c.Name), c.Account, c.Region, c.Layer)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d components, %d relations, %d pending relations\n\n", len(doc.Components), len(doc.Relations), len(doc.PendingRelations))
	fmt.Fprintln(tw, "SOURCE\tRELATION\tTARGET")
	for _, r := range doc.Relations {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", safe(r.Source), r.Type, safe(r.Target))
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "ACCOUNT\tREGION\tAPI\tOUTCOME\tCALLS\tDETAIL")
	for _, s := range doc.Status {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.Account, s.Region, s.API, s.Outcome, s.Calls, safe(oneLine(s.Detail)))
	}
	tw.Flush()
}

// safe escapes control characters and invalid UTF-8 so untrusted text
// cannot move the cursor or break the table.
func safe(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || (r >= 0x80 && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

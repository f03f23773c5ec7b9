package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/skymap/skymap/internal/collect/flowlogs"
)

const flowlogsSynopsis = "flowlogs summarize [--output table|json] [--top N] [--log-format FORMAT] FILE..."

// runFlowlogs runs `skymap flowlogs summarize`: the records of local
// flow-log files (gzip or plain text, or Parquet, as S3 holds them),
// totalled and grouped by interface, addresses, destination port, protocol
// and action.
func runFlowlogs(ctx context.Context, m *Main, args []string) int {
	if len(args) == 0 || args[0] != "summarize" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(m.Stdout, "Usage: skymap "+flowlogsSynopsis)
			return exitOK
		}
		fmt.Fprintln(m.Stderr, "Usage: skymap "+flowlogsSynopsis)
		return exitUsage
	}
	fs := m.flags("flowlogs summarize", flowlogsSynopsis+"\n\n"+
		"Reads VPC or Transit Gateway flow-log files (gzip or plain text, or Parquet),\n"+
		"several at a time, and prints the record counts and the traffic grouped by\n"+
		"interface-id, srcaddr, dstaddr, dstport, protocol and action, largest first.\n"+
		"Problems with a file (malformed lines, a truncated gzip object, fields missing\n"+
		"for attribution) go to stderr and make the exit code 3; the good records still\n"+
		"count.")
	output := fs.String("output", "table", "table or json")
	top := fs.Int("top", 20, "groups shown by the table")
	logFormat := fs.String("log-format", "", "format of files without a header line, as DescribeFlowLogs gives it: '${version} ${account-id} ...' (default: the version 2 format)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *output != "table" && *output != "json" {
		fmt.Fprintf(m.Stderr, "skymap flowlogs: --output: want table or json, got %q\n", *output)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(m.Stderr, "skymap flowlogs: no FILE given")
		fs.Usage()
		return exitUsage
	}
	var opts flowlogs.SummarizeOptions
	if *logFormat != "" {
		f, err := flowlogs.ParseLogFormat(*logFormat)
		if err != nil {
			fmt.Fprintf(m.Stderr, "skymap flowlogs: --log-format: %v\n", err)
			return exitUsage
		}
		opts.Format = f
	}
	sum, results := flowlogs.Summarize(ctx, fs.Args(), opts)
	w := bufio.NewWriterSize(m.Stdout, 256<<10)
	if *output == "json" {
		writeSummaryJSON(w, sum)
	} else {
		writeSummaryTable(w, sum, *top)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(m.Stderr, "skymap flowlogs: write: %v\n", err)
		return exitFailure
	}
	code := exitOK
	for _, r := range results {
		if !r.Failed() {
			continue
		}
		code = exitPartial
		if r.Err != nil {
			fmt.Fprintf(m.Stderr, "skymap flowlogs: %s\n", safe(r.Err.Error()))
		}
		if r.Malformed > 0 {
			fmt.Fprintf(m.Stderr, "skymap flowlogs: %s: %d malformed line(s) skipped\n", safe(r.Path), r.Malformed)
			const show = 10
			for i, e := range r.LineErrors {
				if i == show {
					fmt.Fprintf(m.Stderr, "  ... and %d more\n", r.Malformed-show)
					break
				}
				fmt.Fprintf(m.Stderr, "  line %d: %s\n", e.Line, safe(e.Reason))
			}
		}
	}
	return code
}

// writeSummaryJSON writes the summary as one JSON object (a public
// contract, see README.md). It is written by hand: a summary may have
// millions of groups.
func writeSummaryJSON(w *bufio.Writer, s flowlogs.Summary) {
	b := make([]byte, 0, 512)
	b = append(b, `{"records":`...)
	b = strconv.AppendInt(b, s.Records, 10)
	b = append(b, `,"ok":`...)
	b = strconv.AppendInt(b, s.OK, 10)
	b = append(b, `,"nodata":`...)
	b = strconv.AppendInt(b, s.NoData, 10)
	b = append(b, `,"skipdata":`...)
	b = strconv.AppendInt(b, s.SkipData, 10)
	b = append(b, `,"malformed":`...)
	b = strconv.AppendInt(b, s.Malformed, 10)
	b = append(b, `,"groups":[`...)
	w.Write(b)
	for i, g := range s.Groups {
		b = b[:0]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n"+`{"interface_id":`...)
		if g.InterfaceID == "" {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, g.InterfaceID)
		}
		b = append(b, `,"srcaddr":`...)
		b = appendAddr(b, g.SrcAddr)
		b = append(b, `,"dstaddr":`...)
		b = appendAddr(b, g.DstAddr)
		b = append(b, `,"dstport":`...)
		b = appendOptional(b, int64(g.DstPort))
		b = append(b, `,"protocol":`...)
		b = appendOptional(b, int64(g.Protocol))
		b = append(b, `,"action":`...)
		if g.Action == flowlogs.ActionNone {
			b = append(b, "null"...)
		} else {
			b = append(b, '"')
			b = append(b, g.Action.String()...)
			b = append(b, '"')
		}
		b = append(b, `,"packets":`...)
		b = strconv.AppendUint(b, g.Packets, 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendUint(b, g.Bytes, 10)
		b = append(b, `,"records":`...)
		b = strconv.AppendUint(b, g.Records, 10)
		b = append(b, '}')
		w.Write(b)
	}
	w.WriteString("]}\n")
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = a.AppendTo(b)
	return append(b, '"')
}

func appendOptional(b []byte, v int64) []byte {
	if v < 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, v, 10)
}

// appendJSONString appends s as a JSON string; s is text from a file.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

var protocolNames = map[int16]string{1: "ICMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP", 58: "ICMPv6", 132: "SCTP"}

// writeSummaryTable writes the largest groups as a table, then the totals.
func writeSummaryTable(w io.Writer, s flowlogs.Summary, top int) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INTERFACE\tSRCADDR\tDSTADDR\tDSTPORT\tPROTOCOL\tACTION\tPACKETS\tBYTES\tRECORDS")
	missing := func(ok bool, s string) string {
		if !ok {
			return "-"
		}
		return s
	}
	for i, g := range s.Groups {
		if i == top {
			break
		}
		proto := missing(g.Protocol >= 0, strconv.Itoa(int(g.Protocol)))
		if name, ok := protocolNames[g.Protocol]; ok {
			proto = name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n",
			missing(g.InterfaceID != "", safe(g.InterfaceID)),
			missing(g.SrcAddr.IsValid(), g.SrcAddr.String()), missing(g.DstAddr.IsValid(), g.DstAddr.String()),
			missing(g.DstPort >= 0, strconv.Itoa(int(g.DstPort))), proto, g.Action, g.Packets, g.Bytes, g.Records)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d of %d groups, largest first\n", min(top, len(s.Groups)), len(s.Groups))
	fmt.Fprintf(w, "%d records: %d ok, %d nodata, %d skipdata; %d malformed lines skipped\n",
		s.Records, s.OK, s.NoData, s.SkipData, s.Malformed)
}

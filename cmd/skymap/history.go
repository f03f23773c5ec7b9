package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// runHistory prints the history of one component, asked of a running
// `skymap serve` (which holds the data directory).
func runHistory(ctx context.Context, m *Main, args []string) int {
	fs := m.flags("history", "history [--server URL] [--limit N] [--output table|json] COMPONENT-ID")
	server := fs.String("server", "http://127.0.0.1:8080", "`URL` of a running skymap serve")
	limit := fs.Int("limit", 100, "how many of the newest versions")
	output := fs.String("output", "table", "table or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 || (*output != "table" && *output != "json") {
		fs.Usage()
		return exitUsage
	}
	path := "/api/components/" + url.PathEscape(fs.Arg(0)) + "/history?limit=" + fmt.Sprint(*limit)
	body, code := getAPI(ctx, m, "history", *server, path)
	if code != exitOK {
		return code
	}
	if *output == "json" {
		m.Stdout.Write(body)
		return exitOK
	}
	var list struct{ Versions []model.Version }
	if err := json.Unmarshal(body, &list); err != nil {
		fmt.Fprintf(m.Stderr, "skymap history: answer is not a history: %v\n", err)
		return exitFailure
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCHANGE\tCAUSE\tACTOR\tFROM\tFIELDS")
	for _, v := range list.Versions {
		var diff map[string]json.RawMessage
		json.Unmarshal(v.Diff, &diff)
		fields := make([]string, 0, len(diff))
		for k := range diff {
			fields = append(fields, safe(k))
		}
		slices.Sort(fields)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Time.Format(time.RFC3339), v.Change, safe(v.Cause), safe(v.Actor),
			safe(v.SourceIP), strings.Join(fields, " "))
	}
	tw.Flush()
	return exitOK
}

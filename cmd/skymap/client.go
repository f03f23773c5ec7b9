package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxAnswer bounds what a command reads of a server's answer.
const maxAnswer = 64 << 20

// getAPI asks a running `skymap serve` at server for path and returns the
// body of a 200 answer. Otherwise it writes what went wrong to stderr,
// prefixed with "skymap <cmd>: ", and returns the exit code to use.
func getAPI(ctx context.Context, m *Main, cmd, server, path string) ([]byte, int) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+path, nil)
	if err != nil {
		fmt.Fprintf(m.Stderr, "skymap %s: %v\n", cmd, err)
		return nil, exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(m.Stderr, "skymap %s: ask %s: %v (is `skymap serve` running?)\n", cmd, server, err)
		return nil, exitFailure
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		fmt.Fprintf(m.Stderr, "skymap %s: read answer: %v\n", cmd, err)
		return nil, exitFailure
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error struct{ Message string } }
		json.Unmarshal(body, &e)
		fmt.Fprintf(m.Stderr, "skymap %s: %s: %s\n", cmd, resp.Status, safe(e.Error.Message))
		return nil, exitFailure
	}
	return body, exitOK
}

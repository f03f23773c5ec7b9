package main

import (
	"bytes"
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
	var body bytes.Buffer
	if code := streamAPI(ctx, m, cmd, server, path, &body, maxAnswer); code != exitOK {
		return nil, code
	}
	return body.Bytes(), exitOK
}

// streamAPI is getAPI writing the body of a 200 answer to w as it comes,
// at most limit bytes of it (no limit when negative).
func streamAPI(ctx context.Context, m *Main, cmd, server, path string, w io.Writer, limit int64) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+path, nil)
	if err != nil {
		fmt.Fprintf(m.Stderr, "skymap %s: %v\n", cmd, err)
		return exitUsage
	}
	m.authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(m.Stderr, "skymap %s: ask %s: %v (is `skymap serve` running?)\n", cmd, server, err)
		return exitFailure
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		var e struct{ Error struct{ Message string } }
		json.Unmarshal(body, &e)
		fmt.Fprintf(m.Stderr, "skymap %s: %s: %s\n", cmd, resp.Status, safe(e.Error.Message))
		return exitFailure
	}
	var src io.Reader = resp.Body
	if limit >= 0 {
		src = io.LimitReader(resp.Body, limit)
	}
	if _, err := io.Copy(w, src); err != nil {
		fmt.Fprintf(m.Stderr, "skymap %s: read answer: %v\n", cmd, err)
		return exitFailure
	}
	return exitOK
}

// authorize adds m's token to a request to a server; a server without
// server.auth ignores it.
func (m *Main) authorize(req *http.Request) {
	if m.Token != "" {
		req.Header.Set("Authorization", "Bearer "+m.Token)
	}
}

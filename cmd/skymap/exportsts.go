package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/skymap/skymap/internal/export/stackstate"
	"github.com/skymap/skymap/internal/model"
)

// exportStackState writes the bodies a push of the served map (GET path
// of server) to a StackState receiver would POST, uncompressed, one JSON
// document a line: a snapshot per account, with a health stream when a
// component has health. Nothing is sent.
func exportStackState(ctx context.Context, m *Main, server, path, hostname string) int {
	pr, pw := io.Pipe()
	streamed := make(chan int, 1)
	go func() {
		code := streamAPI(ctx, m, "export", server, path, pw, -1)
		pw.Close()
		streamed <- code
	}()
	comps, rels, err := readExport(pr)
	io.Copy(io.Discard, pr) // lets streamAPI end when reading stopped early
	if code := <-streamed; code != exitOK {
		return code
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "skymap export: read the map: %v\n", err)
		return exitFailure
	}
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	enc := stackstate.Encoder{Hostname: hostname, Time: time.Now(), RepeatInterval: stackstate.DefaultInterval,
		Health: slices.ContainsFunc(comps, func(c model.Component) bool { return c.Health != "" })}
	w := bufio.NewWriter(m.Stdout)
	for _, s := range stackstate.Snapshots(comps, rels, nil) {
		if _, err := enc.Encode(s, func(body []byte) error {
			w.Write(body)
			return w.WriteByte('\n')
		}); err != nil {
			fmt.Fprintf(m.Stderr, "skymap export: account %s: %v\n", s.Instance.URL, err)
			return exitFailure
		}
	}
	if err := w.Flush(); err != nil {
		return exitFailure
	}
	return exitOK
}

// readExport reads the NDJSON of GET /api/export: components and
// relations, a line each, told apart by "kind".
func readExport(r io.Reader) ([]model.Component, []model.Relation, error) {
	var comps []model.Component
	var rels []model.Relation
	dec := json.NewDecoder(r)
	for n := 1; ; n++ {
		var line json.RawMessage
		if err := dec.Decode(&line); err == io.EOF {
			return comps, rels, nil
		} else if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", n, err)
		}
		var kind struct{ Kind string }
		if err := json.Unmarshal(line, &kind); err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", n, err)
		}
		var err error
		switch kind.Kind {
		case "component":
			var c model.Component
			err = json.Unmarshal(line, &c)
			comps = append(comps, c)
		case "relation":
			var r model.Relation
			err = json.Unmarshal(line, &r)
			rels = append(rels, r)
		default:
			err = fmt.Errorf("kind %q: want component or relation", kind.Kind)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
}

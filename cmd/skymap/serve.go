package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/skymap/skymap/internal/app"
)

func runServe(ctx context.Context, m *Main, args []string) int {
	fs := m.flags("serve", "serve --config FILE [--data DIR] [--listen ADDR]")
	path := fs.String("config", "", "config file")
	data := fs.String("data", "", "data directory (default: storage.data_dir of the config)")
	listen := fs.String("listen", "", "address of the HTTP API (default: server.listen of the config)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, code := m.loadConfig(*path)
	if cfg == nil {
		return code
	}
	log := m.logger(cfg, slog.LevelDebug)
	err := app.Serve(ctx, cfg, app.ServeOptions{
		Options: app.Options{Logger: log},
		DataDir: *data, Listen: *listen, Version: version,
	})
	if err != nil {
		fmt.Fprintf(m.Stderr, "skymap serve: %v\n", err)
		return exitFailure
	}
	return exitOK
}

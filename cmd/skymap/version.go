package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

func runVersion(ctx context.Context, m *Main, args []string) int {
	fs := m.flags("version", "version")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	fmt.Fprintf(m.Stdout, "skymap %s (%s, %s/%s)\n", version, revision(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

// revision returns the VCS revision the binary was built from, if known.
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown revision"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown revision"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "revision " + rev
}

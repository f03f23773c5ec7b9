package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/skymap/skymap/internal/collect/inventory"
)

// isTerminal tells whether w is a terminal, where a progress line helps.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar draws scan progress on one terminal line. A nil bar draws nothing.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	drawn bool
}

func (b *progressBar) update(p inventory.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	const width = 30
	filled := 0
	if p.Total > 0 {
		filled = width * p.Done / p.Total
	}
	fmt.Fprintf(b.w, "\r\033[Kscanning [%s%s] %d/%d %s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		p.Done, p.Total, safe(p.Last))
	b.drawn = true
}

func (b *progressBar) finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
}

// Package ui serves skymap's web UI: the bundle that web/ builds (make ui)
// into dist/, embedded in the binary. The bundle is committed, so a fresh
// clone builds with go build alone; TestBundleFresh fails when web/'s
// sources no longer match the bundle.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed dist
var dist embed.FS

// ContentSecurityPolicy is sent with every UI response: scripts, styles
// and data only from skymap itself; no inline script, no eval, no frames.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the UI at / and its assets under /assets/, and passes
// every other request to api unchanged.
func Handler(api http.Handler) http.Handler {
	root, _ := fs.Sub(dist, "dist") // fails only for an invalid name
	assets := http.FileServerFS(root)
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		http.ServeFileFS(w, r, root, "index.html")
	}))
	mux.Handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		assets.ServeHTTP(w, r)
	}))
	return mux
}

func headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	// The bundle changes with the binary; its names do not.
	h.Set("Cache-Control", "no-cache")
}

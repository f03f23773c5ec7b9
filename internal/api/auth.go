package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Auth is what RequireAuth asks of a request: the token, as a bearer token
// or as the password of basic auth (any user name, so that a browser can
// give it), or the basic-auth user and password. The zero value asks for
// nothing.
type Auth struct {
	Token          string
	User, Password string
}

// On tells whether a asks for credentials.
func (a Auth) On() bool { return a.Token != "" || a.User != "" }

// openPaths answer without credentials: a liveness probe has none.
var openPaths = map[string]bool{"/healthz": true}

// RequireAuth returns h behind a: a request without valid credentials
// answers 401 with WWW-Authenticate, except on openPaths. Credentials are
// compared in constant time, through their SHA-256, so that neither their
// content nor their length shows in the timing; they are never logged.
// With a zero a, RequireAuth returns h.
func RequireAuth(a Auth, h http.Handler) http.Handler {
	if !a.On() {
		return h
	}
	token, user, password := digest(a.Token), digest(a.User), digest(a.Password)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPaths[r.URL.Path] {
			h.ServeHTTP(w, r)
			return
		}
		var ok bool
		if scheme, cred, found := strings.Cut(r.Header.Get("Authorization"), " "); found && strings.EqualFold(scheme, "Bearer") {
			ok = equal(digest(strings.TrimSpace(cred)), token) == 1 && a.Token != ""
		} else if u, p, found := r.BasicAuth(); found {
			// Both comparisons run whatever the first gives.
			pd := digest(p)
			byToken := equal(pd, token) == 1 && a.Token != ""
			byUser := equal(digest(u), user)&equal(pd, password) == 1 && a.User != ""
			ok = byToken || byUser
		}
		if ok {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Add("WWW-Authenticate", `Basic realm="skymap", charset="UTF-8"`)
		if a.Token != "" {
			w.Header().Add("WWW-Authenticate", `Bearer realm="skymap"`)
		}
		status, body := (&Server{}).errorBody(r, &apiError{errUnauthorized, "unauthorized",
			"credentials required (server.auth): Authorization: Bearer <token>, or basic auth"})
		writeJSON(w, status, body)
	})
}

func digest(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

func equal(a, b [sha256.Size]byte) int { return subtle.ConstantTimeCompare(a[:], b[:]) }

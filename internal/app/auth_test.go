package app

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/skymap/skymap/internal/ui/browsertest"
)

// authToken is server.auth.token in these tests.
const authToken = "test-token-0123456789abcdef"

// Serve refuses a non-loopback address without credentials, before it
// opens anything, and says how to opt out.
func TestServeRefusesOpenNonLoopback(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", ":0"} {
		cfg := testConfig(t, "server: {listen: '"+listen+"'}\n")
		err := Serve(context.Background(), cfg, ServeOptions{DataDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "server.auth.allow_unauthenticated: true") {
			t.Errorf("listen %s: Serve = %v, want the refusal naming the opt-out", listen, err)
		}
		// The flag's address is checked too.
		cfg = testConfig(t, "")
		err = Serve(context.Background(), cfg, ServeOptions{DataDir: t.TempDir(), Listen: listen})
		if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
			t.Errorf("-listen %s: Serve = %v, want the refusal", listen, err)
		}
	}
}

// With server.auth, serve answers 401 without or with wrong credentials
// and 200 with the token (bearer, or basic password from a browser) or
// the basic user; /healthz stays open; Chromium authenticates with basic
// auth and draws the map.
func TestServeAuth(t *testing.T) {
	estate(t)
	addr, stop := serve(t, optOut+"flowlogs: {enabled: false}\nserver:\n  auth:\n    token: "+authToken+
		"\n    basic: {user: ann, password: ann-password}\n", t.TempDir())
	defer stop()
	base := "http://" + addr
	tests := []struct {
		path   string
		auth   func(*http.Request)
		status int
	}{
		{"/api/components", func(*http.Request) {}, 401},
		{"/api/components", func(r *http.Request) { r.Header.Set("Authorization", "Bearer wrong-token-0123456789") }, 401},
		{"/api/components", func(r *http.Request) { r.SetBasicAuth("ann", "wrong") }, 401},
		{"/api/components", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+authToken) }, 200},
		{"/api/components", func(r *http.Request) { r.SetBasicAuth("ann", "ann-password") }, 200},
		{"/api/components", func(r *http.Request) { r.SetBasicAuth("", authToken) }, 200},
		{"/", func(*http.Request) {}, 401},
		{"/", func(r *http.Request) { r.SetBasicAuth("ann", "ann-password") }, 200},
		{"/metrics", func(*http.Request) {}, 401},
		{"/metrics", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+authToken) }, 200},
		{"/healthz", func(*http.Request) {}, 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", base+tt.path, nil)
		tt.auth(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s (%s) = %d, want %d", tt.path, req.Header.Get("Authorization"), resp.StatusCode, tt.status)
		}
		if resp.StatusCode == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("GET %s: WWW-Authenticate %q, want a Basic challenge", tt.path, resp.Header.Get("WWW-Authenticate"))
		}
	}

	// A browser: its prompt answered with the token as the password (no
	// user name), as a user would; then the page's own requests go
	// through on those credentials.
	b := browsertest.New(t)
	prompts := answerAuth(t, b, "", authToken)
	b.Do(t, time.Minute, browsertest.Navigate(base+"/"))
	b.WaitJS(t, time.Minute, `window.__skymap && window.__skymap.firstRender`)
	got, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`fetch("/api/status").then((r) => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || got != 200 {
		t.Errorf("the page's fetch of /api/status = %d, %v; want 200", got, err)
	}
	if n := prompts.Load(); n == 0 {
		t.Error("the browser was never asked for credentials")
	}
}

// answerAuth answers every credentials prompt of b's tab with user and
// password, as a user typing them would, and counts the prompts.
func answerAuth(t *testing.T, b *browsertest.Browser, user, password string) *atomic.Int32 {
	t.Helper()
	var prompts atomic.Int32
	// Listen's function must not run commands: they go to a goroutine.
	err := chromedp.Listen(b.Ctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			go chromedp.Call(b.Ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		case *fetch.EventAuthRequired:
			prompts.Add(1)
			go chromedp.Call(b.Ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID,
				AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials,
					Username: user, Password: password}})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := chromedp.Call(b.Ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &yes}); err != nil {
		t.Fatal(err)
	}
	return &prompts
}

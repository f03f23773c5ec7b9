// Package browsertest runs the UI's tests in a real browser: Debian's
// headless Chromium, driven by chromedp.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ErrNoBrowser is returned by Find when no Chromium is installed.
var ErrNoBrowser = errors.New("browsertest: no chromium found (apt-get install chromium)")

// Find returns the path of the Chromium to run: $SKYMAP_CHROMIUM, else
// chromium or chromium-browser on the PATH.
func Find() (string, error) {
	if p := os.Getenv("SKYMAP_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Browser is one headless Chromium tab and what it reported.
type Browser struct {
	// Ctx runs chromedp actions in the tab.
	Ctx context.Context

	mu         sync.Mutex
	exceptions []string
	dialogs    []string
}

// New starts Chromium for t, in a fresh profile, and stops it when t
// ends. Without Chromium, t is skipped, except under CI=true, where it
// fails: the browser tests never skip silently in CI.
func New(t testing.TB) *Browser {
	t.Helper()
	path, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox, // root, in CI and here
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1600, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	b.Ctx = ctx
	// The first Run starts the browser, which lives as long as ctx: no
	// timeout on it.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(time.Minute):
		err = errors.New("not started in a minute")
	}
	if err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start %s: %v", path, err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return b
}

// listen records exceptions and dismisses dialogs (which would block the
// page); it runs in the tab's read loop and must not run commands there.
func (b *Browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		b.exceptions = append(b.exceptions, msg)
	case *page.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, string(ev.Type)+": "+ev.Message)
		go chromedp.Call(b.Ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
	}
}

// Exceptions returns the uncaught JavaScript exceptions so far.
func (b *Browser) Exceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.exceptions...)
}

// Dialogs returns the alert, confirm and prompt dialogs opened so far.
func (b *Browser) Dialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// Do runs actions with a timeout.
func (b *Browser) Do(t testing.TB, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v (exceptions: %v)", err, b.Exceptions())
	}
}

// WaitJS polls the JavaScript expression expr until it is true.
func (b *Browser) WaitJS(t testing.TB, timeout time.Duration, expr string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s not true in %s (err %v, exceptions %v)", expr, timeout, err, b.Exceptions())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Eval evaluates expr and returns its value.
func Eval[T any](t testing.TB, b *Browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("browser: %s: %v (exceptions: %v)", expr, err, b.Exceptions())
	}
	return v
}

// Screenshot saves the page as a PNG at path.
func (b *Browser) Screenshot(t testing.TB, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// JSString quotes s as a JavaScript string literal.
func JSString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "<", `\u003c`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	return fmt.Sprintf(`"%s"`, r.Replace(s))
}

// Navigate loads url and waits for its load event.
func Navigate(url string) chromedp.Action[chromedp.Void] { return chromedp.Navigate(url) }

// SetHash changes the location's hash, as following a link would.
func SetHash(hash string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void]("location.hash = " + JSString(hash))
}

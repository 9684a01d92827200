// Package chromiumtest drives Debian's headless Chromium for tests through
// the DevTools protocol (chromedp): it finds the binary, opens a page from
// disk with the network off while recording every request the page makes,
// reads the rendered DOM, takes screenshots, checks them for content and
// keeps them where the run can keep them. It is imported by tests only, so
// chromedp never reaches the ksbfolio binary.
package chromiumtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ksbfolio/ksbfolio/evidence/pack"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// Timeout bounds one page's whole session: starting Chromium, loading the
// page and every action on it; ActionTimeout bounds each action after the
// load (an element that never appears fails the test quickly).
const (
	Timeout       = 2 * time.Minute
	ActionTimeout = 20 * time.Second
)

// Binary returns the Chromium binary (pack.FindChromium: $KSBFOLIO_CHROMIUM,
// else chromium on PATH). Without one the test is skipped, or fails where
// CI is set or KSBFOLIO_TEST_REQUIRE names chromium.
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := pack.FindChromium()
	if err != nil {
		storetest.RequireOrSkip(t, "chromium", "apt-get install chromium")
	}
	return bin
}

// Request is one request the page made, as the DevTools protocol reported
// it.
type Request struct {
	Event string // the protocol event: "Network.requestWillBeSent", "Network.loadingFailed" or "Fetch.requestPaused"
	URL   string // "" for Network.loadingFailed, which names only the request ID
	ID    string // the request ID
	Type  string // the resource type: Document, Image, Stylesheet, …
	Error string // Network.loadingFailed's error text and blocked reason
}

func (r Request) String() string {
	s := r.Event + " " + r.Type + " " + r.URL
	if r.Error != "" {
		s += " (" + r.Error + ")"
	}
	return s
}

// Page is one page open in its own headless Chromium.
type Page struct {
	t   testing.TB
	ctx context.Context
	url string // the page's file:// URL, without fragment

	mu   sync.Mutex
	reqs []Request
	urls map[string]string // request ID → URL
}

// Open starts a headless Chromium of its own (no sandbox, no GPU, no
// background networking, component updates or sync, a fresh profile in a
// temporary folder, every host name unresolvable), turns the network off
// (emulated offline, and every request but file: and data: ones failed by
// the Fetch domain), records every request through the Network and Fetch
// domains, and loads the local file in a width×height viewport. The
// browser ends with the test.
func Open(t testing.TB, file string, width, height int) *Page {
	t.Helper()
	bin := Binary(t)
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	p := &Page{t: t, url: (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), urls: map[string]string{}}
	var stderr tail
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.CombinedOutput(&stderr),
	)
	t.Cleanup(acancel)
	tctx, tcancel := chromedp.NewContext(actx, chromedp.WithListener(p.record))
	t.Cleanup(tcancel)
	p.ctx = tctx

	// The Fetch domain pauses every request; a goroutine lets file: and
	// data: ones go on and fails the rest, so nothing can leave even if
	// the offline emulation let it.
	paused := chromedp.Events(tctx, fetch.RequestPaused)
	if err := chromedp.Do(tctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return fmt.Errorf("Network.enable: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return fmt.Errorf("Network.emulateNetworkConditionsByRule: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: true, DownloadThroughput: -1, UploadThroughput: -1,
		}); err != nil {
			return fmt.Errorf("Network.overrideNetworkState: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
			return fmt.Errorf("Fetch.enable: %w", err)
		}
		return nil
	})); err != nil {
		t.Fatalf("start chromium %s: %v\n%s", bin, err, stderr.String())
	}
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			p.add(Request{Event: "Fetch.requestPaused", URL: ev.Request.URL, ID: string(ev.RequestID), Type: string(ev.ResourceType)})
			if local(ev.Request.URL) {
				_, _ = chromedp.Call(tctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			} else {
				_, _ = chromedp.Call(tctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			}
		}
	}()
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(int64(width), int64(height)), chromedp.Navigate(p.url)); err != nil {
		t.Fatalf("load %s: %v\n%s", p.url, err, stderr.String())
	}
	return p
}

// local reports whether u is the kind of URL a pack may load: a file on
// disk or inline data.
func local(u string) bool { return strings.HasPrefix(u, "file:") || strings.HasPrefix(u, "data:") }

// record is the tab's listener: it runs in the tab's read loop, so it only
// appends.
func (p *Page) record(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.add(Request{Event: "Network.requestWillBeSent", URL: ev.Request.URL, ID: string(ev.RequestID), Type: string(ev.Type)})
	case *network.EventLoadingFailed:
		p.add(Request{Event: "Network.loadingFailed", ID: string(ev.RequestID), Type: string(ev.Type),
			Error: strings.TrimSpace(ev.ErrorText + " " + string(ev.BlockedReason))})
	}
}

func (p *Page) add(r Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.URL != "" && r.Event == "Network.requestWillBeSent" {
		p.urls[r.ID] = r.URL
	}
	if r.URL == "" {
		r.URL = p.urls[r.ID]
	}
	p.reqs = append(p.reqs, r)
}

// Requests returns every request recorded so far, in the order the
// protocol reported them.
func (p *Page) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.reqs...)
}

// Offending returns the recorded requests other than those for the page's
// own file (any fragment aside) and for data: URLs: every one the page
// tried, whether the offline network, the Content-Security-Policy or the
// Fetch domain then stopped it. A failed load of the page itself is
// offending too.
func (p *Page) Offending() []Request {
	var out []Request
	for _, r := range p.Requests() {
		u, _, _ := strings.Cut(r.URL, "#")
		if (u == p.url && r.Error == "") || strings.HasPrefix(u, "data:") {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Settle gives requests the page may still start (late images, fonts,
// print style sheets) time to show: it renders the page for print and for
// the screen, scrolled to the end, and waits a moment. A failure (the page
// navigated away, say) fails the test but lets it go on, so that it can
// still report the requests.
func (p *Page) Settle() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, media := range []string{"print", ""} {
			if _, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media}); err != nil {
				return fmt.Errorf("Emulation.setEmulatedMedia %q: %w", media, err)
			}
			if _, err := chromedp.FullScreenshot(90)(ctx, tg); err != nil {
				return fmt.Errorf("render for %q: %w", media, err)
			}
		}
		return nil
	}), scroll("document.body.scrollHeight"), chromedp.Sleep(500*time.Millisecond), scroll("0"))
	if err != nil {
		p.t.Errorf("chromium on %s: %v", p.url, err)
	}
}

// scroll scrolls the page to y, a JavaScript expression.
func scroll(y string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("window.scrollTo(0, "+y+"), true")(ctx, tg)
		return err
	})
}

func (p *Page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("chromium on %s: %v", p.url, err)
	}
}

// HTML returns the rendered document, serialised.
func (p *Page) HTML() string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		p.t.Fatalf("read the DOM of %s: %v", p.url, err)
	}
	return s
}

// Count returns how many elements of the rendered document match the CSS
// selector.
func (p *Page) Count(selector string) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll("+strconv.Quote(selector)+").length"))
	if err != nil {
		p.t.Fatalf("count %s in %s: %v", selector, p.url, err)
	}
	return n
}

// Viewport sets the viewport to width×height CSS pixels; a width under 500
// is emulated as a phone (mobile, touch).
func (p *Page) Viewport(width, height int) {
	p.t.Helper()
	p.do(chromedp.EmulateViewport(int64(width), int64(height)))
}

// Screenshot saves what the viewport shows, from the top of the page, as
// the PNG name in Artefacts and returns its path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	p.do(scroll("0"))
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", p.url, err)
	}
	return save(p.t, name, b)
}

// ScreenshotElement scrolls the element with the ID into view and saves a
// PNG of just that element as name in Artefacts, returning its path.
func (p *Page) ScreenshotElement(id, name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID(id)))
	if err != nil {
		p.t.Fatalf("screenshot #%s of %s: %v", id, p.url, err)
	}
	return save(p.t, name, b)
}

func save(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(Artefacts(t), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
	return path
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Artefacts returns the folder where the test keeps its screenshots and
// PDFs: $KSBFOLIO_TEST_ARTIFACTS/<test name> when that is set (scripts/test.sh
// sets it to test-artifacts/ at the top of the repository), else the test's
// temporary folder, which is removed when the test ends.
func Artefacts(t testing.TB) string {
	t.Helper()
	root := os.Getenv("KSBFOLIO_TEST_ARTIFACTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, unsafeName.ReplaceAllString(t.Name(), "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tail keeps the last 4 KiB written to it: Chromium's output, for the
// error when it does not start.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (l *tail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if len(l.b) > 4096 {
		l.b = l.b[len(l.b)-4096:]
	}
	return len(p), nil
}

func (l *tail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

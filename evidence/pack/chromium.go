package pack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ChromiumTimeout bounds one headless Chromium run.
const ChromiumTimeout = 60 * time.Second

// FindChromium returns the Chromium binary: $KSBFOLIO_CHROMIUM if set,
// else the first of chromium, chromium-browser, google-chrome on PATH.
func FindChromium() (string, error) {
	if p := os.Getenv("KSBFOLIO_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH (Debian: apt-get install chromium; or set KSBFOLIO_CHROMIUM)")
}

// Headless runs chromium headless on the local file page with the given
// extra arguments: no sandbox, no GPU, no background networking,
// component updates or sync, every host name unresolvable (so nothing can
// leave the page), a throw-away profile. page may end in "#fragment", the part of the page to open. It
// returns what Chromium wrote on stdout.
func Headless(ctx context.Context, chromium, page string, args ...string) ([]byte, error) {
	page, frag, _ := strings.Cut(page, "#")
	abs, err := filepath.Abs(page)
	if err != nil {
		return nil, fmt.Errorf("chromium: %w", err)
	}
	profile, err := os.MkdirTemp("", "ksbfolio-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium: %w", err)
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, ChromiumTimeout)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--user-data-dir=" + profile}, args...)
	all = append(all, (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), Fragment: frag}).String())
	cmd := exec.CommandContext(ctx, chromium, all...)
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("chromium %s: %w: %s", filepath.Base(page), err, stderr.String())
	}
	return out, nil
}

// PrintPDF prints the page (a pack's index.html) to pdf with headless
// Chromium, without header or footer.
func PrintPDF(ctx context.Context, chromium, page, pdf string) error {
	abs, err := filepath.Abs(pdf)
	if err != nil {
		return fmt.Errorf("print pdf: %w", err)
	}
	if _, err := Headless(ctx, chromium, page, "--no-pdf-header-footer", "--print-to-pdf="+abs); err != nil {
		return fmt.Errorf("print pdf: %w", err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.Size() == 0 {
		return fmt.Errorf("print pdf: chromium wrote no %s", pdf)
	}
	return nil
}

// limitedBuffer keeps the last 4 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.b = append(l.b, p...)
	if len(l.b) > 4096 {
		l.b = l.b[len(l.b)-4096:]
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }

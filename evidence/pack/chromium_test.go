package pack_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/pack"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

func chromium(t *testing.T) string {
	t.Helper()
	c, err := pack.FindChromium()
	if err != nil {
		storetest.RequireOrSkip(t, "chromium", "apt-get install chromium")
	}
	return c
}

// shots is where the screenshots are kept: $KSBFOLIO_TEST_ARTIFACTS, else
// the test's temporary folder.
func shots(t *testing.T) string {
	if d := os.Getenv("KSBFOLIO_TEST_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestChromiumRendersPack loads index.html from disk in headless Chromium
// with every host unresolvable and checks the rendered DOM, takes
// screenshots, and prints the PDF.
func TestChromiumRendersPack(t *testing.T) {
	bin := chromium(t)
	in, _ := fixture(t)
	p := build(t, in)
	dir := writeDir(t, p)
	index := filepath.Join(dir, "index.html")
	ctx := context.Background()
	dom, err := pack.Headless(ctx, bin, index, "--dump-dom")
	if err != nil {
		t.Fatal(err)
	}
	s := string(dom)
	wants := []string{`id="cover"`, `id="cover-apprentice">Ada &lt;Lovelace&gt;`, `id="matrix"`, `id="ksb-K1"`, `id="declaration"`, `id="coverage-chart"`}
	for _, c := range p.Selection.Items {
		wants = append(wants, `id="item-`+c.View.Item.ID+`"`)
	}
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("rendered DOM lacks %s", w)
		}
	}
	if strings.Contains(s, "<script") {
		t.Error("rendered DOM holds a script")
	}
	out := shots(t)
	first := filepath.Join(out, "pack-first-page.png")
	if _, err := pack.Headless(ctx, bin, index, "--window-size=1000,1400", "--screenshot="+first); err != nil {
		t.Fatal(err)
	}
	// The page at a phone's width.
	item := filepath.Join(out, "pack-phone.png")
	if _, err := pack.Headless(ctx, bin, index, "--window-size=420,900", "--screenshot="+item); err != nil {
		t.Fatal(err)
	}
	for _, png := range []string{first, item} {
		b, err := os.ReadFile(png)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("screenshot %s: %v", png, err)
		}
	}

	pdf := filepath.Join(t.TempDir(), "pack.pdf")
	if err := pack.PrintPDF(ctx, bin, index, pdf); err != nil {
		t.Fatal(err)
	}
	CheckPDF(t, pdf, 2, "KSB → evidence matrix")
}

// CheckPDF checks the PDF has at least minPages pages (its /Type /Page
// objects) and, when pdftotext is installed, that text is in it.
func CheckPDF(t *testing.T, pdf string, minPages int, text string) {
	t.Helper()
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(b, -1))
	if pages < minPages {
		t.Errorf("%s has %d pages, want at least %d", pdf, pages, minPages)
	}
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Log("pdftotext not installed (Debian: poppler-utils): not checking the PDF's text")
		return
	}
	txt, err := exec.Command(bin, "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if !strings.Contains(string(txt), text) {
		t.Errorf("PDF text lacks %q", text)
	}
}

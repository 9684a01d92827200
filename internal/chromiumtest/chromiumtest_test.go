package chromiumtest

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOffendingSeesRequests: a page that asks for an image, a style sheet
// and a frame from the network has each of them reported, though none
// could load; a page with only inline data has none.
func TestOffendingSeesRequests(t *testing.T) {
	Binary(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.html")
	good := filepath.Join(dir, "good.html")
	if err := os.WriteFile(bad, []byte(`<!DOCTYPE html><link rel=stylesheet href="https://evil.example/s.css">
<img src="http://evil.example/x.png"><iframe src="http://192.0.2.1/frame"></iframe><p>hello</p>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(`<!DOCTYPE html><p style="font-size:40px">hello</p>
<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxMCIgaGVpZ2h0PSIxMCIvPg==">`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Open(t, bad, 400, 300)
	p.Settle()
	var urls []string
	for _, r := range p.Offending() {
		urls = append(urls, r.URL)
	}
	for _, want := range []string{"https://evil.example/s.css", "http://evil.example/x.png", "http://192.0.2.1/frame"} {
		if !slices.Contains(urls, want) {
			t.Errorf("offending requests %v lack %s", urls, want)
		}
	}
	p = Open(t, good, 400, 300)
	p.Settle()
	if off := p.Offending(); len(off) != 0 {
		t.Errorf("a page of inline data made requests: %v", off)
	}
	if n := p.Count("p"); n != 1 {
		t.Errorf("Count(p) = %d", n)
	}
	if !strings.Contains(p.HTML(), "hello") {
		t.Error("HTML lacks the page's text")
	}
	CheckPNG(t, p.Screenshot("good.png"), 400, 300, 0.005)
}

func TestInk(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 10, 10))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	if got := Ink(img); got != 0 {
		t.Errorf("blank image: ink %v", got)
	}
	for x := 0; x < 10; x++ {
		img.Set(x, 0, color.Black)
		img.Set(x, 1, color.RGBA{250, 250, 250, 255}) // a faint tint is not ink
	}
	if got := Ink(img); got != 0.1 {
		t.Errorf("one black row of ten: ink %v, want 0.1", got)
	}
}

package chromiumtest

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Ink is the share of a PNG's pixels that differ from its commonest colour
// (the background) by more than a faint tint: 0 for a blank image.
func Ink(img image.Image) float64 {
	b := img.Bounds()
	if b.Empty() {
		return 0
	}
	type rgb struct{ r, g, b uint8 }
	px := func(x, y int) rgb {
		r, g, bl, _ := img.At(x, y).RGBA()
		return rgb{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
	}
	counts := map[rgb]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[px(x, y)]++
		}
	}
	var bg rgb
	for c, n := range counts {
		if n > counts[bg] {
			bg = c
		}
	}
	far := func(a, b uint8) bool { return max(a, b)-min(a, b) > 32 }
	ink := 0
	for c, n := range counts {
		if far(c.r, bg.r) || far(c.g, bg.g) || far(c.b, bg.b) {
			ink += n
		}
	}
	return float64(ink) / float64(b.Dx()*b.Dy())
}

// CheckPNG checks the file is a PNG at least minW×minH pixels with at least
// minInk of its pixels inked (Ink): not blank.
func CheckPNG(t testing.TB, path string, minW, minH int, minInk float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if s := img.Bounds().Size(); s.X < minW || s.Y < minH {
		t.Errorf("%s is %dx%d pixels, want at least %dx%d", path, s.X, s.Y, minW, minH)
	}
	if ink := Ink(img); ink < minInk {
		t.Errorf("%s looks blank: %.2f%% of its pixels are inked, want at least %.2f%%", path, 100*ink, 100*minInk)
	}
}

// CheckPDF checks the PDF has at least minPages pages (its /Type /Page
// objects) and, when pdftotext is installed (Debian: poppler-utils), that
// text is in it.
func CheckPDF(t testing.TB, pdf string, minPages int, text string) {
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
		t.Errorf("%s: its text lacks %q", pdf, text)
	}
}

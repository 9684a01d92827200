package logs

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The fast paths of the per-line work (8-byte ASCII tests, the two-letter
// stem index, the lower-casing into a reused buffer) are checked against
// the plain code they replace, on the same inputs.

var fastPathSeeds = []string{
	"", "a", "MODEL DEPLOYMENT SUCCESSFUL!", "nothing to see", "redeployed", "Deploy", "de",
	"2025-09-01T00:00:00.038Z [INFO ] W-9000-churn_1.0 ACCESS_LOG - /10.2.30.7:35226 \"POST /predictions/churn HTTP/1.1\" 200",
	"tab\there\tand there", "esc \x1b[31mred\x1b[0m", "del\x7f", "0123456789abcdef\x7fghijklmnopqrstuv", "0123456789abcdef\x01ghijklmnopqrstuv", "nul\x00", "ünïcödé model", "\xff\xfe broken",
	"KELVIN \u212a and İstanbul ROLLİNG back", "scaled to 3 replicas; New size: 4; reason: load",
	"12345678", "1234567\x80", "redeploymentsandrollbacksandmodelsandversions", "abcdefghdeploy", "Run ID: 5183fedfa78c48cbb36e6fee2581613a", "COMMIT abcdef1",
}

// naivePrintable is printableASCII's byte-by-byte definition.
func naivePrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c >= 0x7f {
			return false
		}
	}
	return true
}

// naiveMask is stemIndex.mask's definition: the stems that start a word.
func naiveMask(s string) uint32 {
	var m uint32
	for i := 0; i < len(s); i++ {
		letter := func(c byte) bool { c |= 0x20; return c >= 'a' && c <= 'z' }
		if !letter(s[i]) || i > 0 && letter(s[i-1]) {
			continue
		}
		for b, st := range stems {
			if len(s)-i >= len(st) && strings.EqualFold(s[i:i+len(st)], st) && isASCII(s[i:i+len(st)]) {
				m |= 1 << b
			}
		}
	}
	return m
}

func checkFastPaths(t *testing.T, s string) {
	t.Helper()
	if got, want := printableASCII(s), naivePrintable(s); got != want {
		t.Errorf("printableASCII(%q) = %v, want %v", s, got, want)
	}
	if got, want := isASCII(s), utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }) < 0; got != want {
		t.Errorf("isASCII(%q) = %v, want %v", s, got, want)
	}
	x := newStemIndex()
	if got, want := x.mask(s), naiveMask(s); got != want {
		t.Errorf("mask(%q) = %b, want %b", s, got, want)
	}
	if got, want := new(folder).lower(s), strings.ToLower(s); got != want {
		t.Errorf("folder.lower(%q) = %q, want %q", s, got, want)
	}
}

func TestFastPaths(t *testing.T) {
	for _, s := range fastPathSeeds {
		checkFastPaths(t, s)
		for i := range len(s) { // every alignment of the 8-byte loops
			checkFastPaths(t, s[i:])
		}
	}
}

func FuzzFastPaths(f *testing.F) {
	for _, s := range fastPathSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFastPaths(t, s) })
}

package textcap

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBeforeWord(t *testing.T) {
	for _, c := range []struct {
		s    string
		i    int
		want int
	}{
		{"alpha beta", 7, 5},             // inside "beta": before it
		{"alpha beta", 5, 5},             // at the blank: stays
		{"alpha beta", 6, 5},             // at the first byte of "beta"
		{"alpha beta", 20, 20},           // past the end: stays
		{"alpha beta", 10, 10},           // at the end: stays
		{"onewordonly", 4, 0},            // a word spans all: nothing kept
		{"line one\nline two", 12, 8},    // a newline is a blank
		{"tab\tsep", 5, 3},               // so is a tab
		{"key=sk_live_abcdef123", 10, 0}, // a token is never kept in part
		{"", 0, 0},
	} {
		if got := BeforeWord(c.s, c.i); got != c.want {
			t.Errorf("BeforeWord(%q, %d) = %d, want %d", c.s, c.i, got, c.want)
		}
	}
}

func TestCutBeforeWord(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"token=abc secret=xyz123", 20, "token=abc"},
		{"token=abc secret=xyz123", 10, "token=abc "[:9]},
		{"averyveryverylongword", 5, ""},
		{"two words", 2, ""},
		{"two words", 3, "two"}, // s[3] is the blank
	} {
		if got := CutBeforeWord(c.s, c.n); got != c.want {
			t.Errorf("CutBeforeWord(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

func TestRunesAndBytes(t *testing.T) {
	for _, c := range []struct {
		name    string
		f       func(string, int, func(string, int) int) (string, bool)
		s       string
		n       int
		back    func(string, int) int
		want    string
		wantCut bool
	}{
		{"runes fit", Runes, "héllo", 5, nil, "héllo", false},
		{"runes cut", Runes, "héllo wörld", 8, nil, "héllo w…", true},
		{"runes cut before a word", Runes, "héllo wörld", 8, BeforeWord, "héllo…", true},
		{"bytes fit", Bytes, "abc", 3, nil, "abc", false},
		{"bytes cut on a rune boundary", Bytes, "aéé", 4, nil, "a…", true},
		{"bytes cut before a word", Bytes, "one two three", 10, BeforeWord, "one two…", true},
		{"bytes cut inside a word", Bytes, "one two three", 9, BeforeWord, "one…", true},
		{"bytes cut tiny", Bytes, "abcdef", 2, nil, "…", true},
	} {
		got, cut := c.f(c.s, c.n, c.back)
		if got != c.want || cut != c.wantCut {
			t.Errorf("%s: (%q, %d) = %q, %v; want %q, %v", c.name, c.s, c.n, got, cut, c.want, c.wantCut)
		}
	}
}

// Whatever the input, a cut text is within its limit, valid UTF-8 if the
// input was, a prefix of the input plus the ellipsis, and (before a word)
// never ends inside a word of the input.
func FuzzCaps(f *testing.F) {
	f.Add("héllo wörld, a longer text with words", 12)
	f.Add("nospacesatallinthistextwhatsoever", 7)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = max(0, n%(len(s)+8))
		if r, cut := Runes(s, max(n, 1), BeforeWord); cut {
			p := strings.TrimSuffix(r, Ellipsis)
			if !strings.HasPrefix(s, p) || utf8.RuneCountInString(r) > max(n, 1) {
				t.Errorf("Runes(%q, %d) = %q", s, n, r)
			}
			if len(p) < len(s) && len(p) > 0 && !blank(s[len(p)]) {
				t.Errorf("Runes(%q, %d) = %q ends inside a word", s, n, r)
			}
		}
		if b, cut := Bytes(s, n, BeforeWord); cut {
			p := strings.TrimSuffix(b, Ellipsis)
			if !strings.HasPrefix(s, p) || (n >= len(Ellipsis) && len(b) > n) {
				t.Errorf("Bytes(%q, %d) = %q", s, n, b)
			}
			if utf8.ValidString(s) && !utf8.ValidString(b) {
				t.Errorf("Bytes(%q, %d) = %q: not valid UTF-8", s, n, b)
			}
		}
		c := CutBeforeWord(s, n)
		if len(c) > n && len(s) > n || !strings.HasPrefix(s, c) {
			t.Errorf("CutBeforeWord(%q, %d) = %q", s, n, c)
		}
		if len(c) < len(s) && len(c) > 0 && !blank(s[len(c)]) {
			t.Errorf("CutBeforeWord(%q, %d) = %q ends inside a word", s, n, c)
		}
	})
}

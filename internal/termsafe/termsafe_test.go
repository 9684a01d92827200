package termsafe

import (
	"fmt"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, café, 日本語, emoji 👩‍💻", "plain text, café, 日本語, emoji 👩‍💻"},
		{"two\nlines\tand a tab", "two\nlines\tand a tab"},
		{"\x1b]0;pwned\x07title", `\x1b]0;pwned\x07title`},
		{"red \x1b[31mtext\x1b[0m", `red \x1b[31mtext\x1b[0m`},
		{"over\rwrite", `over\rwrite`},
		{"del\x7f", `del\x7f`},
		{"c1 \u009b31m", `c1 \x9b31m`},
		{"invoice_\u202eexe.pdf", `invoice_\u202eexe.pdf`},
		{"isolate \u2066x\u2069", `isolate \u2066x\u2069`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad \xff byte", `bad \xff byte`},
		{"back\\slash", "back\\slash"},
		{"", ""},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Nothing String returns holds a byte a terminal acts on.
func FuzzString(f *testing.F) {
	f.Add("\x1b[2J\u202e\r\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		for _, r := range out {
			if r != '\n' && r != '\t' && unsafe(r) {
				t.Fatalf("String(%q) = %q keeps %U", s, out, r)
			}
		}
		if strings.ContainsRune(out, '\ufffd') && !strings.ContainsRune(s, '\ufffd') {
			t.Fatalf("String(%q) = %q invents U+FFFD", s, out)
		}
		if !needsEscape(s) && out != s {
			t.Fatalf("String changed clean text %q", s)
		}
	})
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := Writer(&b)
	fmt.Fprintf(w, "%s\t%s\n", "K1", "statement \x1b]2;x\x07")
	if got, want := b.String(), "K1\tstatement \\x1b]2;x\\x07\n"; got != want {
		t.Fatalf("Writer wrote %q, want %q", got, want)
	}
}

func TestCap(t *testing.T) {
	var many []string
	for i := range 100000 {
		many = append(many, fmt.Sprintf("problem %d", i))
	}
	got := Cap(many, 10)
	if len(got) != 11 || got[9] != "problem 9" || got[10] != "and 99,990 more" {
		t.Fatalf("Cap: %q", got[len(got)-2:])
	}
	if got := Cap(many[:3], 10); len(got) != 3 {
		t.Fatalf("Cap of a short list changed it: %q", got)
	}
	if got := Cap(many[:2], 0); len(got) != 2 || got[1] != "and 1 more" {
		t.Fatalf("Cap with limit 0: %q", got)
	}
}

func TestCountPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 items"}, {1, "1 item"}, {2, "2 items"}, {1234, "1,234 items"}, {1234567, "1,234,567 items"}} {
		if got := Plural(tc.n, "item", "items"); got != tc.want {
			t.Errorf("Plural(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := Count(-1234); got != "-1,234" {
		t.Errorf("Count(-1234) = %q", got)
	}
}

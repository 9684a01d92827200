// Package termsafe makes text that came from a source (a commit message, an
// author name, a file name, a catalogue statement) safe to print on a
// terminal, and caps long lists for people to read.
//
// Text from a source is not trusted: an ESC byte starts a control sequence
// that can retitle the window, hide or rewrite earlier output, or (with
// some terminals) write files; a right-to-left override (U+202E) makes
// "evil.exe" look like "exe.live"; a carriage return overwrites the line.
// String replaces each such character with a visible escape, so the reader
// sees what the source holds and the terminal acts on none of it.
package termsafe

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s with every character a terminal would act on rather
// than print written as a visible escape: C0 controls other than newline and
// tab (ESC → \x1b, BEL → \x07, CR → \r), DEL, C1 controls (U+0080–U+009F),
// bidirectional overrides, embeddings, isolates and marks (U+202A–U+202E,
// U+2066–U+2069, U+200E, U+200F, U+061C), line and paragraph separators,
// other format characters (Cf, e.g. a zero-width space; the joiners
// U+200C and U+200D, which emoji and scripts need, are kept) and invalid UTF-8
// bytes (\xff). A backslash is left alone: the escapes are for reading, not
// for decoding. Text without such characters is returned unchanged.
func String(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafe(r):
			b.WriteString(escape(r))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafe(r) {
			return true
		}
		i += n
	}
	return false
}

// unsafe reports whether a terminal may act on r instead of printing it.
func unsafe(r rune) bool {
	switch {
	case r == '\n' || r == '\t', r == '\u200c' || r == '\u200d': // ZWNJ and ZWJ join emoji and scripts; harmless
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case unicode.Is(unicode.Cf, r): // bidi controls, zero-width characters, BOM, …
		return true
	}
	return false
}

func escape(r rune) string {
	if r == '\r' {
		return `\r`
	}
	if r < 0x100 {
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}

// Cap returns at most limit of items, followed, when some were left out,
// by one line "and N more" (N with thousands separators: "and 99,990
// more"). A limit below 1 is taken as 1.
func Cap(items []string, limit int) []string {
	limit = max(limit, 1)
	if len(items) <= limit {
		return items
	}
	out := append([]string(nil), items[:limit]...)
	return append(out, "and "+Count(len(items)-limit)+" more")
}

// Count writes n with thousands separators: 99990 → "99,990".
func Count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Plural writes a count and a noun, the noun in the plural unless n is 1:
// Plural(1, "item", "items") is "1 item", Plural(2500, …) "2,500 items".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Count(n) + " " + many
}

// Writer returns a writer that passes everything written to it through
// String on its way to w, for output printed piecemeal (fmt.Fprintf into a
// table). Each Write must hold whole characters, as each fmt.Fprintf call
// does; a character split across two writes is escaped byte by byte.
func Writer(w io.Writer) io.Writer { return escaper{w} }

type escaper struct{ w io.Writer }

func (e escaper) Write(p []byte) (int, error) {
	if _, err := io.WriteString(e.w, String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ErrWriter keeps the first error writing to W and drops every later
// write, so that a report printed piece by piece checks for an error once,
// at the end (Err).
type ErrWriter struct {
	W   io.Writer
	Err error
}

func (e *ErrWriter) Write(p []byte) (int, error) {
	if e.Err != nil {
		return 0, e.Err
	}
	n, err := e.W.Write(p)
	if err != nil {
		e.Err = err
	}
	return n, err
}

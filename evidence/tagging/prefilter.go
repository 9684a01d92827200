package tagging

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// A prefilter is a set of lower-case literals at least one of which every
// match of a regular expression contains (ignoring case). Testing an
// item's text for the literals is much cheaper than running the
// expression, and rejects most items; the expression runs only on the
// rest. A nil prefilter rejects nothing.
//
// The literals are lower-cased ASCII only. Case folding outside ASCII
// (the Kelvin sign folds to k, long s to s) would make a lower-cased
// literal miss, so the prefilter is used only on ASCII text (see
// matchInput.lower), and a literal holding non-ASCII letters makes the
// whole expression go without one.
type prefilter []string

// maxPrefilter bounds how many literals a prefilter holds; an expression
// needing more is left without one.
const maxPrefilter = 64

// newPrefilter analyses expr (already known to compile); nil when no
// useful set of literals can be derived.
func newPrefilter(expr string) prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := required(re.Simplify())
	for _, l := range lits {
		if l == "" {
			return nil
		}
	}
	return lits
}

// required returns literals one of which every match of re contains, or
// nil when there are none to require.
func required(re *syntax.Regexp) prefilter {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return nil
			}
		}
		return prefilter{strings.ToLower(s)}
	case syntax.OpCapture:
		return required(re.Sub[0])
	case syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Every part must match; the part with the longest shortest
		// literal filters best.
		var best prefilter
		bestLen := 0
		for _, sub := range re.Sub {
			p := required(sub)
			if p == nil {
				continue
			}
			if n := shortest(p); n > bestLen {
				best, bestLen = p, n
			}
		}
		return best
	case syntax.OpAlternate:
		var out prefilter
		for _, sub := range re.Sub {
			p := required(sub)
			if p == nil {
				return nil // this branch needs no literal
			}
			out = append(out, p...)
		}
		if len(out) > maxPrefilter {
			return nil
		}
		return out
	}
	return nil
}

func shortest(p prefilter) int {
	n := -1
	for _, l := range p {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

// admits reports whether lower (lower-cased ASCII text) holds one of the
// literals.
func (p prefilter) admits(lower string) bool {
	for _, l := range p {
		if strings.Contains(lower, l) {
			return true
		}
	}
	return false
}

// asciiLower lower-cases s if it is all ASCII; ok is false otherwise.
func asciiLower(s string) (lower string, ok bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return "", false
		}
		upper = upper || ('A' <= c && c <= 'Z')
	}
	if !upper {
		return s, true
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b), true
}

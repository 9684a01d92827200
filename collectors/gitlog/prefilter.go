package gitlog

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"strings"
)

// prefiltered is a regexp with literals one of which any match must hold:
// a cheap strings.Contains test first, the regexp only when one is there.
type prefiltered struct {
	re   *regexp.Regexp
	lits []string // nil: no prefilter, always run re
}

func newPrefiltered(expr string) prefiltered {
	re := regexp.MustCompile(expr)
	p := prefiltered{re: re}
	if t, err := syntax.Parse(expr, syntax.Perl); err == nil {
		p.lits = requiredLits(t.Simplify())
	}
	return p
}

func (p prefiltered) MatchString(s string) bool {
	if p.lits != nil {
		found := false
		for _, l := range p.lits {
			if strings.Contains(s, l) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return p.re.MatchString(s)
}

// Match is MatchString for bytes.
func (p prefiltered) Match(b []byte) bool {
	if p.lits != nil {
		found := false
		for _, l := range p.lits {
			if bytes.Contains(b, []byte(l)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return p.re.Match(b)
}

// requiredLits returns literals one of which every match of re holds; nil
// when it cannot tell.
func requiredLits(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLits(re.Sub[0])
		}
		return nil
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l := requiredLits(sub)
			if l == nil {
				return nil
			}
			out = append(out, l...)
		}
		return out
	case syntax.OpConcat:
		// the child whose shortest literal is longest
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			l := requiredLits(sub)
			if l == nil {
				continue
			}
			short := len(l[0])
			for _, x := range l {
				short = min(short, len(x))
			}
			if short > bestLen {
				best, bestLen = l, short
			}
		}
		return best
	}
	return nil
}

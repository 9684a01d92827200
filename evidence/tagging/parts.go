package tagging

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// A text expression is often an alternation of many phrases,
// `(?i)\b(re-?train\w*|fine-?tun\w*|…)\b`. Whether it matches a text is
// whether one of its alternatives, with what surrounds it, does:
// `\b(re-?train\w*)\b`, `\b(fine-?tun\w*)\b`, …. Compiled apart, each of
// these parts gets its own prefilter, so that a text runs only the parts
// whose literals it holds, and each of those runs a small program rather
// than the whole alternation.

// textPart is one part of a rule's text expression.
type textPart struct {
	re   *regexp.Regexp
	lits litSet // its prefilter's literals in Tagger.literals; nil: none
	// lit, if set, starts every match of re (after a word boundary, if
	// bound): lower-case ASCII when fold (any case matches), exact
	// otherwise. A match can then only start where lit occurs, and
	// anchored (re, anchored at the start of the text) is tried there.
	lit         string
	fold, bound bool
	anchored    *regexp.Regexp
}

// maxParts bounds how many parts an expression is split into; one that
// would give more is not split.
const maxParts = 64

// splitText returns the parts of expr (already known to compile) whose
// matches together are its matches; nil when it has only one, or too
// many, or a part does not compile (which would be a bug of the split:
// the expression is then run whole). The prefilter literals are left to
// the caller.
func splitText(expr string) []textPart {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	alts := alternatives(re)
	if len(alts) < 2 || len(alts) > maxParts {
		return nil
	}
	parts := make([]textPart, len(alts))
	for i, a := range alts {
		p, err := regexp.Compile(a.String())
		if err != nil {
			return nil
		}
		parts[i] = textPart{re: p}
		parts[i].anchor(a)
	}
	return parts
}

// anchor sets p.lit and p.anchored when every match of a starts with a
// literal: a is, once concatenations and groups are flattened, an
// optional \b, a literal, and the rest. A literal folded for case must be
// ASCII (matchText uses parts only on ASCII texts, where folding is ASCII
// lower-casing).
func (p *textPart) anchor(a *syntax.Regexp) {
	seq := flatten(a, nil)
	bound := len(seq) > 0 && seq[0].Op == syntax.OpWordBoundary
	if bound {
		seq = seq[1:]
	}
	if len(seq) == 0 || seq[0].Op != syntax.OpLiteral {
		return
	}
	// Literals that follow one another make one ("RE" "FIN": REFIN).
	fold := seq[0].Flags&syntax.FoldCase != 0
	var runes []rune
	for _, l := range seq {
		if l.Op != syntax.OpLiteral || (l.Flags&syntax.FoldCase != 0) != fold {
			break
		}
		runes = append(runes, l.Rune...)
	}
	lit := string(runes)
	if fold {
		if !isASCII(lit) {
			return
		}
		lit = strings.ToLower(lit)
	}
	rest := &syntax.Regexp{Op: syntax.OpConcat, Flags: a.Flags, Sub: seq}
	anchored, err := regexp.Compile(`\A(?:` + rest.String() + `)`)
	if err != nil || lit == "" {
		return
	}
	p.lit, p.fold, p.bound, p.anchored = lit, fold, bound, anchored
}

// flatten appends to seq the parts a concatenates, through groups and
// nested concatenations.
func flatten(a *syntax.Regexp, seq []*syntax.Regexp) []*syntax.Regexp {
	switch a.Op {
	case syntax.OpConcat:
		for _, s := range a.Sub {
			seq = flatten(s, seq)
		}
		return seq
	case syntax.OpCapture:
		return flatten(a.Sub[0], seq)
	}
	return append(seq, a)
}

// match reports whether p.re matches text, whose ASCII lower-casing is
// lower (text must be ASCII).
func (p *textPart) match(text, lower string) bool {
	if p.anchored == nil {
		return p.re.MatchString(text)
	}
	in := text
	if p.fold {
		in = lower
	}
	for off := 0; ; {
		i := strings.Index(in[off:], p.lit)
		if i < 0 {
			return false
		}
		i += off
		if (!p.bound || boundary(lower, i)) && p.anchored.MatchString(text[i:]) {
			return true
		}
		off = i + 1
	}
}

// alternatives returns expressions, each matching a subset of what re
// matches, that together match what re matches: an alternation gives its
// branches, a capture group what is inside it, and a concatenation one
// copy of itself for each alternative of the part of it that has the
// most. Anything else is its own only alternative.
func alternatives(re *syntax.Regexp) []*syntax.Regexp {
	switch re.Op {
	case syntax.OpAlternate:
		var out []*syntax.Regexp
		for _, s := range re.Sub {
			out = append(out, alternatives(s)...)
			if len(out) > maxParts {
				break
			}
		}
		return out
	case syntax.OpCapture:
		return alternatives(re.Sub[0])
	case syntax.OpConcat:
		best := -1
		var bestAlts []*syntax.Regexp
		for i, s := range re.Sub {
			if a := alternatives(s); len(a) > 1 && len(a) > len(bestAlts) {
				best, bestAlts = i, a
			}
		}
		if best < 0 {
			return []*syntax.Regexp{re}
		}
		out := make([]*syntax.Regexp, len(bestAlts))
		for i, a := range bestAlts {
			subs := slices.Clone(re.Sub)
			subs[best] = a
			out[i] = &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: subs}
		}
		return out
	}
	return []*syntax.Regexp{re}
}

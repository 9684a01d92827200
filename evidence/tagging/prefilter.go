package tagging

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// A prefilter is a set of lower-case literals at least one of which every
// match of a regular expression contains (ignoring case), each perhaps
// with a word boundary (\b) required right before or right after it.
// Testing an item's text for the literals is much cheaper than running the
// expression, and rejects most items; the expression runs only on the
// rest. A nil prefilter rejects nothing.
//
// The literals are lower-cased ASCII only. Case folding outside ASCII
// (the Kelvin sign folds to k, long s to s) would make a lower-cased
// literal miss, so the prefilter is used only on ASCII text (see
// matchInput.lower), and a literal holding non-ASCII letters makes the
// whole expression go without one.
//
// The literals come from the expression's tree: where a part matches one
// of a few strings exactly (a literal, a small character class, an
// alternation, an optional part), neighbouring parts are multiplied out,
// so `\b(r(ecall|oc)|f1)\b` requires "recall", "roc" or "f1", each as a
// whole word, rather than any "r" or "oc".
type prefilter []lit

// lit is one literal of a prefilter.
type lit struct {
	s string
	// before and after require a word boundary (as \b: an ASCII word
	// character on one side, none on the other) at the start and at the
	// end of s.
	before, after bool
}

// maxPrefilter bounds how many literals a prefilter, or a set of strings
// while multiplying out, holds; an expression needing more is left
// without one.
const maxPrefilter = 64

// newPrefilter analyses expr (already known to compile); nil when no
// useful set of literals can be derived.
func newPrefilter(expr string) prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	p := analyse(re.Simplify()).req
	for _, l := range p {
		if l.s == "" {
			return nil
		}
	}
	return p
}

// facts is what analyse knows of an expression.
type facts struct {
	// exact, if exactOK, holds every string a match can be (lower-cased,
	// with the word boundaries each needs at its ends).
	exact   []lit
	exactOK bool
	// req holds literals one of which every match contains (nil: none
	// known).
	req prefilter
}

func exactly(ls ...lit) facts {
	ls = dedupe(ls)
	f := facts{exact: ls, exactOK: true}
	if !slices.ContainsFunc(ls, func(l lit) bool { return l.s == "" }) {
		f.req = ls
	}
	return f
}

func analyse(re *syntax.Regexp) facts {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if !isASCII(s) {
			return facts{}
		}
		return exactly(lit{s: strings.ToLower(s)})
	case syntax.OpCharClass:
		// Only the class's ASCII members can match in the ASCII texts the
		// prefilter is used on (case folding is already in the class:
		// (?i)s is [Ssſ]).
		var ls []lit
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], min(re.Rune[i+1], utf8.RuneSelf-1)
			if lo > hi {
				continue
			}
			if hi-lo >= maxPrefilter || len(ls) > 8 {
				return facts{}
			}
			for r := lo; r <= hi; r++ {
				ls = append(ls, lit{s: strings.ToLower(string(r))})
			}
		}
		if len(ls) == 0 || len(ls) > 8 {
			return facts{}
		}
		return exactly(ls...)
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText, syntax.OpNoWordBoundary:
		return exactly(lit{})
	case syntax.OpWordBoundary:
		return exactly(lit{before: true, after: true})
	case syntax.OpCapture:
		return analyse(re.Sub[0])
	case syntax.OpQuest:
		sub := analyse(re.Sub[0])
		if !sub.exactOK || len(sub.exact) >= maxPrefilter {
			return facts{}
		}
		return exactly(append(slices.Clone(sub.exact), lit{})...)
	case syntax.OpPlus:
		return facts{req: analyse(re.Sub[0]).req}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			sub := analyse(re.Sub[0])
			if re.Min == 1 && re.Max == 1 {
				return sub
			}
			return facts{req: sub.req}
		}
	case syntax.OpAlternate:
		var exact []lit
		var req prefilter
		exactOK, reqOK := true, true
		for _, s := range re.Sub {
			f := analyse(s)
			exactOK = exactOK && f.exactOK
			reqOK = reqOK && f.req != nil
			if exactOK {
				exact = append(exact, f.exact...)
			}
			if reqOK {
				req = append(req, f.req...)
			}
		}
		switch {
		case exactOK && len(exact) <= maxPrefilter:
			return exactly(exact...)
		case reqOK && len(req) <= maxPrefilter:
			return facts{req: dedupe(req)}
		}
	case syntax.OpConcat:
		return analyseConcat(re.Sub)
	}
	return facts{}
}

// analyseConcat multiplies out each run of parts whose strings are known
// exactly, and requires the best set of literals found: a run's, or a
// part's own.
func analyseConcat(subs []*syntax.Regexp) facts {
	var best prefilter
	consider := func(p prefilter) {
		if p != nil && !slices.ContainsFunc(p, func(l lit) bool { return l.s == "" }) && (best == nil || strength(p) > strength(best)) {
			best = p
		}
	}
	run := []lit{{}} // the strings the current run of exact parts can be
	all := true      // every part so far is exact and multiplied out
	for _, s := range subs {
		f := analyse(s)
		if f.exactOK && len(run)*len(f.exact) <= maxPrefilter {
			run = product(run, f.exact)
			continue
		}
		all = false
		consider(dedupe(run))
		consider(f.req)
		run = []lit{{}}
		if f.exactOK {
			run = f.exact
		}
	}
	if all {
		return exactly(run...)
	}
	consider(dedupe(run))
	return facts{req: best}
}

// product concatenates every string of a with every string of b. A word
// boundary at either end is kept; one that falls between two non-empty
// strings is dropped (the prefilter checks only the ends).
func product(a, b []lit) []lit {
	out := make([]lit, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			l := lit{s: x.s + y.s, before: x.before, after: y.after}
			if x.s == "" {
				l.before = x.before || y.before
			}
			if y.s == "" {
				l.after = x.after || y.after
			}
			out = append(out, l)
		}
	}
	return out
}

// dedupe sorts ls and merges equal strings, keeping only the word
// boundaries all of them require.
func dedupe(ls []lit) []lit {
	ls = slices.Clone(ls)
	slices.SortFunc(ls, func(a, b lit) int { return strings.Compare(a.s, b.s) })
	out := ls[:0]
	for _, l := range ls {
		if n := len(out); n > 0 && out[n-1].s == l.s {
			out[n-1].before = out[n-1].before && l.before
			out[n-1].after = out[n-1].after && l.after
			continue
		}
		out = append(out, l)
	}
	return out
}

// strength says how well p filters: by its weakest literal, whose length
// counts, and each word boundary it needs as much as two more letters.
func strength(p prefilter) int {
	n := -1
	for _, l := range p {
		w := len(l.s)
		if l.before {
			w += 2
		}
		if l.after {
			w += 2
		}
		if n < 0 || w < n {
			n = w
		}
	}
	return n
}

// boundary reports whether \b holds at offset i of s (ASCII).
func boundary(s string, i int) bool { return wordAt(s, i-1) != wordAt(s, i) }

func wordAt(s string, i int) bool {
	return i >= 0 && i < len(s) && syntax.IsWordChar(rune(s[i]))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
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

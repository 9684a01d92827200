package tagging

import (
	"regexp"
	"strings"
	"testing"
)

// split is an expression and its parts, with their prefilters.
type split struct {
	expr    string
	re      *regexp.Regexp
	parts   []textPart
	filters []prefilter
}

// newSplit splits expr; nil if it does not compile or is not split.
func newSplit(expr string) *split {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil
	}
	sp := &split{expr: expr, re: re, parts: splitText(expr)}
	if sp.parts == nil {
		return nil
	}
	for _, p := range sp.parts {
		sp.filters = append(sp.filters, newPrefilter(p.re.String()))
	}
	return sp
}

// agree checks that the parts match txt exactly when the expression
// does: each part's expression, each part's anchored search, and with
// each part's own prefilter in front.
func (sp *split) agree(t *testing.T, txt string) {
	t.Helper()
	want := sp.re.MatchString(txt)
	lower, ascii := asciiLower(txt)
	anyRe, anyMatch := false, false
	for i := range sp.parts {
		p := &sp.parts[i]
		m := p.re.MatchString(txt)
		anyRe = anyRe || m
		if !ascii {
			continue
		}
		if got := p.match(txt, lower); got != m {
			t.Fatalf("part %s of %q: anchored at %q says %v on %q, the part itself %v", p.re, sp.expr, p.lit, got, txt, m)
		}
		if m && sp.filters[i] != nil && !sp.filters[i].admits(lower) {
			t.Fatalf("part %s of %q matches %q, its prefilter rejects it", p.re, sp.expr, txt)
		}
		anyMatch = anyMatch || m
	}
	if anyRe != want || ascii && anyMatch != want {
		t.Fatalf("%q on %q: whole %v, parts %v (anchored %v)", sp.expr, txt, want, anyRe, anyMatch)
	}
}

// The built-in text rules are split, most with anchored parts.
func TestSplitBuiltin(t *testing.T) {
	split, anchored := 0, 0
	for _, e := range builtinTexts(t) {
		parts := splitText(e)
		if parts != nil {
			split++
		}
		for _, p := range parts {
			if p.anchored != nil {
				anchored++
			}
		}
	}
	if split < 10 || anchored < 50 {
		t.Errorf("%d built-in expressions split, %d anchored parts", split, anchored)
	}
}

// Every built-in text rule, whole and by its parts, on texts made of
// every rule's literals, at and off word boundaries.
func TestPartsAgreeBuiltin(t *testing.T) {
	tg := builtinTagger(t)
	texts := []string{"", "Validation AUC improved from 0.91 to 0.93", "Refine the model", "re-train", "improve the f1",
		"validate the input schema", "\u212aubernetes drift", "Ünïcode drift", "mlflow\nrun", "PR-AUC roc_auc"}
	for _, l := range tg.literals.lits {
		texts = append(texts, l.s, "x"+l.s, l.s+"y", " "+l.s+" ", strings.ToUpper(l.s)+"!", "improved "+l.s, l.s+" the model")
	}
	for _, e := range builtinTexts(t) {
		sp := newSplit(e)
		if sp == nil {
			continue
		}
		for _, txt := range texts {
			sp.agree(t, txt)
		}
	}
}

// For any expression and text, the parts together match as the whole.
func FuzzParts(f *testing.F) {
	for _, e := range builtinTexts(f) {
		for _, s := range []string{"drift", "Bump deps", "re-Train the model", "the ROC-AUC (#12)", "validation of the data"} {
			f.Add(e, s)
		}
	}
	for _, e := range []string{`^(ab|cd)$`, `(?m)^(x|y)z`, `a(b|c)(d|e)\B`, `(?i)(Ka|sb)\b`, `(a|b)*c`, `\b(|x)y`, `(ab|a)(c|bc)`, `x(?i:ab|CD)y`} {
		f.Add(e, "ab\ncd xyz abc ace Kab sb")
	}
	f.Fuzz(func(t *testing.T, expr, txt string) {
		if len(expr) > 200 {
			return
		}
		if sp := newSplit(expr); sp != nil {
			sp.agree(t, txt)
		}
	})
}

// What Tag runs for a rule's text (prefilters, then the parts) says what
// the rule's expression says, for every built-in rule.
func FuzzTextMatches(f *testing.F) {
	for _, s := range []string{"Validation AUC improved from 0.91", "Refine the model", "re-Train the model", "\u212aubernetes drift",
		"the ROC-AUC (#12)", "latency p95", "validate the input", "Bump numpy"} {
		f.Add(s)
	}
	tg := builtinTagger(f)
	f.Fuzz(func(t *testing.T, txt string) {
		in := matchInput{text: txt, literals: &tg.literals}
		for i := range tg.rules {
			r := &tg.rules[i]
			if r.text == nil {
				continue
			}
			if got, want := in.textMatches(r), r.text.MatchString(txt); got != want {
				t.Fatalf("rule %s on %q: textMatches %v, its expression %v", r.id, txt, got, want)
			}
		}
	})
}

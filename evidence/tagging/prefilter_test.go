package tagging

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

// builtinTexts returns the text expressions of the built-in rules.
func builtinTexts(t testing.TB) []string {
	var out []string
	for _, r := range Builtin() {
		if r.Match.Text != "" {
			out = append(out, r.Match.Text)
		}
	}
	if len(out) == 0 {
		t.Fatal("no built-in text rule")
	}
	return out
}

// A prefilter never rejects a text its expression matches.
func TestPrefilterNeverRejectsAMatch(t *testing.T) {
	exprs := append(builtinTexts(t),
		`(?i)\bdrift\b`, `Deploy(ed)? to prod`, `a+b{2,}c`, `x|y?`, `(?i)k8s|kubernetes`, `^$`, `(?i)straße`, `(?i)security`, `(?i)kelvin`,
		// Word boundaries next to non-word characters, inside, and lost.
		`\b\(#\d+\)`, `(?i)\bc\+\+\b`, `\b-x`, `x-\b`, `(a|b)c\b`, `\bx\B`, `\b(a|)b\b`, `[ab]{2}\b`, `\b(re-?train\w*|tun(e|ing))\b`,
		`(?i)\b(p9[59]|a10g?)\b`, `ab\bcd`, `\b\b`, `(?i)\b(x|y)?z`, `(?i)\bretir(e[ds]?|ing) model`, `[\x{212A}k]elvin`, `[\x{212A}]elvin`)
	texts := []string{
		"", "Add PSI drift alert", "MONITORING dashboards", "Bump numpy to 2.1", "re-train the model",
		"Fix CVE-2024-1234 in tls setup", "scale up the hpa", "AUC and F1-score", "cut costs on spot instances",
		"nothing to see here", "Deployed to prod", "aabbc", "abbbc", "xy", "K8S", "KUBERNETES",
		"\u212aubernetes", // Kelvin sign: folds to k
		"ſecurity fix",    // long s: folds to s
		"STRASSE", "straße", "\u212aelvin",
		"fix (#12)", "x(#12)", "use c++ here", "c++11", "a-x", "ax-", "x-y", "ac", "bc.", "xy", "x y", "b", " b ", "ab",
		"retraining", "re-train", "tuning", "returned", "p95 latency", "a10g", "latency p9", "z", "xz", "x z",
	}
	// Each literal of each prefilter, alone and in context, is a text too.
	for _, e := range exprs {
		for _, l := range newPrefilter(e) {
			texts = append(texts, l.s, strings.ToUpper(l.s), "x "+l.s+" y", "("+l.s+")", "x"+l.s+"y", "_"+l.s, l.s+"9")
		}
	}
	filtered := 0
	for _, e := range exprs {
		re := regexp.MustCompile(e)
		p := newPrefilter(e)
		for _, txt := range texts {
			in := matchInput{text: txt}
			if re.MatchString(txt) && !in.textMayMatch(p) {
				t.Errorf("prefilter %v of %q rejects %q, which matches", p, e, txt)
			}
			if !in.textMayMatch(p) {
				filtered++
			}
		}
	}
	if filtered == 0 {
		t.Error("the prefilters never rejected anything: they are not in use")
	}
}

// Every built-in text rule gets a prefilter (else it costs a regexp run
// per item).
func TestBuiltinTextsHavePrefilters(t *testing.T) {
	for _, e := range builtinTexts(t) {
		if newPrefilter(e) == nil {
			t.Errorf("no prefilter for %q", e)
		}
	}
}

// The word-boundary prefilters of the built-in rules reject the words
// that merely contain a short literal ("roc" in "process", "mae" in
// "maestro"), so the expression does not run on them.
func TestPrefilterWholeWords(t *testing.T) {
	p := newPrefilter(`(?i)\b(recall|roc|auc|mae|r2)\b`)
	in := func(s string) bool { m := matchInput{text: s}; return m.textMayMatch(p) }
	for _, s := range []string{"process the queue", "because", "maestro", "r2d2", "recalled"} {
		if in(s) {
			t.Errorf("prefilter %v admits %q", p, s)
		}
	}
	for _, s := range []string{"ROC curve", "auc: 0.9", "(mae)", "r2", "recall"} {
		if !in(s) {
			t.Errorf("prefilter %v rejects %q", p, s)
		}
	}
	// Case folding puts ſ (long s) into (?i)'s classes; ASCII text cannot
	// hold it, so the class still multiplies out: "retires the model",
	// not any " the model".
	p = newPrefilter(`(?i)retir(e|es|ed|ing) the model`)
	if in("improve the model") || !in("Retires the model") {
		t.Errorf("prefilter %v", p)
	}
}

// A prefilter never rejects a text its expression matches, for any
// expression (seeded with the built-in ones) and any text.
func FuzzPrefilter(f *testing.F) {
	for _, e := range builtinTexts(f) {
		for _, s := range []string{"drift", "Bump deps", "re-Train", "\u212a8s", "the ROC-AUC (#12)"} {
			f.Add(e, s)
		}
	}
	f.Add(`\b(a|)b\b`, "b")
	f.Fuzz(func(t *testing.T, expr, txt string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		p := newPrefilter(expr)
		in := matchInput{text: txt}
		if re.MatchString(txt) && !in.textMayMatch(p) {
			t.Fatalf("prefilter %v of %q rejects %q, which matches", p, expr, txt)
		}
	})
}

// builtinTagger compiles the built-in rules against the built-in catalogue.
func builtinTagger(t testing.TB) *Tagger {
	tg, _, err := Compile(Builtin(), ksb.Builtin()[0], CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// literalsAgree checks that the one scan for every rule's literals admits
// txt for exactly the rules whose own prefilter does.
func literalsAgree(t *testing.T, tg *Tagger, txt string) {
	t.Helper()
	in := matchInput{text: txt, literals: &tg.literals}
	ref := matchInput{text: txt}
	for i := range tg.rules {
		r := &tg.rules[i]
		if got, want := in.ruleTextMayMatch(r), ref.textMayMatch(r.textFilter); got != want {
			t.Fatalf("rule %s on %q: one scan says %v, its prefilter %v says %v", r.id, txt, got, r.textFilter, want)
		}
	}
}

// The automaton of all the rules' literals gives each rule the answer of
// its own prefilter: on texts holding each literal, at and off word
// boundaries, overlapping ones, and none.
func TestLiteralsAgreeWithPrefilters(t *testing.T) {
	tg := builtinTagger(t)
	if len(tg.literals.lits) < 100 {
		t.Fatalf("only %d literals in the automaton", len(tg.literals.lits))
	}
	texts := []string{"", "nothing here", "Add PSI drift alert", "process the queue because", "ROC-AUC", "retraining pipeline",
		"monitoringmonitoring", "a10g a100 h100", "bump numpy; upgraded deps", "\u212aubernetes drift", "Ünïcode drift"}
	for _, l := range tg.literals.lits {
		texts = append(texts, l.s, "x"+l.s, l.s+"y", " "+l.s+" ", strings.ToUpper(l.s)+"!", l.s+l.s)
	}
	for _, txt := range texts {
		literalsAgree(t, tg, txt)
	}
}

func FuzzLiterals(f *testing.F) {
	for _, s := range []string{"drift", "Bump deps", "re-Train the model", "the ROC-AUC (#12)", "latency p95"} {
		f.Add(s)
	}
	tg := builtinTagger(f)
	f.Fuzz(func(t *testing.T, txt string) { literalsAgree(t, tg, txt) })
}

// An automaton too large for literals.next gives up: every literal is
// said to occur, so every expression runs and none is wrongly skipped.
func TestLiteralsTooMany(t *testing.T) {
	var a literals
	var p prefilter
	for i := range 6000 { // little shared prefix: about 10 states each
		p = append(p, lit{s: fmt.Sprintf("%x", uint64(i+1)*0x9e3779b97f4a7c15)})
	}
	a.add(p)
	a.build()
	if a.next != nil {
		t.Fatalf("automaton of %d literals built", len(a.lits))
	}
	found := make([]uint64, a.words())
	a.scan("nothing", found)
	for id := range a.lits {
		if found[id/64]&(1<<(id%64)) == 0 {
			t.Fatalf("literal %d not reported", id)
		}
	}
}

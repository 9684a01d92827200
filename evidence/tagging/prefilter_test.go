package tagging

import (
	"regexp"
	"strings"
	"testing"
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
		`(?i)\bdrift\b`, `Deploy(ed)? to prod`, `a+b{2,}c`, `x|y?`, `(?i)k8s|kubernetes`, `^$`, `(?i)straße`, `(?i)security`, `(?i)kelvin`)
	texts := []string{
		"", "Add PSI drift alert", "MONITORING dashboards", "Bump numpy to 2.1", "re-train the model",
		"Fix CVE-2024-1234 in tls setup", "scale up the hpa", "AUC and F1-score", "cut costs on spot instances",
		"nothing to see here", "Deployed to prod", "aabbc", "abbbc", "xy", "K8S", "KUBERNETES",
		"\u212aubernetes", // Kelvin sign: folds to k
		"ſecurity fix",    // long s: folds to s
		"STRASSE", "straße", "\u212aelvin",
	}
	// Each literal of each prefilter, alone and in context, is a text too.
	for _, e := range exprs {
		for _, l := range newPrefilter(e) {
			texts = append(texts, l, strings.ToUpper(l), "x "+l+" y", "("+l+")")
		}
	}
	filtered := 0
	for _, e := range exprs {
		re := regexp.MustCompile(e)
		p := newPrefilter(e)
		for _, txt := range texts {
			in := matchInput{text: txt}
			if re.MatchString(txt) && !in.textMayMatch(p) {
				t.Errorf("prefilter %q of %q rejects %q, which matches", p, e, txt)
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

func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{"drift", "Bump deps", "re-Train", "\u212a8s"} {
		f.Add(s)
	}
	exprs := builtinTexts(f)
	res := make([]*regexp.Regexp, len(exprs))
	pfs := make([]prefilter, len(exprs))
	for i, e := range exprs {
		res[i], pfs[i] = regexp.MustCompile(e), newPrefilter(e)
	}
	f.Fuzz(func(t *testing.T, txt string) {
		for i := range res {
			in := matchInput{text: txt}
			if res[i].MatchString(txt) && !in.textMayMatch(pfs[i]) {
				t.Fatalf("prefilter of %q rejects %q, which matches", exprs[i], txt)
			}
		}
	})
}

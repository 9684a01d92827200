package logs

import "testing"

// TestStemsCoverPatterns: every built-in pattern's filter words hold a
// stem, so the one-pass stem filter never hides a match.
func TestStemsCoverPatterns(t *testing.T) {
	for _, p := range builtinPatterns() {
		for _, w := range p.any {
			if stemMask([]string{w}) == 0 {
				t.Errorf("pattern %s: word %q holds no stem", p.Name, w)
			}
		}
	}
	x := newStemIndex()
	if m := x.mask("MODEL DEPLOYMENT SUCCESSFUL!"); m&stemMask([]string{"deploy"}) == 0 || m&stemMask([]string{"model"}) == 0 {
		t.Errorf("mask %b", m)
	}
	if x.mask("nothing to see") != 0 {
		t.Error("mask of a plain line")
	}
}

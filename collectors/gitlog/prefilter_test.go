package gitlog

import (
	"slices"
	"testing"
)

// TestRequiredLits: the prefilter's literals are ones every match holds,
// and the prefiltered regexp agrees with the plain one on real paths.
func TestRequiredLits(t *testing.T) {
	cases := []struct {
		expr string
		want []string
	}{
		{`(^|/)dags?/.*\.py$`, []string{"dag"}}, // the longest: "dag" and ".py" tie, the first wins
		{`\.tf$|(^|/)terragrunt\.hcl$`, []string{".tf", "terragrunt.hcl"}},
		{`(^|/)(train|training)[\w-]*\.py$`, []string{"train"}},
		{`(^|/)(serving|inference)/`, []string{"serving", "inference"}},
		{`\.ipynb$`, []string{".ipynb"}},
		{`.*`, nil},
		{`(?i)readme`, nil},
	}
	for _, c := range cases {
		if got := newPrefiltered(c.expr).lits; !slices.Equal(got, c.want) {
			t.Errorf("%s: literals %q, want %q", c.expr, got, c.want)
		}
	}
	paths := []string{"src/train.py", "dags/x.py", "infra/main.tf", "a/serving/b.py", "docs/readme.md", "x", "", "k8s/a.yaml",
		"services/amount_0/src/merchant/train_10.py", ".github/workflows/ci.yml", "requirements-dev.in"}
	for _, r := range pathRules {
		for _, p := range paths {
			if r.re.MatchString(p) != r.re.re.MatchString(p) {
				t.Errorf("%s on %q: prefiltered %v, plain %v", r.re.re, p, r.re.MatchString(p), r.re.re.MatchString(p))
			}
		}
	}
}

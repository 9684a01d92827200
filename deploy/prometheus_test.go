package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

const rulesFile = "ksbfolio-rules.yaml"

// TestRulesUseDocumentedMetrics: every metric an alert uses is in
// docs/metrics.md, and each of the four alerts is there.
func TestRulesUseDocumentedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("prometheus", rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &rf); err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			exprs["alert "+r.Alert] = r.Expr
		}
	}
	for _, a := range []string{"KsbfolioSourceStale", "KsbfolioRunFailing", "KsbfolioCoverageDown", "KsbfolioGatewayNearWithGaps"} {
		if _, ok := exprs["alert "+a]; !ok {
			t.Errorf("%s has no alert %s", rulesFile, a)
		}
	}
	checkDocumented(t, exprs)
}

// TestPromtoolRules runs Debian's promtool: check rules, and the unit
// tests of ksbfolio-rules.test.yaml.
func TestPromtoolRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		storetest.RequireOrSkip(t, "prometheus", "apt-get install -y prometheus (Debian's package provides promtool)")
	}
	for _, args := range [][]string{
		{"check", "rules", rulesFile},
		{"test", "rules", "ksbfolio-rules.test.yaml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

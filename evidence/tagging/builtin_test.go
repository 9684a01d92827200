package tagging_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
)

// knownIDs are the KSBs the built-in ST1398 v1.0 catalogue knows
// (reference/st1398-v1.0-known.yaml).
var knownIDs = strings.Fields(`K5 K7 K11 K12 K13 K14 K15 K18 K19 K28 K29
	S5 S6 S8 S9 S10 S11 S14 S16 S19 S20 S22 S26 S28 S29 S31 B1 B2 B3 B4 B5`)

func knownCatalogue() *ksb.Catalogue {
	return testCatalogue("st1398-v1.0", knownIDs...)
}

func TestBuiltinRules(t *testing.T) {
	rules := tagging.Builtin()
	if n := len(rules); n < 10 || n > 20 {
		t.Errorf("%d built-in rules, want 10 to 20", n)
	}
	if _, err := tagging.ParseRules(tagging.BuiltinName, tagging.BuiltinYAMLForTest()); err != nil {
		t.Fatalf("builtin.yaml does not parse: %v", err)
	}
	for _, r := range rules {
		if !r.Builtin || !strings.HasPrefix(r.Origin, "builtin.yaml:") {
			t.Errorf("rule %q: Builtin=%v Origin=%q", r.ID, r.Builtin, r.Origin)
		}
		if r.Confidence > 0.6 {
			t.Errorf("rule %q: confidence %v above 0.6 for a guess", r.ID, r.Confidence)
		}
		if len(r.Reason) > 90 {
			t.Errorf("rule %q: reason longer than 90 characters: %q", r.ID, r.Reason)
		}
	}
	// Every built-in rule compiles against the built-in catalogue without
	// losing a KSB.
	tg, warns, err := tagging.Compile(rules, knownCatalogue(), tagging.CompileOptions{StrictBuiltin: true})
	if err != nil {
		t.Fatalf("built-in rules against the known ST1398 KSBs: %v", err)
	}
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	if got := len(tg.RuleIDs()); got != len(rules) {
		t.Errorf("%d rules compiled, want %d", got, len(rules))
	}
	// Builtin returns a fresh copy each time.
	rules[0].KSBs[0] = "B99"
	if tagging.Builtin()[0].KSBs[0] == "B99" {
		t.Error("Builtin shares state between calls")
	}
}

// TestBuiltinAgainstSmallCatalogue: an imported catalogue that lacks some
// KSBs gets warnings, not errors, for the built-in rules.
func TestBuiltinAgainstSmallCatalogue(t *testing.T) {
	tg, warns, err := tagging.Compile(tagging.Builtin(), testCatalogue("tiny", "S10"), tagging.CompileOptions{})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if len(warns) == 0 {
		t.Error("want warnings for dropped KSBs")
	}
	want := []string{"live-monitoring", "monitoring-text", "monitoring-items"}
	if got := tg.RuleIDs(); !reflect.DeepEqual(got, want) {
		t.Errorf("RuleIDs = %v, want %v", got, want)
	}
}

// TestBuiltinSamples checks the built-in rules against realistic items,
// including near misses that must not match.
func TestBuiltinSamples(t *testing.T) {
	tg, _, err := tagging.Compile(tagging.Builtin(), knownCatalogue(), tagging.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		item evidence.Item
		want []string
	}{
		{"alert rules", commit("Add latency alert for fraud model", "", "deploy/prometheus/fraud-alerts.yaml"),
			[]string{"live-monitoring", "monitoring-text", "deploy-config"}},
		{"drift detector", commit("Add PSI drift detector", "Runs nightly against the feature store.", "src/monitoring/psi.py"),
			[]string{"live-monitoring", "monitoring-text"}},
		{"dockerfile", commit("Slim the serving image", "", "Dockerfile"), []string{"deploy-config"}},
		{"ci workflow", commit("Run tests on every push", "", ".github/workflows/ci.yml"), []string{"deploy-config"}},
		{"hpa", commit("Autoscale the scorer on CPU", "Adds an HPA with 2-10 replicas.", "k8s/hpa.yaml"),
			[]string{"deploy-config", "scaling-text"}},
		{"tests", commit("Add edge-case tests for empty baskets", "", "tests/test_features.py"), []string{"tests"}},
		{"model card", commit("Write model card", "", "docs/model_card.md"), []string{"documentation"}},
		{"readme", commit("Explain how to run locally", "", "README.md"), []string{"documentation"}},
		{"dependency bump", commit("Bump scikit-learn to 1.5.2", "", "requirements.txt"), []string{"dependency-updates"}},
		{"requirements without bump", commit("Add lightgbm", "", "requirements.txt"), []string{}},
		{"security", commit("Move DB credentials to a Kubernetes secret", "", "src/db.py"), []string{"security-text"}},
		{"fairness", commit("Report demographic parity per region", "", "src/report.py"), []string{"fairness"}},
		{"bias term is not fairness", commit("Initialise bias to zero", "", "src/model.py"), []string{}},
		{"governance", commit("Apply 90-day retention to raw events", "", "src/jobs/purge.py"), []string{"data-governance"}},
		{"changelog", commit("Release 1.4.0", "", "CHANGELOG.md"), []string{"changelog"}},
		{"mlflow", commit("Log params and metrics to MLflow", "", "train.py"), []string{"experiment-tracking"}},
		{"metrics", commit("Track recall at the decision threshold", "", "src/eval.py"), []string{"metric-choice"}},
		{"gpu", commit("Train on A100 with mixed precision", "", "train.py"), []string{"hardware"}},
		{"refactor", commit("Refactor feature pipeline", "", "src/features.py"), []string{"pipeline-rework"}},
		{"cost", commit("Use spot instances for nightly training", "Cuts cloud spend.", "infra/train.yaml"),
			[]string{"cost-sustainability"}},
		{"cost function is not cost", commit("Try a weighted cost function", "", "src/loss.py"), []string{}},
		{"plain commit", commit("Fix typo", "", "src/app.py"), []string{}},
		{"training run", evidence.Item{Kind: evidence.KindTrainingRun, SourceType: "mlflow", Title: "xgb-42"},
			[]string{"training-runs"}},
		{"deployment", evidence.Item{Kind: evidence.KindDeployment, SourceType: "logs", Title: "fraud-model v7 to prod"},
			[]string{"deployment-items"}},
		{"scaling", evidence.Item{Kind: evidence.KindScaling, SourceType: "logs", Title: "scorer 3 → 6"},
			[]string{"scaling-items"}},
		{"monitoring window", evidence.Item{Kind: evidence.KindMonitoringWindow, SourceType: "prometheus", Title: "p95 latency"},
			[]string{"monitoring-items"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := tc.item
			tg.Tag(&it)
			got := ruleIDs(it.Tags)
			gotSet := map[string]bool{}
			for _, id := range got {
				gotSet[id] = true
			}
			wantSet := map[string]bool{}
			for _, id := range tc.want {
				wantSet[id] = true
			}
			if !reflect.DeepEqual(gotSet, wantSet) {
				t.Errorf("rules = %v, want %v", got, tc.want)
			}
		})
	}
}

func ExampleTagger_Tag() {
	cat := &ksb.Catalogue{ID: "st1398-v1.0", KSBs: []ksb.KSB{
		{ID: "K12", Kind: ksb.Knowledge}, {ID: "S10", Kind: ksb.Skill}, {ID: "S16", Kind: ksb.Skill},
	}}
	user, err := tagging.ParseRules("ksb-rules.yaml", []byte(`
rules:
  - id: live-monitoring
    ksbs: [S10]
    reason: "Changes monitoring or alerting of a live model"
    confidence: 0.6
    match:
      paths: ["monitoring/**"]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	tagger, _, err := tagging.Compile(user, cat, tagging.CompileOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	it := evidence.Item{
		Kind: evidence.KindCommit, SourceType: "git", Title: "Alert on PSI drift",
		Facts: map[string]any{"files": []any{map[string]any{"path": "monitoring/psi.yaml"}}},
		Tags:  []evidence.Tag{{KSB: "k99", By: "declared:trailer", Confidence: 1, Reason: "commit trailer"}},
	}
	for _, w := range tagger.Tag(&it) {
		fmt.Println("warning:", w)
	}
	for _, tg := range it.Tags {
		fmt.Printf("%s %s %.1f %q\n", tg.KSB, tg.By, tg.Confidence, tg.Reason)
	}
	// Output:
	// warning: declared KSB K99 is not in catalogue st1398-v1.0 (kept)
	// K99 declared:trailer 1.0 "commit trailer"
	// S10 rule:live-monitoring 0.6 "Changes monitoring or alerting of a live model"
}

// TestBuiltinRulesAgainstBuiltinCatalogue uses the real built-in ST1398
// catalogue of package ksb.
func TestBuiltinRulesAgainstBuiltinCatalogue(t *testing.T) {
	var cat *ksb.Catalogue
	for _, c := range ksb.Builtin() {
		if c.ID == "st1398-v1.0" {
			cat = c
		}
	}
	if cat == nil {
		t.Fatal("ksb.Builtin has no st1398-v1.0")
	}
	tg, warns, err := tagging.Compile(tagging.Builtin(), cat, tagging.CompileOptions{StrictBuiltin: true})
	if err != nil {
		t.Fatalf("built-in rules against the built-in catalogue: %v", err)
	}
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	if got, want := len(tg.RuleIDs()), len(tagging.Builtin()); got != want {
		t.Errorf("%d rules compiled, want %d", got, want)
	}
	// The hand-made list the other tests use matches the real catalogue.
	var ids []string
	for _, k := range cat.KSBs {
		ids = append(ids, k.ID)
	}
	if !reflect.DeepEqual(ids, knownIDs) {
		t.Errorf("built-in catalogue KSBs %v, tests assume %v", ids, knownIDs)
	}
}

package mlflow_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

// TestTrainingRules checks the suggested training-run rules against the
// built-in catalogue and the corpus runs.
func TestTrainingRules(t *testing.T) {
	b, err := os.ReadFile("testdata/training-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := tagging.ParseRules("training-rules.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	// As built-in rules: the built-in catalogue of this build may lack a
	// KSB of the standard (st1398-v1.0.yaml has them all), which is then
	// dropped with a warning.
	for i := range rules {
		rules[i].Builtin = true
	}
	cat := ksb.Builtin()[0]
	if std, err := os.ReadFile(filepath.Join(corpustest.Dir(t, ""), "..", "reference", "st1398-v1.0.yaml")); err == nil {
		if c, err := ksb.Parse("st1398-v1.0.yaml", std, ksb.ImportOptions{}); err == nil {
			cat = c // the whole standard
		} else {
			t.Logf("standard does not import (%v); using the built-in catalogue", err)
		}
	}
	tagger, warns, err := tagging.Compile(rules, cat, tagging.CompileOptions{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	for _, w := range warns {
		t.Logf("compile: %s", w)
	}
	byRule := map[string]int{}
	tagAll := func(items []evidence.Item) {
		for i := range items {
			tagger.Tag(&items[i])
			seen := map[string]bool{}
			for _, tag := range items[i].Tags {
				if tag.IsRule() && !seen[tag.By] {
					seen[tag.By] = true
					byRule[tag.By[len("rule:"):]]++
				}
			}
		}
	}
	ab, _ := collectAll(t, newFile(t, corpustest.Dir(t, "mlflow-abtest/notebooks/mlruns"), nil))
	ch, _ := collectAll(t, newFile(t, corpustest.Dir(t, "churn-pipeline/mlruns"), nil))
	tagAll(ab.Items())
	tagAll(ch.Items())
	want := map[string]int{
		"run-failed":                6 + 9, // FAILED in abtest and churn (none killed)
		"run-search-trial":          30,    // GridSearchCV children
		"run-code-version":          35,    // churn runs with mlflow.source.git.commit
		"model-registered":          4,     // churn_model versions 1-4
		"run-hyperparameter-search": 0,     // set below: the distinct parents
	}
	parents := map[any]bool{}
	for _, it := range ab.Items() {
		if p, ok := it.Facts["parent_run_id"]; ok {
			parents[p] = true
		}
	}
	want["run-hyperparameter-search"] = len(parents)
	for id, n := range want {
		if byRule[id] != n {
			t.Errorf("rule %s tagged %d items, want %d", id, byRule[id], n)
		}
	}
	for _, id := range []string{"run-tracked", "run-metrics-chosen"} {
		if byRule[id] == 0 {
			t.Errorf("rule %s tagged nothing", id)
		}
	}
	if !slices.Contains(tagger.RuleIDs(), "run-hardware") || !slices.Contains(tagger.RuleIDs(), "run-dataset-identity") {
		t.Error("rules missing")
	}
}

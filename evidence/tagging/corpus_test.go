package tagging_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/collectors/mlflow"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

// TestBuiltinOnCorpusLogs collects the corpus's real logs (the churn
// pipeline's deployment and Airflow logs, a TorchServe server's logs, a
// GitHub Actions log archive) with the logs collector and tags them: every
// item of each kind gets the rules written for it, and a model a server
// merely loaded is no change record (K14).
func TestBuiltinOnCorpusLogs(t *testing.T) {
	tg, _, err := tagging.Compile(tagging.Builtin(), official(t), tagging.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	corpus := corpustest.Dir(t, "")
	c, err := logs.New(logs.Config{Name: "logs", Apprentice: "jdoe", SourceConfig: logs.SourceConfig{Paths: []string{
		filepath.Join(corpus, "churn-pipeline", "logs"),
		filepath.Join(corpus, "torchserve-logs", "logs"),
		filepath.Join(corpus, "gha-log-archive", "logs"),
	}}}, collectors.Settings{Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	s := &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), nil, s); err != nil {
		t.Fatalf("collect: %v", err)
	}
	// want: per kind (and event), rules every such item gets; never: rules
	// none of them gets.
	want := map[string][]string{
		"pipeline_run":                   {"log-pipeline-runs"},
		"ci_job":                         {"log-ci-jobs"},
		"model_version/model_registered": {"log-model-versions"},
		"model_version/model_promoted":   {"log-model-versions"},
		"incident":                       {"log-incidents"},
		"monitoring_window":              {"monitoring-items"},
		"deployment":                     {"deployment-items"},
	}
	never := map[string][]string{
		"model_version/model_loaded": {"log-model-versions", "model-registered"},
		"monitoring_window":          {"prometheus-drift-windows", "prometheus-capacity-windows"},
		"incident":                   {"prometheus-alert-incidents"},
	}
	seen := map[string]int{}
	for _, it := range s.Items() {
		key := string(it.Kind)
		if it.Kind == evidence.KindModelVersion {
			key += "/" + it.Facts["event"].(string)
		}
		seen[key]++
		tg.Tag(&it)
		got := ruleIDs(it.Tags)
		for _, r := range want[key] {
			if !slices.Contains(got, r) {
				t.Errorf("%s %q: rules %v, want %s", key, it.Title, got, r)
			}
		}
		for _, r := range never[key] {
			if slices.Contains(got, r) {
				t.Errorf("%s %q: rules %v, want no %s", key, it.Title, got, r)
			}
		}
	}
	for key := range want {
		if seen[key] == 0 {
			t.Errorf("the corpus gave no %s item", key)
		}
	}
	if seen["model_version/model_loaded"] == 0 {
		t.Error("the corpus gave no model_loaded item")
	}
	t.Logf("items by kind: %v", seen)
}

// TestBuiltinOnCorpusMLflow collects the corpus's two real MLflow stores
// (an A/B-test notebook's grid searches, the churn pipeline's runs and
// registered model) and counts the items each training-run rule tags.
func TestBuiltinOnCorpusMLflow(t *testing.T) {
	tg, _, err := tagging.Compile(tagging.Builtin(), official(t), tagging.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byRule := map[string]int{}
	runs, parents := 0, map[any]bool{}
	for _, dir := range []string{"mlflow-abtest/notebooks/mlruns", "churn-pipeline/mlruns"} {
		dir = corpustest.Dir(t, dir)
		c, err := mlflow.New(mlflow.Config{Name: "tracking", Apprentice: "jdoe", Kind: "file", Location: dir,
			SourceConfig: mlflow.SourceConfig{URI: "file://" + dir}},
			collectors.Settings{Name: "tracking", Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		s := &collectortest.Sink{}
		if _, err := c.Collect(context.Background(), nil, s); err != nil {
			t.Fatalf("collect %s: %v", dir, err)
		}
		for _, it := range s.Items() {
			if it.Kind == evidence.KindTrainingRun {
				runs++
			}
			if p, ok := it.Facts["parent_run_id"]; ok {
				parents[p] = true
			}
			tg.Tag(&it)
			for _, r := range ruleIDs(it.Tags) {
				byRule[r]++
			}
		}
	}
	t.Logf("%d runs; items per rule: %v", runs, byRule)
	want := map[string]int{
		"training-runs":    runs,
		"run-parent-runs":  len(parents), // the GridSearchCV parents, not their trials
		"run-code-version": 35,           // churn runs with mlflow.source.git.commit
		"model-registered": 4,            // churn_model versions 1-4
		// GridSearchCV trials' mean_test_score (held-out folds), 6 runs
		// with eval_*, 8 with avergae_validation_log_loss (sic)
		"run-held-out-metrics": 30 + 6 + 8,
		// trainrun.Sequence on the real runs (see the mlflow collector's
		// TestCorpusSequence): 5 + 1 beat every earlier run of their
		// experiment, 6 + 6 re-ran a failed run
		"run-refines-earlier": 5 + 1,
		"run-reruns-failed":   6 + 6,
	}
	for id, n := range want {
		if byRule[id] != n {
			t.Errorf("rule %s tagged %d items, want %d", id, byRule[id], n)
		}
	}
	if len(parents) == 0 {
		t.Error("no child runs in the corpus")
	}
}

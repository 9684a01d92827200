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

// official returns the built-in ST1398 v1.0 catalogue of package ksb: the
// official list of 70 KSBs.
func official(t testing.TB) *ksb.Catalogue {
	t.Helper()
	for _, c := range ksb.Builtin() {
		if c.ID == "st1398-v1.0" {
			return c
		}
	}
	t.Fatal("ksb.Builtin has no st1398-v1.0")
	return nil
}

func TestBuiltinRules(t *testing.T) {
	rules := tagging.Builtin()
	if n := len(rules); n < 10 || n > 80 {
		t.Errorf("%d built-in rules, want 10 to 80", n)
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
		if len(r.Reason) > 110 {
			t.Errorf("rule %q: reason longer than 110 characters: %q", r.ID, r.Reason)
		}
	}
	// Every built-in rule compiles against the official catalogue without
	// losing a KSB: every KSB a rule names exists.
	tg, warns, err := tagging.Compile(rules, official(t), tagging.CompileOptions{StrictBuiltin: true})
	if err != nil {
		t.Fatalf("built-in rules against the official ST1398 KSBs: %v", err)
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
	want := []string{"live-monitoring", "monitoring-text", "monitoring-items", "drift-files", "drift-text", "class-monitoring",
		"log-incidents", "prometheus-alert-incidents", "prometheus-drift-windows"}
	if got := tg.RuleIDs(); !reflect.DeepEqual(got, want) {
		t.Errorf("RuleIDs = %v, want %v", got, want)
	}
}

// TestBuiltinSamples checks the built-in rules against realistic items,
// including near misses that must not match.
func TestBuiltinSamples(t *testing.T) {
	tg, _, err := tagging.Compile(tagging.Builtin(), official(t), tagging.CompileOptions{})
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
			[]string{"live-monitoring", "drift-text", "feature-engineering"}},
		{"drift file", commit("Nightly job", "", "jobs/drift_report.py"), []string{"drift-files"}},
		{"dockerfile", commit("Slim the serving image", "", "Dockerfile"), []string{"deploy-config"}},
		{"ci workflow", commit("Run tests on every push", "", ".github/workflows/ci.yml"), []string{"ci-cd"}},
		{"hpa", commit("Autoscale the scorer on CPU", "Adds an HPA with 2-10 replicas.", "k8s/hpa.yaml"),
			[]string{"deploy-config", "scaling-text"}},
		{"tests", commit("Add edge-case tests for empty baskets", "", "tests/test_features.py"), []string{"tests"}},
		{"evaluation", commit("Score the holdout set", "", "src/evaluation/holdout.py"), []string{"model-evaluation"}},
		{"tuning", commit("Tune learning rate with Optuna", "", "train.py"), []string{"tuning"}},
		{"cross-validation", commit("Switch to stratified k-fold cross-validation", "", "train.py"), []string{"tuning"}},
		{"retrain", commit("Retrain baseline model on latest data", "", "train.py"), []string{"model-refinement"}},
		{"refactor is not refining a model", commit("Refactor feature pipeline", "", "src/features.py"), []string{"feature-engineering"}},
		{"model card", classed(commit("Write model card", "", "docs/model_card.md"), "documentation", "model_card"), []string{"technical-docs", "model-cards"}},
		{"readme", classed(commit("Explain how to run locally", "", "README.md"), "documentation"), []string{"technical-docs"}},
		{"readme typo earns nothing", classed(commit("Fix typos", "", "README.md")), []string{}},
		{"report", classed(commit("Quarterly results for the risk team", "", "reports/q3.md"), "documentation", "report"), []string{"technical-docs", "stakeholder-reports"}},
		{"training class", classed(commit("Add class weights", "", "src/fit.py"), "ml_code", "training"), []string{"class-training", "class-ml-code"}},
		{"serving and containers", classed(commit("Serve the scorer", "", "app/main.py", "Dockerfile"), "containers", "serving"), []string{"class-serving", "class-containers", "deploy-config"}},
		{"infrastructure", classed(commit("Add the Argo workflow", "", "workflows/retrain.yaml"), "infrastructure"), []string{"class-infrastructure"}},
		{"notebook", classed(commit("Explore seasonality", "", "notebooks/eda.ipynb"), "notebook"), []string{"class-notebook"}},
		{"pipeline", classed(commit("Nightly aggregation DAG", "", "dags/agg.py"), "data_pipeline"), []string{"class-data-pipeline"}},
		{"tracking, tuning", classed(commit("Search depth", "", "hpo/search.py"), "experiment_tracking", "hyperparameter_search"), []string{"class-experiment-tracking", "class-hyperparameter-search"}},
		{"evaluation, tests, ci", classed(commit("Holdout check", "", "src/eval_holdout.py"), "evaluation", "tests", "ci_cd"), []string{"class-evaluation", "class-tests", "class-ci-cd"}},
		{"monitoring, features", classed(commit("Scrape the scorer", "", "ops/scrape.yml"), "monitoring", "feature_engineering"), []string{"class-monitoring", "class-features"}},
		{"adr, deps, security", classed(commit("Use Feast", "", "adr/0003.md"), "decision_record", "dependencies", "security"), []string{"class-decision-record", "class-dependencies", "class-security"}},
		{"sign-off", commit("Record stakeholder sign-off for v2 handover", "", "notes.md"), []string{"stakeholder-text"}},
		{"dependency bump", commit("Bump scikit-learn to 1.5.2", "", "requirements.txt"), []string{"dependency-updates"}},
		{"requirements without bump", commit("Add lightgbm", "", "requirements.txt"), []string{}},
		{"security", commit("Move DB credentials to a Kubernetes secret", "", "src/db.py"), []string{"security-text"}},
		{"threat model", classed(commit("Threat model for the scoring API", "", "docs/threats.md"), "documentation"), []string{"security-review", "technical-docs"}},
		{"fairness", commit("Report demographic parity per region", "", "src/report.py"), []string{"fairness"}},
		{"bias term is not fairness", commit("Initialise bias to zero", "", "src/model.py"), []string{}},
		{"explanations", commit("Add SHAP explanations to the scoring report", "", "src/explain.py"), []string{"explainability"}},
		{"retention", commit("Apply 90-day retention to raw events", "", "src/jobs/purge.py"), []string{"data-lineage"}},
		{"privacy", commit("Drop PII columns before training", "", "src/clean.py"), []string{"data-privacy"}},
		{"data quality", commit("Add data quality checks with Great Expectations", "", "src/checks.py"), []string{"data-quality"}},
		{"imputation", commit("Impute missing balances with the median", "", "src/features.py"), []string{"feature-engineering"}},
		{"changelog", commit("Release 1.4.0", "", "CHANGELOG.md"), []string{"changelog"}},
		{"squash merge", commit("Add PSI monitor (#42)", "", "src/app.py"), []string{"pull-requests", "monitoring-text", "drift-text"}},
		{"merge", evidence.Item{Kind: evidence.KindMerge, SourceType: "git", Title: "Merge branch 'feature/x'"},
			[]string{"merges"}},
		{"mlflow", commit("Log params and metrics to MLflow", "", "train.py"), []string{"experiment-tracking"}},
		{"metrics", commit("Track recall at the decision threshold", "", "src/eval.py"), []string{"metric-choice"}},
		{"gpu", commit("Train on A100 with mixed precision", "", "train.py"), []string{"hardware"}},
		{"vendor api", commit("Call the OpenAI embeddings endpoint for merchant names", "", "src/names.py"), []string{"third-party-ai"}},
		{"energy", commit("Shut down idle GPUs overnight", "Cuts energy use.", "infra/train.yaml"), []string{"sustainability", "hardware"}},
		{"cost", commit("Use spot instances for nightly training", "Cuts cloud spend.", "infra/train.yaml"),
			[]string{"sustainability", "compute-cost"}},
		{"cost function is not cost", commit("Try a weighted cost function", "", "src/loss.py"), []string{}},
		{"decommission", commit("Decommission the legacy model endpoint", "", "infra/old.tf"), []string{"decommission", "deploy-config"}},
		{"plain commit", commit("Fix typo", "", "src/app.py"), []string{}},
		{"training run", evidence.Item{Kind: evidence.KindTrainingRun, SourceType: "mlflow", Title: "xgb-42"},
			[]string{"training-runs"}},
		{"deployment", evidence.Item{Kind: evidence.KindDeployment, SourceType: "logs", Title: "fraud-model v7 to prod"},
			[]string{"deployment-items"}},
		{"scaling", evidence.Item{Kind: evidence.KindScaling, SourceType: "logs", Title: "scorer 3 → 6"},
			[]string{"scaling-items"}},
		{"monitoring window", evidence.Item{Kind: evidence.KindMonitoringWindow, SourceType: "prometheus", Title: "p95 latency"},
			[]string{"monitoring-items"}},
		// training runs: facts as collectors/trainrun.Build writes them
		{"held-out metrics", run("wandb", map[string]any{"final_metrics": map[string]any{"train/loss": 0.2, "val/auc": 0.91}}),
			[]string{"training-runs", "run-held-out-metrics"}},
		{"keras val_ metric", run("tensorboard", map[string]any{"final_metrics": map[string]any{"loss": 0.3, "val_accuracy": 0.88}}),
			[]string{"training-runs", "run-held-out-metrics"}},
		{"training metrics only", run("mlflow", map[string]any{"final_metrics": map[string]any{"loss": 0.2, "latest_lr": 0.01, "interval": 3.0}}),
			[]string{"training-runs"}},
		{"parent run", run("mlflow", map[string]any{"is_parent": true, "child_run_ids": []any{"a", "b"}}),
			[]string{"training-runs", "run-parent-runs"}},
		{"child run is not the search", run("mlflow", map[string]any{"is_child": true, "parent_run_id": "p1"}),
			[]string{"training-runs"}},
		{"gpu", run("mlflow", map[string]any{"hardware": map[string]any{"gpu": "NVIDIA A10G", "host": "box"}}),
			[]string{"training-runs", "run-hardware"}},
		{"instance type", run("sagemaker", map[string]any{"hardware": map[string]any{"instance_type": "ml.g5.xlarge", "instance_count": 1}}),
			[]string{"training-runs", "run-hardware"}},
		{"host and cpus are not a hardware choice", run("mlflow", map[string]any{"hardware": map[string]any{"host": "laptop", "cpu_count": 8}}),
			[]string{"training-runs"}},
		{"dataset digest", run("mlflow", map[string]any{"datasets": []any{map[string]any{"name": "loans", "digest": "5f1c2a"}}}),
			[]string{"training-runs", "run-dataset-lineage"}},
		{"dataset named digest, no digest", run("mlflow", map[string]any{"datasets": []any{map[string]any{"name": "digest-2024", "source": "s3://b/digest"}}}),
			[]string{"training-runs"}},
		{"code version", run("mlflow", map[string]any{"git_commit": "9fceb02d0ae598e95dc970b74767f19372d61af8"}),
			[]string{"training-runs", "run-code-version"}},
		{"code version not a sha", run("mlflow", map[string]any{"git_commit": "main"}),
			[]string{"training-runs"}},
		{"failed run earns no refinement", run("mlflow", map[string]any{"status": "failed"}),
			[]string{"training-runs"}},
		{"run beats every earlier run", run("tensorboard", map[string]any{"experiment_run_number": 4, "improves_on": "version_1",
			"improvement": map[string]any{"metric": "val_loss", "direction": "min", "best": 0.21, "previous": 0.25}}),
			[]string{"training-runs", "run-refines-earlier"}},
		{"a later run that does not improve", run("mlflow", map[string]any{"experiment_run_number": 4,
			"best_metrics": map[string]any{"val_loss": 0.3}, "tags": map[string]any{"improves_on": "baseline"}}),
			[]string{"training-runs"}},
		{"finished rerun of a failed run", run("mlflow", map[string]any{"experiment_run_number": 2, "reruns_failed": "6e6359dda49c49c5923f899b0dd05fe7"}),
			[]string{"training-runs", "run-reruns-failed"}},
		{"a failed run not yet re-run", run("mlflow", map[string]any{"experiment_run_number": 1, "status": "failed",
			"params": map[string]any{"reruns_failed": "x"}}),
			[]string{"training-runs"}},
		{"a commit saying it re-ran a failed run is not a run", commit("Re-run the failed training job", "", "jobs/nightly.sh"),
			[]string{}},
		{"registered model version", evidence.Item{Kind: evidence.KindModelVersion, SourceType: "mlflow", Title: "Model fraud version 3",
			Facts: map[string]any{"model_name": "fraud", "version": "3", "stage": "Staging"}}, []string{"model-registered"}},
		// logs
		{"airflow run", evidence.Item{Kind: evidence.KindPipelineRun, SourceType: "logs", Title: "DAG nightly_etl run manual__1",
			Facts: map[string]any{"event": "pipeline_run", "orchestrator": "airflow"}}, []string{"log-pipeline-runs"}},
		{"ci job", evidence.Item{Kind: evidence.KindCIJob, SourceType: "logs", Title: "CI job test",
			Facts: map[string]any{"event": "ci_job", "ci": "github_actions", "conclusion": "success"}}, []string{"log-ci-jobs"}},
		{"ci workflow commit is not a ci job run", commit("Cache pip", "", ".github/workflows/ci.yml"), []string{"ci-cd"}},
		{"promotion in a log", evidence.Item{Kind: evidence.KindModelVersion, SourceType: "logs", Title: "Model version promoted: fraud v7",
			Facts: map[string]any{"event": "model_promoted"}}, []string{"log-model-versions"}},
		{"model loaded by a server is no change record", evidence.Item{Kind: evidence.KindModelVersion, SourceType: "logs", Title: "Model loaded: fraud v7",
			Facts: map[string]any{"event": "model_loaded"}}, []string{}},
		{"rollback", evidence.Item{Kind: evidence.KindRollback, SourceType: "logs", Title: "Rollback: fraud v7 to v6",
			Facts: map[string]any{"event": "rollback"}}, []string{"deployment-items", "log-rollbacks"}},
		{"log incident", evidence.Item{Kind: evidence.KindIncident, SourceType: "logs", Title: "Incident: 12 errors in app.log",
			Facts: map[string]any{"event": "incident", "count": 12}}, []string{"log-incidents"}},
		{"inference window from logs", evidence.Item{Kind: evidence.KindMonitoringWindow, SourceType: "logs", Title: "Served 120 inference requests",
			Facts: map[string]any{"event": "inference_window"}}, []string{"monitoring-items"}},
		// Prometheus
		{"alert fired", evidence.Item{Kind: evidence.KindIncident, SourceType: "prometheus", Title: "Alert ModelLatencyHigh fired (page)",
			Facts: map[string]any{"alertname": "ModelLatencyHigh"}}, []string{"prometheus-alert-incidents", "monitoring-text"}},
		{"drift window", evidence.Item{Kind: evidence.KindMonitoringWindow, SourceType: "prometheus", Title: "feature_psi: 2026-11-02 00:00 to 2026-11-09 00:00",
			Summary: "3 series, 504 samples: min 0.01, max 0.31, mean 0.08, last 0.12"}, []string{"monitoring-items", "prometheus-drift-windows"}},
		{"capacity window", evidence.Item{Kind: evidence.KindMonitoringWindow, SourceType: "prometheus", Title: "gpu_utilisation: 2026-11-02 00:00 to 2026-11-09 00:00"},
			[]string{"monitoring-items", "prometheus-capacity-windows"}},
		{"up window is neither drift nor capacity", evidence.Item{Kind: evidence.KindMonitoringWindow, SourceType: "prometheus", Title: "up: 2019-07-28 10:00 to 2019-07-28 16:00 (saved)",
			Summary: "1 series, 72 samples: min 1, max 1, mean 1, last 1"}, []string{"monitoring-items"}},
		{"drift words from another source", evidence.Item{Kind: evidence.KindMonitoringWindow, SourceType: "logs", Title: "Model server metrics: feature_psi"},
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

// run is a training run of sourceType with the given facts and a finished
// status (unless facts say otherwise).
func run(sourceType string, facts map[string]any) evidence.Item {
	f := map[string]any{"run_id": "r1", "status": "finished", "param_count": 2, "metric_count": 2}
	for k, v := range facts {
		f[k] = v
	}
	return evidence.Item{Kind: evidence.KindTrainingRun, SourceType: sourceType, Title: "run r1", Facts: f}
}

// classed gives a commit the classes the git collector's classifier found.
func classed(it evidence.Item, classes ...string) evidence.Item {
	cl := make([]any, len(classes))
	for i, c := range classes {
		cl[i] = c
	}
	it.Facts["classes"] = cl
	return it
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

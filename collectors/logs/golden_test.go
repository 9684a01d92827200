package logs_test

import (
	"archive/zip"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
	"github.com/ksbfolio/ksbfolio/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// collectAll runs one full collection that must succeed.
func collectAll(t *testing.T, sc logs.SourceConfig) *collectortest.Sink {
	t.Helper()
	s := &collectortest.Sink{}
	if _, err := newCollector(t, sc).Collect(context.Background(), nil, s); err != nil {
		t.Fatalf("collect: %v", err)
	}
	for _, msg := range s.Invalid() {
		t.Errorf("invalid: %s", msg)
	}
	return s
}

// goldenLines is one line per item: kind, time, title and the facts that
// linking and rules read.
func goldenLines(items []evidence.Item, kinds ...evidence.Kind) []string {
	var out []string
	for _, it := range items {
		if len(kinds) > 0 && !containsKind(kinds, it.Kind) {
			continue
		}
		line := fmt.Sprintf("%s | %s | %s", it.Kind, it.OccurredAt.Format(time.RFC3339Nano), it.Title)
		for _, k := range []string{"outcome", "mlflow_run_id", "commit", "model", "version", "count", "requests", "retries"} {
			if v, ok := it.Facts[k]; ok {
				line += fmt.Sprintf(" | %s=%v", k, v)
			}
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

func containsKind(ks []evidence.Kind, k evidence.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// checkLines compares lines with testdata/<name>.golden; -update rewrites it.
func checkLines(t *testing.T, name string, lines []string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), []byte(strings.Join(lines, "\n")+"\n"), *update)
}

func byKind(items []evidence.Item, k evidence.Kind) []evidence.Item {
	var out []evidence.Item
	for _, it := range items {
		if it.Kind == k {
			out = append(out, it)
		}
	}
	return out
}

// TestTorchServeGolden reads a real TorchServe server's logs: model
// registration, default version, loading, workers, the inference API
// coming up and the inference requests served.
func TestTorchServeGolden(t *testing.T) {
	dir := corpustest.Dir(t, "torchserve-logs/logs")
	s := collectAll(t, logs.SourceConfig{Paths: []string{dir}})
	items := s.Items()
	checkLines(t, "torchserve", goldenLines(items))

	// Each line is logged twice by TorchServe; each event is one item.
	regs := 0
	for _, it := range byKind(items, evidence.KindModelVersion) {
		if it.Facts["event"] == "model_registered" {
			regs++
			if it.Facts["model"] != "my_tc" || it.Facts["version"] != "1.0" {
				t.Errorf("registration %q has facts %v", it.Title, it.Facts)
			}
		}
	}
	if regs != 3 { // the server was started three times
		t.Errorf("%d model registrations, want 3", regs)
	}
	windows := map[string]evidence.Item{}
	for _, w := range byKind(items, evidence.KindMonitoringWindow) {
		windows[filepath.Base(w.Facts["file"].(string))] = w
	}
	access, model := windows["access_log.log"], windows["model_metrics.log"]
	if access.Facts["requests"] != float64(2) || len(windows) != 4 {
		t.Fatalf("inference windows %v", goldenLines(byKind(items, evidence.KindMonitoringWindow)))
	}
	b, ok := s.File(access.ID, "excerpt.txt")
	if !ok || !strings.Contains(string(b), `"POST /predictions/my_tc HTTP/1.1" 200`) {
		t.Errorf("window excerpt:\n%s", b)
	}
	// model_metrics.log: PredictionTime 926.56 and 905.34 ms.
	pt, _ := model.Facts["metrics"].(map[string]any)["PredictionTime{my_tc}"].(map[string]any)
	if pt["count"] != float64(2) || pt["max"] != 926.56 || pt["min"] != 905.34 || pt["unit"] != "Milliseconds" {
		t.Errorf("PredictionTime stats %v", pt)
	}
}

// TestChurnPipelineGolden reads the churn pipeline's logs: deployment.log
// becomes deployments (one failed), the Airflow task logs pipeline runs.
func TestChurnPipelineGolden(t *testing.T) {
	dir := corpustest.Dir(t, "churn-pipeline/logs")
	s := collectAll(t, logs.SourceConfig{Paths: []string{dir}})
	items := s.Items()
	checkLines(t, "churn-deployments", goldenLines(items, evidence.KindDeployment, evidence.KindModelVersion))
	checkLines(t, "churn-pipeline-runs", goldenLines(items, evidence.KindPipelineRun))

	deps := byKind(items, evidence.KindDeployment)
	failed := 0
	for _, d := range deps {
		if d.Facts["mlflow_run_id"] == nil {
			t.Errorf("deployment %s names no MLflow run", d.Title)
		}
		if d.Facts["outcome"] == "failed" {
			failed++
			if d.Facts["mlflow_run_id"] != "758f77ef4c794795bdfdff4c02503bcc" {
				t.Errorf("failed deployment: %v", d.Facts)
			}
			b, _ := s.File(d.ID, "excerpt.txt")
			if d.Facts["outcome_message"] != "Deployment failed: name 'create_prediction_script' is not defined" ||
				!strings.Contains(string(b), "Deployment failed: name 'create_prediction_script' is not defined") {
				t.Errorf("failed deployment excerpt:\n%s", b)
			}
		}
	}
	if len(deps) != 8 || failed != 1 {
		t.Errorf("%d deployments, %d failed; want 8 and 1", len(deps), failed)
	}

	runs := byKind(items, evidence.KindPipelineRun)
	if len(runs) != 37 {
		t.Errorf("%d pipeline runs, want 37 (one per run_id folder)", len(runs))
	}
	var retried evidence.Item
	for _, r := range runs {
		if strings.ContainsRune(r.Facts["run_id"].(string), '\uF03A') {
			t.Errorf("run ID %q keeps U+F03A", r.Facts["run_id"])
		}
		if r.Facts["run_id"] == "manual__2025-08-18T19:17:52.379283+00:00" {
			retried = r
		}
	}
	if retried.ID == "" || retried.Facts["retries"] != float64(1) || retried.Facts["outcome"] != "failed" {
		t.Errorf("the run with a retry: %+v", retried.Facts)
	}
}

// TestGitHubActionsGolden reads a downloaded GitHub Actions log archive
// (unpacked) as one CI job with its steps and their durations.
func TestGitHubActionsGolden(t *testing.T) {
	dir := corpustest.Dir(t, "gha-log-archive/logs")
	s := collectAll(t, logs.SourceConfig{Paths: []string{dir}})
	items := s.Items()
	if len(items) != 1 || items[0].Kind != evidence.KindCIJob {
		t.Fatalf("items: %v", goldenLines(items))
	}
	it := items[0]
	var lines []string
	lines = append(lines, goldenLines(items)...)
	for _, st := range it.Facts["steps"].([]any) {
		m := st.(map[string]any)
		lines = append(lines, fmt.Sprintf("step %v %s %vs %s", m["number"], m["name"], m["duration_seconds"], m["conclusion"]))
	}
	checkLines(t, "gha-job", lines)
	if it.Facts["commit"] != "0effa85a5f5471782d3b0d6d13607f667c670eeb" || it.Facts["workflow"] != ".github/workflows/build-paper.yml" {
		t.Errorf("facts %v", it.Facts)
	}
}

// TestGitHubActionsZip reads the same archive as downloaded, a zip: the
// same job item, read once across runs.
func TestGitHubActionsZip(t *testing.T) {
	src := corpustest.Dir(t, "gha-log-archive/logs")
	zipPath := filepath.Join(t.TempDir(), "logs_42.zip")
	zipFolder(t, src, zipPath)
	folder := collectAll(t, logs.SourceConfig{Paths: []string{src}}).Items()
	c := newCollector(t, logs.SourceConfig{Paths: []string{zipPath}})
	s := &collectortest.Sink{}
	cur, err := c.Collect(context.Background(), nil, s)
	if err != nil {
		t.Fatal(err)
	}
	zipped := s.Items()
	if len(zipped) != 1 || zipped[0].ID != folder[0].ID || zipped[0].Facts["step_count"] != folder[0].Facts["step_count"] {
		t.Fatalf("zip gave %v, folder %v", goldenLines(zipped), goldenLines(folder))
	}
	again := &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), cur, again); err != nil || len(again.Items()) != 0 {
		t.Errorf("from the cursor: %v, %v", err, goldenLines(again.Items()))
	}
}

func zipFolder(t *testing.T, dir, to string) {
	t.Helper()
	f, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAirflowRetryLater: a retry's log appearing after a collection
// re-emits that DAG run's item (same ID) with the retry counted.
func TestAirflowRetryLater(t *testing.T) {
	dir := t.TempDir()
	// The corpus stores the ":" of run IDs as U+F03A, as a Windows checkout does.
	run := "dag_id=customer_churn_pipeline/run_id=manual__2025-08-18T19\uF03A17\uF03A52.379283+00\uF03A00/task_id=dvc_pull_data/"
	copyCorpus(t, dir, map[string]string{run + "attempt=1.log": "churn-pipeline/logs/" + run + "attempt=1.log"})
	c := newCollector(t, logs.SourceConfig{Paths: []string{dir}})
	first := &collectortest.Sink{}
	cur, err := c.Collect(context.Background(), nil, first)
	if err != nil {
		t.Fatal(err)
	}
	runs := byKind(first.Items(), evidence.KindPipelineRun)
	if len(runs) != 1 || runs[0].Facts["retries"] != float64(0) {
		t.Fatalf("first: %v", goldenLines(runs))
	}
	copyCorpus(t, dir, map[string]string{run + "attempt=2.log": "churn-pipeline/logs/" + run + "attempt=2.log"})
	second := &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), cur, second); err != nil {
		t.Fatal(err)
	}
	again := byKind(second.Items(), evidence.KindPipelineRun)
	if len(again) != 1 || again[0].ID != runs[0].ID || again[0].Facts["retries"] != float64(1) || again[0].Facts["outcome"] != "failed" {
		t.Errorf("after the retry: %v", goldenLines(again))
	}
}

// TestGitHubActionsFailedStep: a step whose log has ##[error] fails the job.
func TestGitHubActionsFailedStep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs_7")
	write(t, filepath.Join(dir, "0_test.txt"), "\ufeff2026-01-05T10:00:00.0000000Z whole job\n")
	write(t, filepath.Join(dir, "test", "1_Set up job.txt"), "\ufeff2026-01-05T10:00:00.0000000Z Current runner version: '2.330.0'\n2026-01-05T10:00:02.5000000Z Complete job name: test\n")
	write(t, filepath.Join(dir, "test", "2_Run pytest.txt"), "\ufeff2026-01-05T10:00:03.0000000Z ##[group]Run pytest\n"+
		"2026-01-05T10:00:40.0000000Z FAILED tests/test_model.py::test_auc - assert 0.61 > 0.7\n"+
		"2026-01-05T10:00:41.2500000Z ##[error]Process completed with exit code 1.\n")
	s := collectAll(t, logs.SourceConfig{Paths: []string{dir}})
	items := s.Items()
	if len(items) != 1 {
		t.Fatalf("items %v", goldenLines(items))
	}
	f := items[0].Facts
	steps := f["steps"].([]any)
	last := steps[1].(map[string]any)
	if f["conclusion"] != "failure" || last["conclusion"] != "failure" || last["exit_code"] != float64(1) ||
		last["duration_seconds"] != 38.25 || f["failed_steps"].([]any)[0] != "Run pytest" {
		t.Errorf("facts %v", f)
	}
}

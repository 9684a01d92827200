package mlflow_test

import (
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/mlflow"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newFile(t testing.TB, dir string, mod func(*mlflow.SourceConfig)) *mlflow.Collector {
	t.Helper()
	sc := mlflow.SourceConfig{URI: "file://" + dir}
	if mod != nil {
		mod(&sc)
	}
	c, err := mlflow.New(mlflow.Config{Name: "tracking", Apprentice: "jdoe", SourceConfig: sc, Kind: "file", Location: dir},
		collectors.Settings{Name: "tracking", Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collectAll runs a first collection of c (collectortest.Collect).
func collectAll(t testing.TB, c collectors.Collector) (*collectortest.Sink, error) {
	t.Helper()
	s, _, err := collectortest.Collect(t, c, nil)
	return s, err
}

func byKind(s *collectortest.Sink, k evidence.Kind) []evidence.Item {
	var out []evidence.Item
	for _, it := range s.Items() {
		if it.Kind == k {
			out = append(out, it)
		}
	}
	return out
}

func TestCorpusABTest(t *testing.T) {
	dir := corpustest.Dir(t, "mlflow-abtest/notebooks/mlruns")
	s, err := collectAll(t, newFile(t, dir, nil))
	if err != nil {
		t.Fatalf("collect: %v (skips %v)", err, s.Skips())
	}
	runs := byKind(s, evidence.KindTrainingRun)
	if len(runs) != 65 {
		t.Fatalf("%d runs, want 65", len(runs))
	}
	status := map[any]int{}
	byRun := map[string]evidence.Item{}
	for _, it := range runs {
		status[it.Facts["status"]]++
		byRun[it.Origin.NativeID] = it
	}
	if status["finished"] != 58 || status["failed"] != 6 || status["running"] != 1 {
		t.Errorf("statuses %v, want 58 finished, 6 failed, 1 running", status)
	}
	// One run read field by field against its files.
	it := byRun["133ab8ea8c314699b06ad44665b1856f"]
	if it.Facts["experiment"] != "DecisionTreeClassifier_Experiment" || it.Facts["user"] != "same" {
		t.Errorf("run 133ab8ea: experiment %v user %v", it.Facts["experiment"], it.Facts["user"])
	}
	if p, _ := it.Facts["params"].(map[string]any); len(p) != 14 || p["criterion"] == nil {
		t.Errorf("run 133ab8ea: params %v, want 14 with criterion", p)
	}
	if v := it.Facts["final_metrics"].(map[string]any)["training_score"]; v != 0.851520572450805 {
		t.Errorf("run 133ab8ea: latest training_score %v, want 0.851520572450805", v)
	}
	if d := it.Facts["duration_seconds"]; d != 17.467 {
		t.Errorf("run 133ab8ea: duration %v, want 17.467", d)
	}
	// GridSearchCV: 30 child runs, each linked to a parent that is an item
	// and knows it.
	children := 0
	for _, it := range runs {
		p, ok := it.Facts["parent_run_id"].(string)
		if !ok {
			continue
		}
		children++
		parent, ok := byRun[p]
		if !ok {
			t.Errorf("run %s: parent %s is not an item", it.Origin.NativeID, p)
			continue
		}
		if len(it.Links) == 0 || it.Links[0] != (evidence.Link{Rel: "child_of", Item: parent.ID}) {
			t.Errorf("run %s: links %v, want child_of %s", it.Origin.NativeID, it.Links, parent.ID)
		}
		if parent.Facts["is_parent"] != true || !containsAny(parent.Facts["child_run_ids"], it.Origin.NativeID) {
			t.Errorf("parent %s does not list child %s", p, it.Origin.NativeID)
		}
	}
	if children != 30 {
		t.Errorf("%d child runs, want 30", children)
	}
	// Windows D:\ artifact URIs resolve inside the store.
	arts := it.Facts["mlflow"].(map[string]any)
	if arts["artifact_count"] != 7.0 {
		t.Errorf("run 133ab8ea: artifacts %v", arts)
	}
	if _, ok := s.File(it.ID, "artifacts/model/MLmodel"); !ok {
		t.Error("run 133ab8ea: MLmodel not stored")
	}
	if _, ok := s.File(it.ID, "artifacts/model/model.pkl"); !ok {
		t.Error("run 133ab8ea: model.pkl (bytes, never unpickled) not stored")
	}
}

func containsAny(list any, s string) bool {
	l, _ := list.([]any)
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestCorpusChurn(t *testing.T) {
	dir := corpustest.Dir(t, "churn-pipeline/mlruns")
	s, err := collectAll(t, newFile(t, dir, nil))
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	runs := byKind(s, evidence.KindTrainingRun)
	if len(runs) != 68 {
		t.Fatalf("%d runs, want 68", len(runs))
	}
	status := map[any]int{}
	byRun := map[string]evidence.Item{}
	logged, attachedBy := 0, map[any]int{}
	commits := 0
	for _, it := range runs {
		status[it.Facts["status"]]++
		byRun[it.Origin.NativeID] = it
		ms, _ := it.Facts["models"].([]any)
		for _, m := range ms {
			m := m.(map[string]any)
			attachedBy[m["attached_by"]]++
			if id, _ := m["id"].(string); len(id) > 2 && id[:2] == "m-" {
				logged++
				if _, ok := s.File(it.ID, "models/"+id+"/MLmodel"); !ok {
					t.Errorf("run %s: logged model %s has no MLmodel file", it.Origin.NativeID, id)
				}
			}
		}
		if sha, ok := it.Facts["git_commit"].(string); ok {
			commits++
			want := evidence.Link{Rel: "trained_from", Item: evidence.NewID("git", sha)}
			if !slicesContains(it.Links, want) {
				t.Errorf("run %s: links %v lack %v", it.Origin.NativeID, it.Links, want)
			}
		}
	}
	if status["finished"] != 59 || status["failed"] != 9 {
		t.Errorf("statuses %v, want 59 finished and 9 failed", status)
	}
	if logged != 11 || attachedBy["time"] != 11 || attachedBy["history"] != 12 {
		t.Errorf("%d logged models attached (%v), want the 11 MLflow 3 models by time and 12 from history", logged, attachedBy)
	}
	if commits != 35 {
		t.Errorf("%d runs with a git commit, want 35", commits)
	}
	// m-e980… was made 28 ms after run ec394e61… ended.
	found := false
	for _, m := range byRun["ec394e61e1b74f519b4425a2fd37998d"].Facts["models"].([]any) {
		found = found || m.(map[string]any)["id"] == "m-e980cf9c8a1246ada3d22105180cdbee"
	}
	if !found {
		t.Error("m-e980cf9c… not attached to run ec394e61…")
	}
	// Container URIs (file:///opt/airflow/…/mlruns/<run>/artifacts) resolve
	// to the run folders under the root; Windows ones whose files are not
	// in the store are reported.
	resolved, reported := 0, 0
	for _, it := range runs {
		m := it.Facts["mlflow"].(map[string]any)
		if m["artifact_count"] != nil {
			resolved++
		}
		if note, ok := m["artifacts_note"].(string); ok && note != "" {
			reported++
		}
	}
	if resolved != 12 || reported != 56 {
		t.Errorf("artifacts resolved for %d runs, reported for %d; want 12 and 56", resolved, reported)
	}
	versions := byKind(s, evidence.KindModelVersion)
	if len(versions) != 4 {
		t.Fatalf("%d model versions, want 4", len(versions))
	}
	for _, v := range versions {
		run, ok := byRun[v.Facts["run_id"].(string)]
		if !ok || len(v.Links) != 1 || v.Links[0] != (evidence.Link{Rel: "from_run", Item: run.ID}) {
			t.Errorf("version %s: links %v, run %v", v.Title, v.Links, v.Facts["run_id"])
		}
	}
}

func slicesContains(ls []evidence.Link, l evidence.Link) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

package mlflow_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/mlflow"
	"github.com/ksbfolio/ksbfolio/evidence"
)

const t0 = int64(1755536569475)

// layoutStore writes a store with every layout the file store reader
// knows, and returns its root.
func layoutStore(t testing.TB) string {
	root := filepath.Join(t.TempDir(), "mlruns")
	writeExp(t, root, "0", "Default", "")
	writeExp(t, root, "1", "churn", "")
	// 1: a finished run with nested tag keys, 2- and 3-field metric
	// lines, a declared KSB and its parent.
	writeRun(t, root, tRun{Exp: "1", ID: runID(1), Name: "parent", Start: t0, End: t0 + 5000,
		Tags: map[string]string{"mlflow.user": "jdoe", "team/owner": "fraud", "ksb": "S10, k4"}})
	writeRun(t, root, tRun{Exp: "1", ID: runID(2), Name: "child", Start: t0 + 100, End: t0 + 4000,
		Params:  map[string]string{"max_depth": "6", "opt/lr": "0.1"},
		Tags:    map[string]string{"mlflow.user": "jdoe", "mlflow.parentRunId": runID(1), "mlflow.source.git.commit": "5225820ce944c3be84cf07ac86b900c4b124d776"},
		Metrics: map[string]string{"loss": "1755536570000 0.9\n1755536571000 0.5 1\n1755536572000 0.7 2\n", "val/acc": history(5, t0, func(i int) float64 { return float64(i) / 10 })}})
	// 2: a deleted run.
	writeRun(t, root, tRun{Exp: "1", ID: runID(3), Start: t0, Lifecycle: "deleted", Status: 4})
	// 3: an experiment folder with no meta.yaml.
	writeRun(t, root, tRun{Exp: "7", ID: runID(4), Start: t0, Status: 4, Tags: map[string]string{"mlflow.user": "someone-else"}})
	// 4: a run directly under the root.
	writeRun(t, root, tRun{Exp: "1", ID: runID(5), Start: t0, AtRoot: true, Status: 1})
	// 5: a deleted experiment in .trash.
	writeExp(t, filepath.Join(root, ".trash"), "9", "old", "deleted")
	writeRun(t, filepath.Join(root, ".trash"), tRun{Exp: "9", ID: runID(6), Start: t0})
	// 6: an artefact-only folder at the root is not a run.
	write(t, filepath.Join(root, runID(7), "artifacts", "model", "MLmodel"), "flavors: {}\n")
	// 7: a Windows artifact URI whose tail is in the store.
	writeRun(t, root, tRun{Exp: "1", ID: runID(8), Start: t0,
		ArtifactURI: "file:///C:/Users/x/OneDrive%20-%20Corp/mlruns/1/" + runID(8) + "/artifacts",
		Artifacts:   map[string]string{"plots/roc.png": "png", "notes.txt": "hello"}})
	// 8: an artifact URI outside the store.
	writeRun(t, root, tRun{Exp: "1", ID: runID(9), Start: t0, ArtifactURI: "file:///etc"})
	return root
}

func TestFileStoreLayouts(t *testing.T) {
	root := layoutStore(t)
	s, err := collectAll(t, newFile(t, root, nil))
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	got := map[string]evidence.Item{}
	for _, it := range byKind(s, evidence.KindTrainingRun) {
		got[it.Origin.NativeID] = it
	}
	want := []string{runID(1), runID(2), runID(4), runID(5), runID(8), runID(9)}
	if len(got) != len(want) {
		t.Errorf("%d runs, want %d (deleted and trashed left out, artefact folder not a run)", len(got), len(want))
	}
	for _, id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("run %s missing", id)
		}
	}
	parent, child := got[runID(1)], got[runID(2)]
	if parent.Facts["tags"].(map[string]any)["team/owner"] != "fraud" {
		t.Errorf("nested tag key: tags %v", parent.Facts["tags"])
	}
	if len(parent.Tags) != 2 || parent.Tags[0].KSB != "S10" || parent.Tags[1].KSB != "K4" {
		t.Errorf("declared tags %v", parent.Tags)
	}
	if p := child.Facts["params"].(map[string]any); p["opt/lr"] != "0.1" || p["max_depth"] != "6" {
		t.Errorf("params %v", p)
	}
	loss := child.Facts["metrics"].(map[string]any)["loss"].(map[string]any)
	if loss["points"] != 3.0 || loss["final"] != 0.7 || loss["best"] != 0.5 || loss["first"] != 0.9 {
		t.Errorf("loss (2- and 3-field lines) %v", loss)
	}
	if _, ok := child.Facts["metrics"].(map[string]any)["val/acc"]; !ok {
		t.Error("nested metric key val/acc missing")
	}
	if _, ok := s.File(child.ID, "metrics.svg"); !ok {
		t.Error("no chart for a run with histories")
	}
	if !containsAny(parent.Facts["child_run_ids"], runID(2)) {
		t.Errorf("parent's children %v", parent.Facts["child_run_ids"])
	}
	if e := got[runID(4)]; e.Facts["experiment"] != "7" || e.Facts["status"] != "failed" {
		t.Errorf("experiment without meta.yaml: %v %v", e.Facts["experiment"], e.Facts["status"])
	}
	if e := got[runID(5)]; e.Facts["experiment"] != "churn" || e.Facts["status"] != "running" || e.Facts["ended_at"] != nil {
		t.Errorf("run at the root: %v", e.Facts)
	}
	win := got[runID(8)]
	if win.Facts["mlflow"].(map[string]any)["artifact_count"] != 2.0 {
		t.Errorf("Windows artifact URI not resolved: %v", win.Facts["mlflow"])
	}
	if b, ok := s.File(win.ID, "artifacts/notes.txt"); !ok || string(b) != "hello" {
		t.Errorf("artefact notes.txt: %q %v", b, ok)
	}
	out := got[runID(9)].Facts["mlflow"].(map[string]any)
	if note, _ := out["artifacts_note"].(string); !strings.Contains(note, "nothing outside it is read") || out["artifact_count"] != nil {
		t.Errorf("artifact URI outside the store: %v", out)
	}

	// include_deleted brings back the deleted run and the trashed experiment.
	s, err = collectAll(t, newFile(t, root, func(sc *mlflow.SourceConfig) { sc.IncludeDeleted = true }))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, it := range s.Items() {
		ids[it.Origin.NativeID] = true
	}
	if !ids[runID(3)] || !ids[runID(6)] {
		t.Errorf("include_deleted: deleted %v, trashed %v", ids[runID(3)], ids[runID(6)])
	}

	// Filters: users and experiments.
	s, _ = collectAll(t, newFile(t, root, func(sc *mlflow.SourceConfig) { sc.Users = []string{"someone-else"} }))
	if n := len(s.Items()); n != 1 {
		t.Errorf("users filter kept %d items, want 1", n)
	}
	s, _ = collectAll(t, newFile(t, root, func(sc *mlflow.SourceConfig) { sc.Experiments = []string{"churn"} }))
	if n := len(s.Items()); n != 5 {
		t.Errorf("experiments filter (by name) kept %d items, want 5", n)
	}
}

// TestFileStoreNeverLeaves checks that symbolic links out of the store
// are not followed and that FIFOs are not opened (which would hang).
func TestFileStoreNeverLeaves(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	outside := filepath.Join(t.TempDir(), "secret")
	write(t, filepath.Join(outside, "id_rsa"), "PRIVATE")
	writeExp(t, root, "1", "e", "")
	d1 := writeRun(t, root, tRun{Exp: "1", ID: runID(1), Start: t0, Params: map[string]string{"a": "1"}})
	if err := os.Symlink(outside, filepath.Join(d1, "artifacts")); err != nil {
		t.Fatal(err)
	}
	d2 := writeRun(t, root, tRun{Exp: "1", ID: runID(2), Start: t0, Params: map[string]string{"b": "2"}, Artifacts: map[string]string{"ok.txt": "ok"}})
	if err := os.Symlink(filepath.Join(outside, "id_rsa"), filepath.Join(d2, "artifacts", "key")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "id_rsa"), filepath.Join(d2, "params", "leak")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(d2, "params", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := collectAll(t, newFile(t, root, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range s.Items() {
		for name := range it.Facts["params"].(map[string]any) {
			if name == "leak" || name == "fifo" {
				t.Errorf("run %s: param %s read", it.Origin.NativeID, name)
			}
		}
		for _, name := range []string{"artifacts/id_rsa", "artifacts/key"} {
			if _, ok := s.File(it.ID, name); ok {
				t.Errorf("run %s: %s read from outside the store", it.Origin.NativeID, name)
			}
		}
	}
}

func TestFileStoreMalformedMetric(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	writeExp(t, root, "1", "e", "")
	writeRun(t, root, tRun{Exp: "1", ID: runID(1), Start: t0, Metrics: map[string]string{"loss": "1 0.5 0\nnot a line at all\n2 0.4 1\n"}})
	s, err := collectAll(t, newFile(t, root, nil))
	var pe *collectors.PartialError
	if !errorsAs(err, &pe) || pe.Failed != 1 || len(s.Skips()) != 1 {
		t.Fatalf("collect: %v, skips %v; want one counted skip", err, s.Skips())
	}
	it := s.Items()[0]
	if m := it.Facts["metrics"].(map[string]any)["loss"].(map[string]any); m["points"] != 2.0 {
		t.Errorf("good lines not kept: %v", m)
	}
}

func TestFileStoreMissing(t *testing.T) {
	c := newFile(t, filepath.Join(t.TempDir(), "nope"), nil)
	_, err := c.Collect(t.Context(), nil, &collectortest.Sink{})
	if !errorsIs(err, collectors.ErrSourceMissing) {
		t.Errorf("missing store: %v, want ErrSourceMissing", err)
	}
}

func TestConformanceFileStore(t *testing.T) {
	root := layoutStore(t)
	collectortest.Check(t, collectortest.Fixture{
		New:  func(t testing.TB) collectors.Collector { return newFile(t, root, nil) },
		Dirs: []string{root},
		Grow: func(t testing.TB) {
			writeRun(t, root, tRun{Exp: "1", ID: runID(100), Start: t0 + 9999, Tags: map[string]string{"ksb": "S1"}})
		},
		MinItems: 6,
		Declared: true,
	})
}

// TestFileStoreDigitRunID reads a run whose ID is all digits, written
// unquoted (YAML reads it as a number).
func TestFileStoreDigitRunID(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	writeExp(t, root, "1", "e", "")
	id := "00000000000000000000000000000042"
	writeRun(t, root, tRun{Exp: "1", ID: id, Start: t0})
	s, err := collectAll(t, newFile(t, root, nil))
	if err != nil || len(s.Items()) != 1 || s.Items()[0].Origin.NativeID != id {
		t.Fatalf("collect: %v, items %v", err, s.IDs())
	}
}

package wandb_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/collectors/wandb"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/config/configtest"
)

// testdata/project is a project folder with a wandb/ folder written by
// hand in the shapes the W&B client writes (files/config.yaml with and
// without desc, wandb-summary.json, wandb-metadata.json from 0.16 and
// 0.19 clients), a run resumed in two sessions, a run that crashed before
// logging, the latest-run symlink and debug logs.

var fixedNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newCollector(t testing.TB, dir string) collectors.Collector {
	t.Helper()
	c, err := wandb.New(wandb.Config{Name: "wandb-runs", Path: dir, Apprentice: "jdoe"},
		collectors.Settings{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// copyTree copies testdata/project into a temporary folder.
func copyTree(t testing.TB) string {
	dst := filepath.Join(t.TempDir(), "project")
	collectortest.CopyDir(t, filepath.Join("testdata", "project"), dst)
	return dst
}

func byID(items []evidence.Item) map[string]evidence.Item {
	out := map[string]evidence.Item{}
	for _, it := range items {
		out[it.Origin.NativeID] = it
	}
	return out
}

func TestRuns(t *testing.T) {
	dir := copyTree(t)
	if err := os.MkdirAll(filepath.Join(dir, "wandb", "offline-run-20240307_080000-empty001", "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	runs := byID(s.Items())
	if len(runs) != 3 {
		t.Fatalf("%d runs %v, want a1b2c3d4, zz9k3m1q, crash001", len(runs), s.IDs())
	}
	a := runs["a1b2c3d4"]
	f := a.Facts
	params := f["params"].(map[string]any)
	for k, want := range map[string]string{"learning_rate": "0.001", "epochs": "20", "batch_size": "64",
		"optimizer.name": "adamw", "optimizer.weight_decay": "0.01", "layers": "[128,64]"} {
		if params[k] != want {
			t.Errorf("param %s = %v, want %s", k, params[k], want)
		}
	}
	if _, ok := params["_wandb"]; ok || len(params) != 6 {
		t.Errorf("params %v", params)
	}
	final := f["final_metrics"].(map[string]any)
	if final["val/accuracy"] != 0.9132 || final["train/loss"] != 0.2143 || final["epoch"] != 19.0 || len(final) != 4 {
		t.Errorf("final metrics %v (the confusion image and _ keys are not metrics)", final)
	}
	hw := f["hardware"].(map[string]any)
	if hw["host"] != "gpu-box-01" || hw["gpu"] != "NVIDIA GeForce RTX 3090" || hw["gpu_count"] != 1.0 || hw["cpu_count"] != 8.0 {
		t.Errorf("hardware %v", hw)
	}
	if f["git_commit"] != "3f2c1a9be07d4c5e8a1b2c3d4e5f60718293a4b5" || f["source_name"] != "train.py" || f["user"] != "jane" ||
		f["experiment"] != "fraud-model" || f["run_name"] != "xgb-baseline" || f["status"] != "finished" {
		t.Errorf("facts %v", f)
	}
	wantLink := evidence.Link{Rel: trainrun.RelTrainedFrom, Item: trainrun.CommitItemID("3f2c1a9be07d4c5e8a1b2c3d4e5f60718293a4b5")}
	if len(a.Links) != 1 || a.Links[0] != wantLink {
		t.Errorf("links %v, want %v", a.Links, wantLink)
	}
	if !a.OccurredAt.Equal(time.Date(2024, 3, 1, 10, 15, 0, 512345000, time.UTC)) || f["duration_seconds"] != 1199.74 {
		t.Errorf("occurred %v, duration %v", a.OccurredAt, f["duration_seconds"])
	}
	// From the run log: the history, the metric goals, the declared KSBs.
	vl := f["metrics"].(map[string]any)["val/loss"].(map[string]any)
	if vl["points"] != 20.0 || vl["direction"] != "min" || vl["first"] != 0.7 || vl["final"] != 0.2871 {
		t.Errorf("val/loss from the history: %v", vl)
	}
	var ksbs []string
	for _, tag := range a.Tags {
		if tag.By == "declared:run-tag" {
			ksbs = append(ksbs, tag.KSB)
		}
	}
	if strings.Join(ksbs, ",") != "S10,K4" {
		t.Errorf("declared KSBs %v (tag ksb:S10, K4)", a.Tags)
	}
	if svg, ok := s.File(a.ID, trainrun.ChartName); !ok || !strings.Contains(string(svg), "val/loss") {
		t.Error("no chart of the history")
	}
	w := f["wandb"].(map[string]any)
	if w["client_version"] != "0.16.3" || w["framework"] != "torch" || w["offline"] != true || w["cuda"] != "12.2" ||
		w["exit_code"] != 0.0 || w["notes_truncated"] != true || w["group"] != "xgb-vs-mlp" {
		t.Errorf("wandb facts %v", w)
	}
	whole, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"jane@corp.example", "--epochs", "/home/jane"} {
		if strings.Contains(string(whole), leak) {
			t.Errorf("item keeps %q", leak)
		}
	}

	// The resumed run: latest session's params and summary, first start.
	b := runs["zz9k3m1q"]
	if b.Facts["params"].(map[string]any)["lr"] != "0.005" || b.Facts["final_metrics"].(map[string]any)["accuracy"] != 0.9677 ||
		b.Facts["status"] != "failed" || b.Facts["metrics"].(map[string]any)["loss"].(map[string]any)["points"] != 30.0 ||
		b.Facts["git_commit"] != strings.Repeat("b", 40) || b.Facts["wandb"].(map[string]any)["sessions"] != 2.0 {
		t.Errorf("resumed run facts %v", b.Facts)
	}
	if !b.OccurredAt.Equal(time.Date(2024, 3, 5, 9, 0, 0, 1000, time.UTC)) {
		t.Errorf("resumed run starts %v", b.OccurredAt)
	}
	if hw := b.Facts["hardware"].(map[string]any); hw["host"] != "ip-10-0-1-99" || hw["gpu"] != "Tesla T4" {
		t.Errorf("resumed run hardware %v", hw)
	}
	// The crashed run: metadata only.
	if c := runs["crash001"]; c.Facts["status"] != "unknown" || c.Facts["metric_count"] != 0.0 || c.Facts["experiment"] != "project" {
		t.Errorf("crashed run %v", c.Facts)
	}
}

// TestDamagedRun: an unparsable summary skips its run (counted) and the
// others are collected; the skipped run is read again next time.
func TestDamagedRun(t *testing.T) {
	dir := copyTree(t)
	p := filepath.Join(dir, "wandb", "offline-run-20240301_101500-a1b2c3d4", "files", "wandb-summary.json")
	if err := os.WriteFile(p, []byte(`{"loss": 0.2, `), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, dir)
	s, cur, err := collectortest.Collect(t, c, nil)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) || pe.Failed != 1 || len(s.Items()) != 2 {
		t.Fatalf("%d items, %v", len(s.Items()), err)
	}
	if sk := s.Skips(); len(sk) != 1 || !strings.Contains(sk[0].Reason, "wandb-summary.json") {
		t.Errorf("skips %v", sk)
	}
	if err := os.WriteFile(p, []byte(`{"loss": 0.2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	again, _, err := collectortest.Collect(t, c, cur)
	if err != nil || len(again.Items()) != 1 || again.Items()[0].Origin.NativeID != "a1b2c3d4" {
		t.Fatalf("after the fix: %v, %v", again.IDs(), err)
	}
}

// TestSymlinkNotFollowed: a run file that is a symlink (here to a file
// outside the run) is not read; it is reported and counted.
func TestSymlinkNotFollowed(t *testing.T) {
	dir := copyTree(t)
	secret := filepath.Join(t.TempDir(), "secrets.yaml")
	if err := os.WriteFile(secret, []byte("api_key:\n  value: s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "wandb", "offline-run-20240301_101500-a1b2c3d4", "files", "config.yaml")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, p); err != nil {
		t.Fatal(err)
	}
	s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) || pe.Failed != 1 {
		t.Fatalf("err %v", err)
	}
	for _, it := range s.Items() {
		if b, _ := json.Marshal(it); strings.Contains(string(b), "s3cr3t") {
			t.Errorf("item %s read through the symlink", it.Origin.NativeID)
		}
	}
}

// TestWandbFolderAsPath: path may name wandb/ itself.
func TestWandbFolderAsPath(t *testing.T) {
	s, _, err := collectortest.Collect(t, newCollector(t, filepath.Join("testdata", "project", "wandb")), nil)
	if err != nil || len(s.Items()) != 3 || byID(s.Items())["crash001"].Facts["experiment"] != "project" {
		t.Fatalf("%d items, %v", len(s.Items()), err)
	}
	_, _, err = collectortest.Collect(t, newCollector(t, filepath.Join(t.TempDir(), "none")), nil)
	if !errors.Is(err, collectors.ErrSourceMissing) {
		t.Errorf("missing folder: %v", err)
	}
}

func TestConformance(t *testing.T) {
	dir := copyTree(t)
	collectortest.Check(t, collectortest.Fixture{
		New:  func(t testing.TB) collectors.Collector { return newCollector(t, dir) },
		Dirs: []string{dir},
		Grow: func(t testing.TB) {
			f := filepath.Join(dir, "wandb", "offline-run-20240310_100000-new00001", "files")
			if err := os.MkdirAll(f, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(f, "wandb-summary.json"), []byte(`{"loss": 0.1, "_step": 3, "_timestamp": 1710064800}`), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		MinItems: 3,
		Declared: true,
	})
}

func TestREADMESampleConfig(t *testing.T) {
	srcs := configtest.SampleConfig(t, "README.md", wandb.SourceType, registry.Default())
	sc, ok := srcs[0].Config.(*wandb.SourceConfig)
	if !ok {
		t.Fatalf("config is %T", srcs[0].Config)
	}
	if abs, _ := filepath.Abs("fraud-model"); sc.Path != abs {
		t.Errorf("path %q", sc.Path)
	}
}

// TestRunLogDamage: a flipped byte in a run log costs the rest of its
// block (counted, the run still emitted); a truncated log (a run still
// writing) is not a failure; a file that is not a run log is counted.
func TestRunLogDamage(t *testing.T) {
	logPath := func(dir string) string {
		return filepath.Join(dir, "wandb", "offline-run-20240301_101500-a1b2c3d4", "run-a1b2c3d4.wandb")
	}
	points := func(t *testing.T, s *collectortest.Sink) float64 {
		t.Helper()
		a := byID(s.Items())["a1b2c3d4"]
		return a.Facts["metrics"].(map[string]any)["val/loss"].(map[string]any)["points"].(float64)
	}
	t.Run("flipped byte", func(t *testing.T) {
		dir := copyTree(t)
		b, err := os.ReadFile(logPath(dir))
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-300] ^= 0x01
		if err := os.WriteFile(logPath(dir), b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
		var pe *collectors.PartialError
		if !errors.As(err, &pe) || pe.Failed != 1 || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("err %v", err)
		}
		if n := points(t, s); n <= 0 || n >= 20 {
			t.Errorf("%v points kept of 20", n)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		dir := copyTree(t)
		b, _ := os.ReadFile(logPath(dir))
		if err := os.WriteFile(logPath(dir), b[:len(b)-5], 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
		if err != nil {
			t.Fatalf("a run log still being written failed the collection: %v", err)
		}
		if a := byID(s.Items())["a1b2c3d4"]; a.Facts["status"] != "unknown" || points(t, s) != 20 {
			t.Errorf("status %v (the exit record was cut), %v points", a.Facts["status"], points(t, s))
		}
	})
	t.Run("not a run log", func(t *testing.T) {
		dir := copyTree(t)
		if err := os.WriteFile(logPath(dir), []byte("PK\x03\x04 a zip file"), 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, err := collectortest.Collect(t, newCollector(t, dir), nil)
		var pe *collectors.PartialError
		if !errors.As(err, &pe) || pe.Failed != 1 || len(s.Items()) != 3 {
			t.Fatalf("%d items, %v", len(s.Items()), err)
		}
	})
}

package main

import (
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

// TestRunTrainingSources: `ksbfolio run` with a tensorboard and a wandb
// source stores every run as a training_run item, its chart as an
// artefact, and a second run adds nothing.
func TestRunTrainingSources(t *testing.T) {
	dir := t.TempDir()
	collectortest.CopyDir(t, corpustest.Dir(t, "tensorboard-lightning"), filepath.Join(dir, "tb"))
	collectortest.CopyDir(t, filepath.Join("..", "..", "collectors", "wandb", "testdata", "project"), filepath.Join(dir, "fraud-model"))
	cfg := filepath.Join(dir, "ksbfolio.yaml")
	writeFile(t, cfg, `apprentice: {id: jane, name: Jane Doe, emails: [jane@corp.example]}
standard: st1398-v1.0
sources:
  - {name: experiments, type: tensorboard, path: ./tb}
  - {name: wandb-runs, type: wandb, path: ./fraud-model}
`)
	mustCode(t, cli(t, "-c", cfg, "run"), exitOK)
	items := itemsJSON(t, cfg)
	bySource := map[string]int{}
	charts := 0
	for _, it := range items {
		if it.Kind != evidence.KindTrainingRun {
			t.Errorf("item %s is a %s", it.ID, it.Kind)
		}
		bySource[it.SourceType]++
		for _, a := range it.Artefacts {
			if a.Name == trainrun.ChartName && evidence.ValidSHA256(a.SHA256) && a.MediaType == "image/svg+xml" {
				charts++
			}
		}
	}
	if bySource["tensorboard"] != 4 || bySource["wandb"] != 3 {
		t.Errorf("items by source %v, want 4 tensorboard and 3 wandb", bySource)
	}
	if charts != 6 { // every run with a curve: 4 Lightning runs, 2 W&B runs with a history
		t.Errorf("%d charts stored, want 6", charts)
	}
	mustCode(t, cli(t, "-c", cfg, "run"), exitOK)
	if again := itemsJSON(t, cfg); len(again) != len(items) {
		t.Errorf("second run: %d items, then %d", len(items), len(again))
	}
}

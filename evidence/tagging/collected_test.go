package tagging_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
)

// TestBuiltinOnTrainingRunItems tags items made by trainrun.Build, the
// builder every training-run collector uses, after a JSON round trip as the
// ledger stores them: the training-run rules match the facts the collectors
// really write, and not a run that lacks them.
func TestBuiltinOnTrainingRunItems(t *testing.T) {
	tg, _, err := tagging.Compile(tagging.Builtin(), official(t), tagging.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	pts := func(vs ...float64) []trainrun.Point {
		var out []trainrun.Point
		for i, v := range vs {
			out = append(out, trainrun.Point{Step: int64(i), Value: v})
		}
		return out
	}
	full := trainrun.Run{
		SourceType: "mlflow", NativeID: "parent1", Name: "xgb-search", Experiment: "fraud",
		Status: trainrun.StatusFinished, StartTime: start, EndTime: start.Add(time.Hour),
		Params:    map[string]string{"max_depth": "6"},
		Metrics:   []trainrun.Metric{{Key: "train_loss", Points: pts(0.5, 0.3)}, {Key: "val_auc", Points: pts(0.8, 0.9)}},
		Datasets:  []trainrun.Dataset{{Name: "loans", Digest: "5f1c2a9e", Context: "training"}},
		Hardware:  trainrun.Hardware{Host: "gpu-box", GPU: "NVIDIA A10G", GPUCount: 1},
		ChildIDs:  []string{"trial1", "trial2"},
		GitCommit: "9fceb02d0ae598e95dc970b74767f19372d61af8",
	}
	bare := trainrun.Run{
		SourceType: "tensorboard", NativeID: "logs/run1", Status: trainrun.StatusFailed, StartTime: start,
		Metrics:  []trainrun.Metric{{Key: "loss", Points: pts(0.9, 0.7)}},
		Hardware: trainrun.Hardware{Host: "laptop", CPUCount: 8},
		ParentID: "parent0",
	}
	for _, tc := range []struct {
		name string
		run  trainrun.Run
		want []string
	}{
		{"everything recorded", full, []string{"run-code-version", "run-dataset-lineage", "run-hardware",
			"run-held-out-metrics", "run-parent-runs", "training-runs"}},
		{"a failed child run with training loss only", bare, []string{"training-runs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			em, err := trainrun.Build(tc.run, trainrun.Meta{Apprentice: "jdoe", Source: "runs", CollectedAt: start})
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(em.Item)
			if err != nil {
				t.Fatal(err)
			}
			var it evidence.Item
			if err := json.Unmarshal(b, &it); err != nil {
				t.Fatal(err)
			}
			tg.Tag(&it)
			got := ruleIDs(it.Tags)
			slices.Sort(got)
			got = slices.Compact(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("rules = %v, want %v (facts %s)", got, tc.want, b)
			}
		})
	}
}

package trainrun_test

import (
	"fmt"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
)

// A collector fills a Run with what its source knows and builds the
// emission; the facts have the same names whatever the source.
func ExampleBuild() {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	run := trainrun.Run{
		SourceType: "tensorboard", NativeID: "lightning_logs/version_17", Name: "version_17",
		Status: trainrun.StatusFinished, StartTime: start, EndTime: start.Add(90 * time.Second),
		Params: map[string]string{"lr": "0.001"},
		Metrics: []trainrun.Metric{{Key: "val_loss", Points: []trainrun.Point{
			{Step: 0, Value: 0.9}, {Step: 1, Value: 0.4}, {Step: 2, Value: 0.5}}}},
		GitCommit: "5225820ce944c3be84cf07ac86b900c4b124d776",
	}
	e, err := trainrun.Build(run, trainrun.Meta{Apprentice: "jdoe", Source: "lightning", CollectedAt: start})
	if err != nil {
		fmt.Println(err)
		return
	}
	loss := e.Item.Facts["metrics"].(map[string]any)["val_loss"].(map[string]any)
	fmt.Println(e.Item.Kind, e.Item.Facts["status"], e.Item.Facts["duration_seconds"])
	fmt.Println("final", loss["final"], "best", loss["best"], "at step", loss["best_step"], loss["direction"])
	fmt.Println(e.Item.Links[0].Rel, e.Files[0].Name)
	// Output:
	// training_run finished 90
	// final 0.5 best 0.4 at step 1 min
	// trained_from metrics.svg
}

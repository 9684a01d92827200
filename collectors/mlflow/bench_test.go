package mlflow_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
)

// discard drops what it is given (the pipeline's own costs are not the
// collector's).
type discard struct{}

func (discard) Emit(context.Context, collectors.Emission) error { return nil }
func (discard) Skip(collectors.Skipped)                         {}
func (discard) Warn(string)                                     {}

// BenchmarkCollectFileStore collects a file store of 1,000 runs with
// 100-point histories of 4 metrics. It runs only with -bench; the
// 10,000-run comparison with cat is scripts/bench-mlflow.sh.
func BenchmarkCollectFileStore(b *testing.B) {
	root := filepath.Join(b.TempDir(), "mlruns")
	writeExp(b, root, "1", "bench", "")
	for i := range 1000 {
		m := map[string]string{}
		for j, k := range []string{"loss", "val_loss", "accuracy", "val_accuracy"} {
			m[k] = history(100, t0, func(s int) float64 { return math.Exp(-float64(s)/30) + float64(j)/10 })
		}
		writeRun(b, root, tRun{Exp: "1", ID: runID(i), Start: t0 + int64(i), End: t0 + int64(i) + 5000,
			Params: map[string]string{"lr": "0.1", "depth": fmt.Sprint(i % 7)}, Tags: map[string]string{"mlflow.user": "jdoe"}, Metrics: m})
	}
	c := newFile(b, root, nil)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Collect(context.Background(), nil, discard{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "runs/s")
}

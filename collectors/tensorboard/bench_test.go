package tensorboard

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadRun reads one run folder of scalar events (the worst case
// per byte: many small records). It is not part of the default go test;
// scripts/bench-tensorboard.sh compares whole collections with sha256sum.
func BenchmarkReadRun(b *testing.B) {
	dir := b.TempDir()
	var data []byte
	for step := int64(1); len(data) < 8<<20; step++ {
		vals := [][]byte{simpleValue("train/loss", float32(1/math.Sqrt(float64(step)))), simpleValue("train/acc", 0.5)}
		if step%5 == 0 {
			vals = append(vals, simpleValue("val/loss", 0.3), simpleValue("val/acc", 0.7), simpleValue("lr", 1e-3))
		}
		data = appendRecord(data, eventMsg(1700000000+float64(step), step, vals...))
	}
	if err := os.WriteFile(filepath.Join(dir, "events.out.tfevents.1.h"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	rds, err := discoverRuns(context.Background(), dir, func(string, string) {})
	if err != nil || len(rds) != 1 {
		b.Fatal(rds, err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := readRun(context.Background(), rds[0]); err != nil {
			b.Fatal(err)
		}
	}
}

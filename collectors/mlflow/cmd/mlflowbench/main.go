// Command mlflowbench writes a synthetic MLflow file store and times one
// full Collect of it. Used by scripts/bench-mlflow.sh.
//
//	mlflowbench -gen DIR [-runs 10000] [-points 100]   write the store
//	mlflowbench -store DIR [-cpuprofile F]             collect it
//
// Collecting prints "seconds=<s> items=<n> skipped=<n> files=<n>"; every
// file an item carries (its chart, its artefacts) is read, as the pipeline
// reads them to hash them.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/mlflow"
)

type drainSink struct{ items, skips, files int }

func (s *drainSink) Emit(_ context.Context, e collectors.Emission) error {
	s.items++
	for _, f := range e.Files {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
		s.files++
	}
	return nil
}
func (s *drainSink) Skip(collectors.Skipped) { s.skips++ }
func (s *drainSink) Warn(string)             {}

func main() {
	var (
		gen     = flag.String("gen", "", "write a synthetic store here")
		runs    = flag.Int("runs", 10000, "runs to write")
		points  = flag.Int("points", 100, "points per metric history")
		store   = flag.String("store", "", "file store to collect")
		cpuprof = flag.String("cpuprofile", "", "write a CPU profile here")
	)
	flag.Parse()
	switch {
	case *gen != "":
		if err := generate(*gen, *runs, *points); err != nil {
			fmt.Fprintln(os.Stderr, "mlflowbench:", err)
			os.Exit(1)
		}
	case *store != "":
		if err := collect(*store, *cpuprof); err != nil {
			fmt.Fprintln(os.Stderr, "mlflowbench:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "mlflowbench: give -gen DIR or -store DIR")
		os.Exit(2)
	}
}

func collect(dir, cpuprof string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	c, err := mlflow.New(mlflow.Config{Name: "bench", Apprentice: "bench", Kind: "file", Location: abs,
		SourceConfig: mlflow.SourceConfig{URI: "file://" + abs}}, collectors.Settings{Name: "bench"})
	if err != nil {
		return err
	}
	if cpuprof != "" {
		f, err := os.Create(cpuprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s := &drainSink{}
	start := time.Now()
	_, err = c.Collect(ctx, nil, s)
	secs := time.Since(start).Seconds()
	if err != nil {
		return fmt.Errorf("collect: %w", err)
	}
	fmt.Printf("seconds=%.3f items=%d skipped=%d files=%d\n", secs, s.items, s.skips, s.files)
	return nil
}

// generate writes runs runs over 10 experiments, each with a meta.yaml, 5
// params, 5 tags and 4 metrics of points lines, as MLflow 2.x writes them.
func generate(root string, runs, points int) error {
	w := func(p, content string) error {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o644)
	}
	const exps = 10
	t0 := int64(1755536569475)
	for e := range exps {
		id := strconv.Itoa(e + 1)
		if err := w(filepath.Join(root, id, "meta.yaml"), fmt.Sprintf("artifact_location: file://%s/%s\ncreation_time: %d\nexperiment_id: '%s'\nlast_update_time: %d\nlifecycle_stage: active\nname: experiment-%s\n", root, id, t0, id, t0, id)); err != nil {
			return err
		}
	}
	buf := make([]byte, 0, 64*points)
	for i := range runs {
		exp := strconv.Itoa(i%exps + 1)
		rid := fmt.Sprintf("%032x", 0xbe0000+i)
		dir := filepath.Join(root, exp, rid)
		start := t0 + int64(i)*60000
		meta := fmt.Sprintf("artifact_uri: file://%s/artifacts\nend_time: %d\nentry_point_name: ''\nexperiment_id: '%s'\nlifecycle_stage: active\nrun_id: %s\nrun_name: trial-%d\nrun_uuid: %s\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: %d\nstatus: %d\ntags: []\nuser_id: jdoe\n",
			dir, start+30000, exp, rid, i, rid, start, 3+i%2)
		if err := w(filepath.Join(dir, "meta.yaml"), meta); err != nil {
			return err
		}
		for j, k := range []string{"lr", "max_depth", "n_estimators", "subsample", "seed"} {
			if err := w(filepath.Join(dir, "params", k), strconv.Itoa(i*7+j)); err != nil {
				return err
			}
		}
		for k, v := range map[string]string{"mlflow.user": "jdoe", "mlflow.runName": "trial-" + strconv.Itoa(i),
			"mlflow.source.name": "train.py", "mlflow.source.git.commit": fmt.Sprintf("%040x", i), "team": "fraud"} {
			if err := w(filepath.Join(dir, "tags", k), v); err != nil {
				return err
			}
		}
		for m, k := range []string{"loss", "val_loss", "accuracy", "val_accuracy"} {
			buf = buf[:0]
			for s := range points {
				v := math.Exp(-float64(s)/30) + float64(m)/10
				buf = strconv.AppendInt(buf, start+int64(s)*1000, 10)
				buf = append(buf, ' ')
				buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
				buf = append(buf, ' ')
				buf = strconv.AppendInt(buf, int64(s), 10)
				buf = append(buf, '\n')
			}
			if err := w(filepath.Join(dir, "metrics", k), string(buf)); err != nil {
				return err
			}
		}
	}
	return nil
}

package logs_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
)

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// corpusDir finds the shared corpus: $KSBFOLIO_CORPUS, or shared/corpus in
// a folder above this one (../shared/corpus of the project root, also from
// a worktree further down). Tests that need it skip without it.
func corpusDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("KSBFOLIO_CORPUS"); d != "" {
		return d
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "shared", "corpus")); err == nil && fi.IsDir() {
			return filepath.Join(dir, "shared", "corpus")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("the shared corpus is not here; set KSBFOLIO_CORPUS")
		}
		dir = parent
	}
}

// copyCorpus copies corpus files into a fresh folder.
func copyCorpus(t testing.TB, dst string, files map[string]string) {
	t.Helper()
	for to, from := range files {
		b, err := os.ReadFile(filepath.Join(corpusDir(t), from))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, to)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newCollector(t testing.TB, sc logs.SourceConfig) *logs.Collector {
	t.Helper()
	c, err := logs.New(logs.Config{SourceConfig: sc, Name: "deploy-logs", Apprentice: "jdoe"},
		collectors.Settings{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConformance runs the conformance suite on real deployment and
// TorchServe logs; Grow appends a deployment to the deployment log.
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	copyCorpus(t, dir, map[string]string{
		"app/deployment.log": "churn-pipeline/logs/deployment.log",
		"serve/ts_log.log":   "torchserve-logs/logs/ts_log.log",
		"serve/access.log":   "torchserve-logs/logs/access_log.log",
	})
	collectortest.Check(t, collectortest.Fixture{
		New: func(t testing.TB) collectors.Collector {
			return newCollector(t, logs.SourceConfig{Paths: []string{filepath.Join(dir, "app/*.log"), filepath.Join(dir, "serve")}})
		},
		Dirs: []string{dir},
		Grow: func(t testing.TB) {
			f, err := os.OpenFile(filepath.Join(dir, "app/deployment.log"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("2025-08-22 09:00:00,001 INFO Starting model deployment...\n" +
				"2025-08-22 09:00:02,002 INFO MODEL DEPLOYMENT SUCCESSFUL!\n"); err != nil {
				t.Fatal(err)
			}
		},
		MinItems: 20,
	})
}

// TestREADMESampleConfig loads the README's sample config.
func TestREADMESampleConfig(t *testing.T) {
	srcs := collectortest.SampleConfig(t, "README.md", logs.SourceType, registry.Default())
	sc, ok := srcs[0].Config.(*logs.SourceConfig)
	if !ok {
		t.Fatalf("config is %T", srcs[0].Config)
	}
	abs, _ := filepath.Abs("logs/deployment.log*")
	if len(sc.Paths) != 3 || sc.Paths[0] != abs || sc.PII != "mask" || len(sc.Events) != 1 || sc.Events[0].Event != "deployment" {
		t.Errorf("sample read as %+v", sc)
	}
}

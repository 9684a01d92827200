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
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
	"github.com/ksbfolio/ksbfolio/pipeline/config/configtest"
)

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// copyCorpus copies corpus files into a fresh folder.
func copyCorpus(t testing.TB, dst string, files map[string]string) {
	t.Helper()
	for to, from := range files {
		b, err := os.ReadFile(corpustest.Dir(t, from))
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
	srcs := configtest.SampleConfig(t, "README.md", logs.SourceType, registry.Default())
	sc, ok := srcs[0].Config.(*logs.SourceConfig)
	if !ok {
		t.Fatalf("config is %T", srcs[0].Config)
	}
	abs, _ := filepath.Abs("logs/deployment.log*")
	if len(sc.Paths) != 3 || sc.Paths[0] != abs || sc.PII != "mask" || len(sc.Events) != 1 || sc.Events[0].Event != "deployment" {
		t.Errorf("sample read as %+v", sc)
	}
	if len(srcs) != 3 {
		t.Fatalf("%d logs sources in the sample, want 3", len(srcs))
	}
	cw, s3 := srcs[1].Config.(*logs.SourceConfig), srcs[2].Config.(*logs.SourceConfig)
	if cw.CloudWatch == nil || cw.CloudWatch.Group != "/aws/sagemaker/Endpoints/churn" || s3.S3 == nil || s3.S3.URL == "" {
		t.Errorf("cloudwatch %+v, s3 %+v", cw.CloudWatch, s3.S3)
	}
	// Each sample source builds a collector.
	for _, src := range srcs {
		if _, err := logs.NewFactory().New(src.Config, collectors.Settings{Name: src.Name, Apprentice: collectors.Apprentice{ID: "jdoe"}}); err != nil {
			t.Errorf("source %s: %v", src.Name, err)
		}
	}
}

// TestConformancePipelinesAndCI runs the suite on Airflow task logs and a
// GitHub Actions archive; Grow adds the task log of a new DAG run.
func TestConformancePipelinesAndCI(t *testing.T) {
	dir := t.TempDir()
	a := "dag_id=customer_churn_pipeline/run_id=manual__2025-08-18T21\uF03A05\uF03A56.718197+00\uF03A00/"
	b := "dag_id=customer_churn_pipeline/run_id=manual__2025-08-18T19\uF03A17\uF03A52.379283+00\uF03A00/"
	copyCorpus(t, dir, map[string]string{
		"airflow/" + a + "task_id=model_training/attempt=1.log": "churn-pipeline/logs/" + a + "task_id=model_training/attempt=1.log",
		"airflow/" + a + "task_id=data_ingestion/attempt=1.log": "churn-pipeline/logs/" + a + "task_id=data_ingestion/attempt=1.log",
		"ci/logs/0_build.txt":                  "gha-log-archive/logs/0_build.txt",
		"ci/logs/build/1_Set up job.txt":       "gha-log-archive/logs/build/1_Set up job.txt",
		"ci/logs/build/4_Install TeX Live.txt": "gha-log-archive/logs/build/4_Install TeX Live.txt",
		"ci/logs/build/system.txt":             "gha-log-archive/logs/build/system.txt",
	})
	collectortest.Check(t, collectortest.Fixture{
		New: func(t testing.TB) collectors.Collector {
			return newCollector(t, logs.SourceConfig{Paths: []string{filepath.Join(dir, "airflow"), filepath.Join(dir, "ci", "*")}})
		},
		Dirs: []string{dir},
		Grow: func(t testing.TB) {
			copyCorpus(t, dir, map[string]string{
				"airflow/" + b + "task_id=dvc_pull_data/attempt=1.log": "churn-pipeline/logs/" + b + "task_id=dvc_pull_data/attempt=1.log",
			})
		},
		MinItems: 3, // two kinds of run item, at least one event
	})
}

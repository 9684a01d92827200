package mlflow_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tRun is one run of a synthetic file store, written as MLflow writes it.
type tRun struct {
	Exp, ID     string
	Name        string
	Status      int // 1..5
	Start, End  int64
	Lifecycle   string // "" is active
	Params      map[string]string
	Tags        map[string]string // keys with "/" become nested folders
	Metrics     map[string]string // file content
	ArtifactURI string            // "" is file://<run>/artifacts
	Artifacts   map[string]string
	AtRoot      bool // no experiment level
}

func write(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeExp(t testing.TB, root, id, name, lifecycle string) {
	t.Helper()
	if lifecycle == "" {
		lifecycle = "active"
	}
	write(t, filepath.Join(root, id, "meta.yaml"), fmt.Sprintf(
		"artifact_location: file://%s/%s\ncreation_time: 1755536567183\nexperiment_id: '%s'\nlast_update_time: 1755536567183\nlifecycle_stage: %s\nname: %s\n",
		root, id, id, lifecycle, name))
}

func writeRun(t testing.TB, root string, r tRun) string {
	t.Helper()
	dir := filepath.Join(root, r.Exp, r.ID)
	if r.AtRoot {
		dir = filepath.Join(root, r.ID)
	}
	if r.Lifecycle == "" {
		r.Lifecycle = "active"
	}
	if r.Status == 0 {
		r.Status = 3
	}
	if r.ArtifactURI == "" {
		r.ArtifactURI = "file://" + filepath.Join(dir, "artifacts")
	}
	end := "end_time: null\n"
	if r.End != 0 {
		end = fmt.Sprintf("end_time: %d\n", r.End)
	}
	write(t, filepath.Join(dir, "meta.yaml"), fmt.Sprintf(
		"artifact_uri: %s\n%sentry_point_name: ''\nexperiment_id: '%s'\nlifecycle_stage: %s\nrun_id: %s\nrun_name: %s\nrun_uuid: %s\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: %d\nstatus: %d\ntags: []\nuser_id: jdoe\n",
		r.ArtifactURI, end, r.Exp, r.Lifecycle, r.ID, r.Name, r.ID, r.Start, r.Status))
	for k, v := range r.Params {
		write(t, filepath.Join(dir, "params", filepath.FromSlash(k)), v)
	}
	for k, v := range r.Tags {
		write(t, filepath.Join(dir, "tags", filepath.FromSlash(k)), v)
	}
	for k, v := range r.Metrics {
		write(t, filepath.Join(dir, "metrics", filepath.FromSlash(k)), v)
	}
	for k, v := range r.Artifacts {
		write(t, filepath.Join(dir, "artifacts", filepath.FromSlash(k)), v)
	}
	return dir
}

// history is a metric file of n points: "<ts> <value> <step>".
func history(n int, start int64, f func(i int) float64) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%d %v %d\n", start+int64(i)*1000, f(i), i)
	}
	return b.String()
}

func runID(i int) string { return fmt.Sprintf("%032x", 0xabc000+i) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }

package prometheus

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

// TestConformanceSaved runs the conformance suite on a copy of the saved
// query_range corpus and the exposition snapshots; Grow saves one more
// result.
func TestConformanceSaved(t *testing.T) {
	src := corpustest.Dir(t, corpusDir)
	dir := t.TempDir()
	for _, from := range []string{filepath.Join(src, "20190728-201907281200.json"), filepath.Join(src, "20190728-201907281800.json"),
		"testdata/envelope.json", "testdata/snapshot.prom", "testdata/snapshot.om.txt"} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(from)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	collectortest.Check(t, collectortest.Fixture{
		New: func(t testing.TB) collectors.Collector {
			return newFiles(t, filepath.Join(dir, "*"))
		},
		Dirs: []string{dir},
		Grow: func(t testing.TB) {
			body := `[{"metric":{"__name__":"model_drift_score"},"values":[[1764547200,"0.1"],[1764547260,"0.4"]]}]`
			if err := os.WriteFile(filepath.Join(dir, "drift.json"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		MinItems: 5,
	})
}

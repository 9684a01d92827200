package sagemaker_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenItems pins the items collected from the replay
// (testdata/golden/*.json, rewritten by -update).
func TestGoldenItems(t *testing.T) {
	awsEnv(t)
	_, srv := startReplay(t)
	s, _, err := collectortest.Collect(t, newCollector(t, srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, it := range byName(s.Items()) {
		got, err := json.MarshalIndent(it, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", "golden", name+".json")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read golden file (run with -update to create it): %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs (run with -update to accept):\n%s", path, got)
		}
	}
}

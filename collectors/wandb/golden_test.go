package wandb_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenItems pins every item of testdata/project and the chart of
// run a1b2c3d4 (testdata/golden/*, rewritten by -update). The testdata
// folder is written as <testdata>.
func TestGoldenItems(t *testing.T) {
	root, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := collect(t, newCollector(t, filepath.Join(root, "project")), nil)
	if err != nil {
		t.Fatal(err)
	}
	for id, it := range byID(s.Items()) {
		b, err := json.MarshalIndent(it, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte(filepath.ToSlash(root)), []byte("<testdata>"))
		golden(t, filepath.Join("testdata", "golden", id+".json"), append(b, '\n'))
		if id == "a1b2c3d4" {
			svg, _ := s.File(it.ID, trainrun.ChartName)
			golden(t, filepath.Join("testdata", "golden", id+".svg"), svg)
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(g), len(w)) {
			if i >= len(g) || i >= len(w) || g[i] != w[i] {
				t.Errorf("%s differs from line %s (run with -update to accept)", path, strconv.Itoa(i+1))
				return
			}
		}
	}
}

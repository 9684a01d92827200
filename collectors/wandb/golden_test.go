package wandb_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/internal/golden"
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
	s, _, err := collectortest.Collect(t, newCollector(t, filepath.Join(root, "project")), nil)
	if err != nil {
		t.Fatal(err)
	}
	for id, it := range byID(s.Items()) {
		b, err := json.MarshalIndent(it, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte(filepath.ToSlash(root)), []byte("<testdata>"))
		golden.Check(t, filepath.Join("testdata", "golden", id+".json"), append(b, '\n'), *update)
		if id == "a1b2c3d4" {
			svg, _ := s.File(it.ID, trainrun.ChartName)
			golden.Check(t, filepath.Join("testdata", "golden", id+".svg"), svg, *update)
		}
	}
}

package tensorboard_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
	"github.com/ksbfolio/ksbfolio/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenItems pins the items of Lightning's version_20 (hparams) and
// one Keras run, and the chart of the first: testdata/golden/*, rewritten
// by -update. The corpus folder is written as <corpus>.
func TestGoldenItems(t *testing.T) {
	for _, tc := range []struct{ corpus, run, name string }{
		{lightning, "lightning_logs/version_20", "lightning-version_20"},
		{keras, "0e3c2b77a56c4e029cb3b6efd00d4b80/train", "keras-0e3c2b77"},
	} {
		root := corpustest.Dir(t, tc.corpus)
		s, _, err := collectortest.Collect(t, newCollector(t, root), nil)
		if err != nil {
			t.Fatal(err)
		}
		it, ok := byRun(s.Items())[tc.run]
		if !ok {
			t.Fatalf("no run %s", tc.run)
		}
		b, err := json.MarshalIndent(it, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte(filepath.ToSlash(root)), []byte("<corpus>"))
		golden.Check(t, filepath.Join("testdata", "golden", tc.name+".json"), append(b, '\n'), *update)
		if tc.name == "lightning-version_20" {
			svg, _ := s.File(it.ID, trainrun.ChartName)
			golden.Check(t, filepath.Join("testdata", "golden", tc.name+".svg"), svg, *update)
		}
	}
}

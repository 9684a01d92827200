package tensorboard_test

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

// TestGoldenItems pins the items of Lightning's version_20 (hparams) and
// one Keras run, and the chart of the first: testdata/golden/*, rewritten
// by -update. The corpus folder is written as <corpus>.
func TestGoldenItems(t *testing.T) {
	for _, tc := range []struct{ corpus, run, name string }{
		{lightning, "lightning_logs/version_20", "lightning-version_20"},
		{keras, "0e3c2b77a56c4e029cb3b6efd00d4b80/train", "keras-0e3c2b77"},
	} {
		root := corpus(t, tc.corpus)
		s, _, err := collect(t, newCollector(t, root), nil)
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
		golden(t, filepath.Join("testdata", "golden", tc.name+".json"), append(b, '\n'))
		if tc.name == "lightning-version_20" {
			svg, _ := s.File(it.ID, trainrun.ChartName)
			golden(t, filepath.Join("testdata", "golden", tc.name+".svg"), svg)
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
		t.Errorf("%s differs (run with -update to accept):\n%s", path, firstDiff(string(got), string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n  got  " + a + "\n  want " + b
		}
	}
	return ""
}

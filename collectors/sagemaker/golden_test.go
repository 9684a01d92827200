package sagemaker_test

import (
	"encoding/json"
	"flag"
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/internal/golden"
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
		golden.Check(t, filepath.Join("testdata", "golden", name+".json"), got, *update)
	}
}

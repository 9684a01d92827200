package gitlog_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
)

// TestREADMESampleConfig loads the README's sample config with the
// collectors of this build.
func TestREADMESampleConfig(t *testing.T) {
	srcs := collectortest.SampleConfig(t, "README.md", gitlog.SourceType, registry.Default())
	sc, ok := srcs[0].Config.(*gitlog.SourceConfig)
	if !ok {
		t.Fatalf("config is %T", srcs[0].Config)
	}
	abs, err := filepath.Abs("../fraud-model")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Path != abs || !slices.Equal(sc.Refs, []string{"main", "refs/heads/release/*"}) {
		t.Errorf("sample read as %+v", sc)
	}
}

// Package deploy holds deployment examples; its test checks that the
// shipped config loads.
package deploy

import (
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

func TestShippedConfigLoads(t *testing.T) {
	cfg, err := config.Load(filepath.Join("k8s", "base", "ksbfolio.yaml"), registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Apprentice == nil || cfg.Apprentice.ID != "jdoe" || len(cfg.Sources) != 1 || !cfg.StoreIsS3() {
		t.Fatalf("unexpected config: %+v", cfg)
	}
}

package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// Each apprentice of a multi-apprentice config opens as its own workspace.
func TestOpenPerApprentice(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("ksbfolio.yaml", []byte(`apprentices:
  - {id: jane, emails: [jane@corp.example]}
  - {id: omar, emails: [omar@corp.example]}
sources: []
`), dir, registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"jane", "omar"} {
		ws, err := pipeline.Open(ctx, cfg, id, "", nil)
		if err != nil {
			t.Fatalf("open %s: %v", id, err)
		}
		if ws.Ledger.Apprentice() != id || ws.Apprentice.ID != id || ws.Apprentice.Emails[0] != id+"@corp.example" {
			t.Errorf("workspace of %s: ledger %s, apprentice %+v", id, ws.Ledger.Apprentice(), ws.Apprentice)
		}
	}
	var se *pipeline.SetupError
	if _, err := pipeline.Open(ctx, cfg, "", "", nil); !errors.As(err, &se) || !strings.Contains(err.Error(), "jane, omar") {
		t.Errorf("open without choosing: %v", err)
	}
	if _, err := pipeline.Open(ctx, cfg, "zed", "", nil); !errors.As(err, &se) || !strings.Contains(err.Error(), `"zed"`) {
		t.Errorf("open of an unknown apprentice: %v", err)
	}
}

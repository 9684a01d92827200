package workspace_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
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
		ws, err := workspace.Open(ctx, cfg, id, "", nil)
		if err != nil {
			t.Fatalf("open %s: %v", id, err)
		}
		if ws.Ledger.Apprentice() != id || ws.Apprentice.ID != id || ws.Apprentice.Emails[0] != id+"@corp.example" {
			t.Errorf("workspace of %s: ledger %s, apprentice %+v", id, ws.Ledger.Apprentice(), ws.Apprentice)
		}
	}
	var se *workspace.SetupError
	if _, err := workspace.Open(ctx, cfg, "", "", nil); !errors.As(err, &se) || !strings.Contains(err.Error(), "jane, omar") {
		t.Errorf("open without choosing: %v", err)
	}
	if _, err := workspace.Open(ctx, cfg, "zed", "", nil); !errors.As(err, &se) || !strings.Contains(err.Error(), `"zed"`) {
		t.Errorf("open of an unknown apprentice: %v", err)
	}
}

func TestNewTarget(t *testing.T) {
	cat := ksb.Builtin()[0] // st1398-v1.0, the official list
	start := time.Date(2025, 8, 30, 0, 0, 0, 0, time.UTC)
	tg, err := workspace.NewTarget(cat, config.Covers{}, start)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Covers.Set != "professional_discussion" || len(tg.Covers.KSBs) != 39 || tg.Version == nil || !tg.Version.Current {
		t.Errorf("default target = %+v %+v", tg.Covers, tg.Version)
	}
	_, err = workspace.NewTarget(cat, config.Covers{KSBs: []string{"S35"}}, start)
	var se *workspace.SetupError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "portfolio.covers: catalogue st1398-v1.0 has no S35") {
		t.Errorf("unknown KSB: %v, want a SetupError naming it", err)
	}
	// An imported list of the same standard has no version log of its
	// own: the built-in one's is used.
	v2 := &ksb.Catalogue{ID: "st1398-v2.0", Reference: "ST1398", Version: "2.0", Complete: true,
		KSBs: []ksb.KSB{{ID: "K1", Kind: ksb.Knowledge, Statement: "k"}}}
	tg, err = workspace.NewTarget(v2, config.Covers{}, time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if tg.Covers.Set != "all" || tg.Version == nil || !tg.Version.Current {
		t.Errorf("v2.0 target = %+v %+v", tg.Covers, tg.Version)
	}
}

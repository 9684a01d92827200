package maintain_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/maintain"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

func official(t *testing.T) *ksb.Catalogue {
	t.Helper()
	for _, c := range ksb.Builtin() {
		if c.ID == "st1398-v1.0" {
			return c
		}
	}
	t.Fatal("no built-in st1398-v1.0")
	return nil
}

// TestUpdateCoverageKeepsBefore: after a catalogue change, coverage.json
// keeps the last report made before it for as long as items are stale, and
// CoverageChanges compares with that.
func TestUpdateCoverageKeepsBefore(t *testing.T) {
	ctx := context.Background()
	s, err := fsstore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, "jdoe")
	if err != nil {
		t.Fatal(err)
	}
	old := &ksb.Catalogue{ID: "st1398-v1.0", Complete: false, KSBs: []ksb.KSB{{ID: "S10", Kind: ksb.Skill, Statement: "old"}}}
	cat := official(t)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	it := &evidence.Item{Schema: 1, ID: evidence.NewID("manual", "a"), Apprentice: "jdoe", SourceType: "manual", Kind: evidence.KindManual,
		OccurredAt: now, Tags: []evidence.Tag{
			{KSB: "K1", By: "declared:add", Catalogue: old.ID, Revision: old.Revision()},
			{KSB: "S10", By: "declared:add", Catalogue: old.ID, Revision: old.Revision()},
		}}
	it.Normalize()
	if err := l.PutItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	first, _, err := pipeline.UpdateCoverage(ctx, l, old, coverage.Target{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if first.Before != nil {
		t.Error("no catalogue change yet, but Before is set")
	}
	target, err := workspace.NewTarget(cat, config.Covers{Set: "all"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // kept across updates while items are stale
		rep, _, err := pipeline.UpdateCoverage(ctx, l, cat, target, now)
		if err != nil {
			t.Fatal(err)
		}
		if rep.StaleItems != 1 || rep.Before == nil || rep.Before.Revision != old.Revision() {
			t.Fatalf("after the change: stale %d, before %+v", rep.StaleItems, rep.Before)
		}
	}
	stored, err := pipeline.ReadCoverage(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	// Retag: tags now name the new revision; Before is dropped.
	for i := range it.Tags {
		it.Tags[i].Revision = cat.Revision()
	}
	if err := l.PutItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	after, _, err := pipeline.UpdateCoverage(ctx, l, cat, target, now)
	if err != nil {
		t.Fatal(err)
	}
	if after.Before != nil || after.StaleItems != 0 {
		t.Errorf("after retag: stale %d, before %v", after.StaleItems, after.Before)
	}
	lines := maintain.CoverageChanges(stored, true, after)
	for _, want := range []string{
		"catalogue st1398-v1.0 changed: revision " + old.Revision() + " → " + cat.Revision(),
		"the portfolio covers: 1 KSB of catalogue st1398-v1.0 → 70 KSBs of catalogue st1398-v1.0",
		"coverage: 1 evidenced, 0 suggested, 0 gap of 1 → 2 evidenced, 0 suggested, 68 gap of 70",
		"declared before but not in the catalogue, now in it: K1 (evidenced)",
		"68 KSBs are new to the catalogue, none evidenced or suggested yet",
	} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("CoverageChanges lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

func TestCoverageChangesWithoutEarlier(t *testing.T) {
	got := maintain.CoverageChanges(coverage.Report{}, false, coverage.Report{Summary: coverage.Summary{Evidenced: 1, Gap: 1, Total: 2}})
	if len(got) != 1 || got[0] != "coverage: 1 evidenced, 0 suggested, 1 gap of 2 (no earlier coverage to compare with)" {
		t.Errorf("got %q", got)
	}
}

package workbook_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/evidence/workbook"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

// The decisions that did not apply in conflictFixture, in show's words.
const (
	ksbConflict     = "S10: Pat Coach (coach) reject on 2026-03-01 10:00 stands over =Ada (apprentice) accept on 2026-03-01 11:00"
	excludeConflict = "exclude: Pat Coach (coach) exclude=true on 2026-03-01 10:00 stands over =Ada (apprentice) exclude=false on 2026-03-01 11:00"
	// The coach's unsigned clearing leaves the apprentice's marking: the
	// item stays confidential, so this line is withheld too.
	confConflict = "confidential: =Ada (apprentice) confidential=true on 2026-03-01 10:00 stands over Chris Hidden (coach) confidential=false on 2026-03-01 11:00"
)

// conflictFixture is a real fsstore ledger of four items, read with a
// verifier that knows the coach's key: the coach's signed rejection of
// S10 and exclusion of the second item stand over the apprentice's later
// acceptance and inclusion; the third item's apprentice marking stands
// over a coach's unsigned confidential=false; the fourth has none. The
// apprentice's name starts with "=", as a formula would.
func conflictFixture(t testing.TB) (*ledger.Snapshot, coverage.Report) {
	t.Helper()
	ctx := context.Background()
	s, err := fsstore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, "ada")
	if err != nil {
		t.Fatal(err)
	}
	coach := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var items []evidence.Item
	for i, title := range []string{"Reject overruled", "Exclusion kept", "Secret marking kept", "No conflict"} {
		it := &evidence.Item{Schema: evidence.SchemaVersion, ID: evidence.NewID("git", fmt.Sprint("c", i)), Apprentice: "ada",
			Source: "model-repo", SourceType: "git", Kind: evidence.KindCommit, Title: title, Summary: "summary of " + title,
			OccurredAt: base.Add(time.Duration(i) * time.Minute), CollectedAt: base.Add(time.Hour),
			Tags: []evidence.Tag{{KSB: "S10", By: "rule:drift", Confidence: 0.8}, {KSB: "K4", By: "rule:tests", Confidence: 0.7}}}
		if err := l.PutItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		stored, err := l.GetItem(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, *stored)
	}
	yes, no := true, false
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	signed := func(it evidence.Item, d evidence.Decision) evidence.Decision {
		return evidence.Sign(it.ID, evidence.ContentHash(it), d, coach)
	}
	decisions := []struct {
		item evidence.Item
		d    evidence.Decision
	}{
		{items[0], signed(items[0], evidence.Decision{ID: "d1", At: at(1), By: "Pat Coach", Role: "coach", Reject: []string{"S10"}})},
		{items[0], evidence.Decision{ID: "d2", At: at(2), By: "=Ada", Role: "apprentice", Accept: []string{"S10", "K4"}}},
		{items[1], signed(items[1], evidence.Decision{ID: "d3", At: at(1), By: "Pat Coach", Role: "coach", Exclude: &yes})},
		{items[1], evidence.Decision{ID: "d4", At: at(2), By: "=Ada", Role: "apprentice", Exclude: &no}},
		{items[2], evidence.Decision{ID: "d5", At: at(1), By: "=Ada", Role: "apprentice", Confidential: &yes}},
		{items[2], evidence.Decision{ID: "d6", At: at(2), By: "Chris Hidden", Role: "coach", Confidential: &no}},
	}
	for _, x := range decisions {
		if _, err := l.AddDecision(ctx, x.item.ID, x.d); err != nil {
			t.Fatal(err)
		}
	}
	v := evidence.NewVerifier([]evidence.Reviewer{{Name: "Pat Coach", Role: "coach", Key: coach.Public().(ed25519.PublicKey)}})
	snap, err := l.Snapshot(ctx, ledger.SnapshotOptions{Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	return snap, pipeline.SnapshotCoverage(snap, ksb.Builtin()[0], coverage.Target{}, at(3))
}

// column returns the cells of sheet's column headed h, by item ID (the
// first column), and fails when there is no such header.
func column(t *testing.T, f *excelize.File, sheet, h string) map[string]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(rows[0], h)
	if i < 0 {
		t.Fatalf("sheet %s has no column %q: %v", sheet, h, rows[0])
	}
	out := map[string]string{}
	for r, row := range rows[1:] {
		v := ""
		if i < len(row) {
			v = row[i]
		}
		out[row[0]] = v
		ref, _ := excelize.CoordinatesToCellName(i+1, r+2)
		if typ, _ := f.GetCellType(sheet, ref); v != "" && typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
			t.Errorf("%s %s type %v, want a string", sheet, ref, typ)
		}
		if fm, _ := f.GetCellFormula(sheet, ref); fm != "" {
			t.Errorf("%s %s holds formula %q", sheet, ref, fm)
		}
	}
	return out
}

// TestDecisionsThatDidNotApply: the Evidence and Review sheets show each
// item's decisions that did not apply, as show words them, as text; a
// withheld item's are withheld (its reviewers' names are nowhere), and
// shown with ShowConfidential.
func TestDecisionsThatDidNotApply(t *testing.T) {
	snap, rep := conflictFixture(t)
	id := func(i int) string { return evidence.NewID("git", fmt.Sprint("c", i)) }
	open := func(show bool) (*excelize.File, []byte) {
		var buf bytes.Buffer
		if err := workbook.Write(&buf, workbook.Input{Snapshot: snap, Coverage: rep, ShowConfidential: show}); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f, buf.Bytes()
	}
	f, data := open(false)
	if bytes.Contains(data, []byte("<f>")) {
		t.Error("the workbook holds a formula")
	}
	want := map[string]string{id(0): ksbConflict, id(1): excludeConflict, id(2): "", id(3): ""}
	for _, sheet := range []string{workbook.SheetEvidence, workbook.SheetReview} {
		if got := column(t, f, sheet, workbook.ColDidNotApply); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s %s:\n got %q\nwant %q", sheet, workbook.ColDidNotApply, got, want)
		}
	}
	for _, s := range workbook.Sheets {
		rows, _ := f.GetRows(s)
		for _, r := range rows {
			if line := strings.Join(r, "\t"); strings.Contains(line, "Chris Hidden") || strings.Contains(line, "confidential=") {
				t.Errorf("sheet %s shows the withheld item's review: %q", s, line)
			}
		}
	}
	f, _ = open(true)
	want[id(2)] = confConflict
	for _, sheet := range []string{workbook.SheetEvidence, workbook.SheetReview} {
		if got := column(t, f, sheet, workbook.ColDidNotApply); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ShowConfidential: %s %s:\n got %q\nwant %q", sheet, workbook.ColDidNotApply, got, want)
		}
	}
}

// TestLibreOfficeShowsDecisionsThatDidNotApply: LibreOffice reads the
// column as typed text on both sheets (the name "=Ada" computes nothing).
func TestLibreOfficeShowsDecisionsThatDidNotApply(t *testing.T) {
	snap, rep := conflictFixture(t)
	csv := convertCSV(t, write(t, snap, rep))
	if csv == nil {
		t.Skip("soffice (Debian libreoffice-calc-nogui) not installed")
	}
	for _, sheet := range []string{workbook.SheetEvidence, workbook.SheetReview} {
		for _, s := range []string{workbook.ColDidNotApply, ksbConflict, excludeConflict} {
			if !strings.Contains(csv[sheet], s) {
				t.Errorf("LibreOffice's %s sheet lacks %q:\n%s", sheet, s, csv[sheet])
			}
		}
		if strings.Contains(csv[sheet], "Chris Hidden") {
			t.Errorf("LibreOffice's %s sheet shows the withheld item's reviewer", sheet)
		}
	}
}

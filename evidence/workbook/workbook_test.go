package workbook_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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

// injections are source texts a spreadsheet would take for formulas.
var injections = []string{`=HYPERLINK("http://evil.example","click")`, "+1+1", "-2+3", "@SUM(A1:A2)", "=1+1"}

// fixture stores items (one per injection string, plus a plain one with a
// web URL) in a real fsstore ledger and returns its snapshot and coverage.
func fixture(t testing.TB, n int) (*ledger.Snapshot, coverage.Report) {
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
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		title := fmt.Sprintf("Add drift check %d", i)
		if i < len(injections) {
			title = injections[i]
		}
		it := &evidence.Item{Schema: evidence.SchemaVersion, ID: evidence.NewID("git", fmt.Sprint("sha", i)), Apprentice: "ada",
			Source: "model-repo", SourceType: "git", Kind: evidence.KindCommit, Title: title, Summary: "@summary " + title,
			OccurredAt: base.Add(time.Duration(i) * time.Hour), CollectedAt: base.Add(1000 * time.Hour),
			Origin: evidence.Origin{URI: "git+file:///repo", NativeID: fmt.Sprint("sha", i)},
			Facts:  map[string]any{"web_url": fmt.Sprintf("https://git.example/repo/commit/sha%d", i), "files_changed": i},
			Tags:   []evidence.Tag{{KSB: "S10", By: "rule:drift", Confidence: 0.8, Reason: "=drift"}},
		}
		if i%2 == 1 {
			it.Tags = append(it.Tags, evidence.Tag{KSB: "K4", By: "declared:trailer", Confidence: 1})
		}
		if err := l.PutItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	if n > 6 { // the seventh item is confidential
		yes := true
		if _, err := l.AddDecision(ctx, evidence.NewID("git", "sha6"), evidence.Decision{At: base, By: "ada", Role: "apprentice", Confidential: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := l.Snapshot(ctx, ledger.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cat := ksb.Builtin()[0]
	return snap, pipeline.SnapshotCoverage(snap, cat, coverage.Target{}, base.Add(2000*time.Hour))
}

func write(t testing.TB, snap *ledger.Snapshot, rep coverage.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := workbook.Write(&buf, workbook.Input{Snapshot: snap, Coverage: rep}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSheetsCellsAndTypes(t *testing.T) {
	snap, rep := fixture(t, 8)
	data := write(t, snap, rep)
	if !chartOnSummary(t, data) {
		t.Error("the Summary sheet has no chart")
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != strings.Join(workbook.Sheets, ",") {
		t.Fatalf("sheets = %v, want %v", got, workbook.Sheets)
	}
	cell := func(sheet, ref string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := cell("Summary", "B1"); got != "ada" {
		t.Errorf("Summary B1 = %q", got)
	}
	if got := cell("Summary", "B6"); got != "8" {
		t.Errorf("Summary items = %q, want 8", got)
	}
	// The Evidence register: a header and one row per item, in snapshot order.
	rows, err := f.GetRows("Evidence")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 9 || rows[0][0] != "ID" || rows[0][1] != "Title" {
		t.Fatalf("Evidence has %d rows, header %v", len(rows), rows[0])
	}
	for i, v := range snap.Views {
		r := i + 2
		if got := cell("Evidence", fmt.Sprintf("A%d", r)); got != v.Item.ID {
			t.Errorf("Evidence A%d = %q, want %q", r, got, v.Item.ID)
		}
		if v.Confidential { // TestConfidentialWithheld
			continue
		}
		for _, col := range []string{"B", "P"} { // Title, Summary: source text
			ref := fmt.Sprintf("%s%d", col, r)
			typ, err := f.GetCellType("Evidence", ref)
			if err != nil {
				t.Fatal(err)
			}
			if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
				t.Errorf("Evidence %s type %v, want a string", ref, typ)
			}
			if fm, _ := f.GetCellFormula("Evidence", ref); fm != "" {
				t.Errorf("Evidence %s holds formula %q", ref, fm)
			}
		}
		if got := cell("Evidence", fmt.Sprintf("B%d", r)); got != v.Item.Title {
			t.Errorf("Evidence B%d = %q, want %q", r, got, v.Item.Title)
		}
		ok, link, err := f.GetCellHyperLink("Evidence", fmt.Sprintf("M%d", r))
		if err != nil || !ok || link != v.Item.Facts["web_url"] {
			t.Errorf("Evidence M%d link = %v %q %v, want %v", r, ok, link, err, v.Item.Facts["web_url"])
		}
		ok, link, _ = f.GetCellHyperLink("Evidence", fmt.Sprintf("L%d", r))
		if !ok || !strings.HasPrefix(link, fmt.Sprintf("evidence/%02d-", i+1)) {
			t.Errorf("Evidence L%d pack link = %v %q", r, ok, link)
		}
	}
	// The Matrix: KSB rows, one column per evidencing item, status in cells.
	if got := cell("Matrix", "A2"); got != "KSB" {
		t.Errorf("Matrix A2 = %q", got)
	}
	mrows, _ := f.GetRows("Matrix")
	found := false
	for _, r := range mrows[2:] {
		if r[0] == "K4" {
			found = true
			if r[2] != "claimed" || !strings.Contains(strings.Join(r[4:], ","), "claimed") {
				t.Errorf("Matrix K4 row = %v", r[:min(len(r), 8)])
			}
		}
	}
	if !found {
		t.Error("Matrix has no K4 row")
	}
	for col, want := range map[string]float64{"D": 50, "E": 12, "F": 12} {
		if w, err := f.GetColWidth("Matrix", col); err != nil || w != want {
			t.Errorf("Matrix column %s width %v (%v), want %v", col, w, err, want)
		}
	}
	panes, err := f.GetPanes("Matrix")
	if err != nil || !panes.Freeze || panes.YSplit != 2 {
		t.Errorf("Matrix panes = %+v, %v", panes, err)
	}
	cf, err := f.GetConditionalFormats("Matrix")
	if err != nil || len(cf) == 0 {
		t.Errorf("Matrix conditional formats = %v, %v", cf, err)
	}
	// Gaps lists S1 (nothing evidences it) and not K4.
	gaps, _ := f.GetRows("Gaps")
	var gapIDs []string
	for _, r := range gaps[1:] {
		gapIDs = append(gapIDs, r[0])
	}
	if g := strings.Join(gapIDs, ","); !strings.Contains(g, "S1,") || strings.Contains(g, "K4,") {
		t.Errorf("Gaps = %v", gapIDs)
	}
	// Review: one row per item, the decision columns empty.
	rrows, _ := f.GetRows("Review")
	if len(rrows) != 9 || strings.Join(rrows[0], ",") != strings.Join(workbook.ReviewHeaders, ",") {
		t.Errorf("Review header %v, %d rows", rrows[0], len(rrows))
	}
	// The drop-down lists sit on the Exclude and Role columns, wherever
	// those are.
	dvs, err := f.GetDataValidations("Review")
	if err != nil {
		t.Fatal(err)
	}
	var lists []string
	for _, dv := range dvs {
		lists = append(lists, dv.Sqref+" "+dv.Formula1)
	}
	colOf := func(h string) string {
		c, _ := excelize.ColumnNumberToName(slices.Index(rrows[0], h) + 1)
		return c
	}
	want := []string{fmt.Sprintf("%[1]s2:%[1]s9 \"yes,no\"", colOf(workbook.ColExclude)),
		fmt.Sprintf("%[1]s2:%[1]s9 \"%[2]s\"", colOf(workbook.ColRole), strings.Join(evidence.Roles, ","))}
	if strings.Join(lists, "; ") != strings.Join(want, "; ") {
		t.Errorf("Review drop-downs %q, want %q", lists, want)
	}
}

// TestConfidentialWithheld: a confidential item is listed with its ID,
// dates and KSBs, and nothing of its content is on any sheet, unless
// ShowConfidential.
func TestConfidentialWithheld(t *testing.T) {
	snap, rep := fixture(t, 8)
	var conf ledger.View
	for _, v := range snap.Views {
		if v.Confidential {
			conf = v
		}
	}
	if conf.Item.ID == "" {
		t.Fatal("fixture has no confidential item")
	}
	sheets := func(show bool) string {
		var buf bytes.Buffer
		if err := workbook.Write(&buf, workbook.Input{Snapshot: snap, Coverage: rep, ShowConfidential: show}); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var all strings.Builder
		for _, s := range workbook.Sheets {
			rows, _ := f.GetRows(s)
			for _, r := range rows {
				all.WriteString(strings.Join(r, "\t") + "\n")
			}
		}
		return all.String()
	}
	withheld := sheets(false)
	for _, secret := range []string{conf.Item.Title, conf.Item.Summary, conf.Item.Facts["web_url"].(string), conf.Item.Origin.NativeID + "\t"} {
		if strings.Contains(withheld, secret) {
			t.Errorf("the workbook shows %q of the confidential item", secret)
		}
	}
	if !strings.Contains(withheld, conf.Item.ID) || !strings.Contains(withheld, workbook.Withheld) || !strings.Contains(withheld, "withheld") {
		t.Error("the confidential item is not listed as withheld")
	}
	if shown := sheets(true); !strings.Contains(shown, conf.Item.Title) {
		t.Error("ShowConfidential does not show the item")
	}
}

// TestFormulaInjectionStaysText checks every source text that looks like a
// formula is stored as text, with no formula, on every sheet it appears.
func TestFormulaInjectionStaysText(t *testing.T) {
	snap, rep := fixture(t, len(injections))
	data := write(t, snap, rep)
	if bytes.Contains(data, []byte("<f>")) {
		t.Fatal("the workbook holds a formula")
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, sheet := range []string{"Evidence", "Review"} {
		for i, v := range snap.Views {
			ref := fmt.Sprintf("B%d", i+2)
			got, _ := f.GetCellValue(sheet, ref)
			fm, _ := f.GetCellFormula(sheet, ref)
			if got != v.Item.Title || fm != "" {
				t.Errorf("%s %s = %q formula %q, want text %q", sheet, ref, got, fm, v.Item.Title)
			}
		}
	}
	// LibreOffice, when present, shows the text, not a computed value.
	csv := convertCSV(t, data)
	if csv == nil {
		return
	}
	ev := csv["Evidence"]
	for _, s := range injections {
		if !strings.Contains(ev, s) && !strings.Contains(ev, strings.ReplaceAll(s, `"`, `""`)) {
			t.Errorf("LibreOffice's Evidence sheet lacks the text %q:\n%s", s, ev[:min(len(ev), 600)])
		}
	}
}

// convertCSV converts every sheet with headless LibreOffice and returns
// each sheet's CSV by name; nil (test skipped there) when soffice is
// absent and KSBFOLIO_TEST_REQUIRE does not name libreoffice.
func convertCSV(t *testing.T, data []byte) map[string]string {
	t.Helper()
	bin, err := exec.LookPath("soffice")
	if err != nil {
		if strings.Contains(os.Getenv("KSBFOLIO_TEST_REQUIRE"), "libreoffice") {
			t.Fatal("soffice not found and KSBFOLIO_TEST_REQUIRE names libreoffice")
		}
		t.Log("soffice (Debian libreoffice-calc-nogui) not installed: LibreOffice conversion not checked")
		return nil
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "book.xlsx")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless",
		"--convert-to", `csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1`, "--outdir", out, in)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice: %v\n%s", err, b)
	}
	got := map[string]string{}
	for _, s := range workbook.Sheets {
		c, err := os.ReadFile(filepath.Join(out, "book-"+s+".csv"))
		if err != nil {
			entries, _ := os.ReadDir(out)
			t.Fatalf("LibreOffice did not convert sheet %s: %v (output %s; files %v)", s, err, b, entries)
		}
		got[s] = string(c)
	}
	return got
}

func TestLibreOfficeConvertsEverySheet(t *testing.T) {
	snap, rep := fixture(t, 12)
	csv := convertCSV(t, write(t, snap, rep))
	if csv == nil {
		t.Skip("soffice (Debian libreoffice-calc-nogui) not installed")
	}
	if !strings.Contains(csv["Summary"], "ada") || !strings.Contains(csv["Matrix"], "K4") ||
		!strings.Contains(csv["Evidence"], snap.Views[0].Item.ID) || !strings.Contains(csv["Review"], "Reviewer") {
		t.Errorf("LibreOffice output lacks expected cells: %v", csv)
	}
}

func TestReadReview(t *testing.T) {
	snap, rep := fixture(t, 4)
	f, err := excelize.OpenReader(bytes.NewReader(write(t, snap, rep)))
	if err != nil {
		t.Fatal(err)
	}
	// Fill two rows as a reviewer would, finding the columns by header;
	// move nothing else. The Decisions that did not apply column is not
	// read: text there (on a filled row, and on an otherwise empty one)
	// records nothing.
	head, err := f.GetRows("Review")
	if err != nil {
		t.Fatal(err)
	}
	set := func(h string, row int, v string) {
		t.Helper()
		i := slices.Index(head[0], h)
		if i < 0 {
			t.Fatalf("Review has no column %q", h)
		}
		ref, _ := excelize.CoordinatesToCellName(i+1, row)
		if err := f.SetCellStr("Review", ref, v); err != nil {
			t.Fatal(err)
		}
	}
	set(workbook.ColAccept, 2, "S10, k4")
	set(workbook.ColReviewer, 2, "Grace")
	set(workbook.ColRole, 2, "coach")
	set(workbook.ColDidNotApply, 2, "K4: Pat (coach) reject on 2026-03-01 10:00 stands over Ada (apprentice) accept on 2026-03-01 11:00")
	set(workbook.ColDidNotApply, 3, "S10, K4")
	set(workbook.ColExclude, 4, "yes")
	set(workbook.ColNote, 4, "=not a formula")
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := workbook.ReadReview(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []workbook.ReviewRow{
		{Row: 2, Item: snap.Views[0].Item.ID, Accept: "S10, k4", Reviewer: "Grace", Role: "coach"},
		{Row: 4, Item: snap.Views[2].Item.ID, Exclude: "yes", Note: "=not a formula"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows = %+v\nwant %+v", rows, want)
	}
}

func TestReadReviewRefusesOtherFiles(t *testing.T) {
	f := excelize.NewFile()
	var buf bytes.Buffer
	_, _ = f.WriteTo(&buf)
	if _, err := workbook.ReadReview(bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), "no Review sheet") {
		t.Errorf("workbook without Review: err = %v", err)
	}
	if _, err := workbook.ReadReview(strings.NewReader("not a zip")); err == nil {
		t.Error("garbage: no error")
	}
	_, _ = f.NewSheet("Review")
	_ = f.SetCellStr("Review", "A1", "Item")
	buf.Reset()
	_, _ = f.WriteTo(&buf)
	if _, err := workbook.ReadReview(&buf); err == nil || !strings.Contains(err.Error(), "Accept, Reject, Reviewer") {
		t.Errorf("missing columns: err = %v", err)
	}
}

func TestParseExclude(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{{"", "nil"}, {"yes", "true"}, {"X", "true"}, {" no ", "false"}, {"0", "false"}, {"maybe", "error"}} {
		p, err := workbook.ParseExclude(c.in)
		got := "nil"
		switch {
		case err != nil:
			got = "error"
		case p != nil:
			got = fmt.Sprint(*p)
		}
		if got != c.want {
			t.Errorf("ParseExclude(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Fix: drift check!": "fix-drift-check", "": "item", "../../etc": "etc",
		"日本": "item", strings.Repeat("ab ", 30): "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-a"} {
		if got := workbook.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// chartOnSummary reports whether the package holds a bar chart drawn on
// the first sheet, with the status counts as its values.
func chartOnSummary(t *testing.T, data []byte) bool {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		for _, f := range z.File {
			if f.Name == name {
				r, _ := f.Open()
				b, _ := io.ReadAll(r)
				return string(b)
			}
		}
		return ""
	}
	chart := read("xl/charts/chart1.xml")
	return strings.Contains(read("xl/worksheets/_rels/sheet1.xml.rels"), "drawing") &&
		strings.Contains(chart, "barChart") && strings.Contains(chart, "Summary!$B$12:$B$15")
}

// FuzzReadReview feeds ReadReview damaged workbooks: it must return rows
// or an error, never panic or hang.
func FuzzReadReview(f *testing.F) {
	snap, rep := fixture(f, 3)
	good := write(f, snap, rep)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := workbook.ReadReview(bytes.NewReader(data))
		if err == nil {
			for _, r := range rows {
				if r.Row < 2 || r.Empty() {
					t.Fatalf("bad row %+v", r)
				}
			}
		}
	})
}

// The same ledger gives the same bytes, whatever the clock says and in
// whatever order excelize writes its parts, so that a pack holding the
// workbook is reproducible.
func TestWriteIsReproducible(t *testing.T) {
	snap, rep := fixture(t, 12)
	a := write(t, snap, rep)
	time.Sleep(1100 * time.Millisecond)
	for i := 0; i < 3; i++ {
		if b := write(t, snap, rep); !bytes.Equal(a, b) {
			t.Fatalf("write %d differs from the first", i+2)
		}
	}
}

// TestReadReviewOldLayout: a Review sheet exported before the Decisions
// that did not apply column (Accept in F) still reads by its headers.
func TestReadReviewOldLayout(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	if _, err := f.NewSheet("Review"); err != nil {
		t.Fatal(err)
	}
	old := []string{"Item", "Title", "Occurred at", "KSBs (reviewed)", "Suggested, unreviewed",
		"Accept", "Reject", "Exclude", "Reviewer", "Role", "Note"}
	for i, row := range [][]string{old, {"git-1", "t", "", "", "", "S10", "K4", "no", "Pat", "coach", "n"}} {
		for j, v := range row {
			ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellStr("Review", ref, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := workbook.ReadReview(&buf)
	want := []workbook.ReviewRow{{Row: 2, Item: "git-1", Accept: "S10", Reject: "K4", Exclude: "no", Reviewer: "Pat", Role: "coach", Note: "n"}}
	if err != nil || fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows = %+v, %v\nwant %+v", rows, err, want)
	}
}

// TestPartsInOrderWithTheGenerationTime: every part of the zip is in name
// order and carries the generation time, not the clock's, and reads back
// whole (each part's CRC is checked).
func TestPartsInOrderWithTheGenerationTime(t *testing.T) {
	snap, rep := fixture(t, 8)
	for _, gen := range []time.Time{rep.GeneratedAt, time.Date(2031, 7, 9, 23, 58, 31, 0, time.UTC)} {
		var buf bytes.Buffer
		if err := workbook.Write(&buf, workbook.Input{Snapshot: snap, Coverage: rep, Generated: gen}); err != nil {
			t.Fatal(err)
		}
		z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		want := gen.UTC().Truncate(2 * time.Second)
		for i, f := range z.File {
			if i > 0 && z.File[i-1].Name >= f.Name {
				t.Errorf("part %s after %s", f.Name, z.File[i-1].Name)
			}
			if got := f.Modified.UTC().Truncate(2 * time.Second); !got.Equal(want) {
				t.Errorf("part %s time %v, want %v", f.Name, got, want)
			}
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				t.Errorf("part %s: %v", f.Name, err)
			}
			r.Close()
		}
	}
}

package main

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ksbfolio/ksbfolio/evidence/workbook"
)

// TestExportAndReviewImport exports the workbook, fills in its Review sheet
// as a reviewer would (with excelize), imports it, and checks what was
// recorded, what was refused row by row, and that a second import records
// nothing twice.
func TestExportAndReviewImport(t *testing.T) {
	rl := newReviewLedger(t)
	k := rl.covers
	acc := rl.put(t, "a", "=cmd|' /C calc'!A0", nil, k[0:2])
	coach := rl.put(t, "bb", "Coach accepts, unsigned", nil, k[2:3])
	excl := rl.put(t, "ccc", "To exclude", nil, k[3:4])
	other := rl.put(t, "dddd", "Rows that cannot apply", nil, k[4:5])

	book := filepath.Join(rl.dir, "book.xlsx")
	r := cli(t, "-c", rl.cfg, "export", "xlsx", "-o", book)
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "wrote "+book+": 4 items") {
		t.Errorf("export said %q", r.stdout)
	}
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Review")
	if err != nil {
		t.Fatal(err)
	}
	rowOf := map[string]int{}
	for i, row := range rows[1:] {
		rowOf[row[0]] = i + 2
	}
	if len(rowOf) != 4 {
		t.Fatalf("Review rows: %v", rows)
	}
	col := reviewColumns(t, rows[0])
	set := func(id, h, v string) {
		t.Helper()
		if err := f.SetCellStr("Review", col[h]+strconv.Itoa(rowOf[id]), v); err != nil {
			t.Fatal(err)
		}
	}
	set(acc, workbook.ColAccept, strings.ToLower(k[0])+", "+k[1])
	set(coach, workbook.ColAccept, k[2])
	set(coach, workbook.ColReviewer, "Pat Coach")
	set(coach, workbook.ColRole, "coach")
	set(excl, workbook.ColExclude, "yes")
	set(other, workbook.ColAccept, "S999") // not in the catalogue
	// Extra rows that cannot apply, each for its own reason.
	bad := [][]string{
		{"git-00000000000000000000000000000000", "K1", "", "", "", ""}, // no such item
		{other, "nonsense", "", "", "", ""},                            // not a KSB ID
		{other, k[4], k[4], "", "", ""},                                // both
		{other, k[4], "", "", "", "coach"},                             // coach without a name
		{other, "", "", "perhaps", "", ""},                             // exclude value
		{other, k[4], "", "", "Jo", "boss"},                            // role
	}
	for i, b := range bad {
		n := strconv.Itoa(len(rows) + 1 + i)
		for j, h := range []string{workbook.ColItem, workbook.ColAccept, workbook.ColReject, workbook.ColExclude, workbook.ColReviewer, workbook.ColRole} {
			if err := f.SetCellStr("Review", col[h]+n, b[j]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(book); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r = cli(t, "-c", rl.cfg, "review", "import", book)
	mustCode(t, r, exitPartial)
	if !strings.Contains(r.stdout, "recorded 3 decisions") || !strings.Contains(r.stdout, "7 rows not applied") {
		t.Errorf("import said %q", r.stdout)
	}
	for i, why := range []string{"catalogue st1398-v1.0 has no S999", "no such item", `"nonsense" is not a KSB ID`,
		"both accepted and rejected", "needs the reviewer's name", `exclude "perhaps"`, `role "boss"`} {
		row := rowOf[other]
		if i > 0 {
			row = len(rows) + i
		}
		if want := "row " + strconv.Itoa(row) + " "; !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, why) {
			t.Errorf("stderr lacks %q … %q:\n%s", want, why, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "count as claimed, not confirmed") {
		t.Errorf("no warning about the unsigned coach decision:\n%s", r.stderr)
	}
	_, by, _, _, _ := coverageSets(t, rl.cfg)
	for _, c := range []struct {
		ksb, item string
		list      int // 0 confirmed, 1 claimed, 2 suggested
	}{{k[0], acc, 1}, {k[1], acc, 1}, {k[2], coach, 1}, {k[4], other, 2}} {
		if got := by[c.ksb][c.list]; len(got) != 1 || got[0] != c.item {
			t.Errorf("%s: %v, want %s in list %d", c.ksb, by[c.ksb], c.item, c.list)
		}
	}
	if got := by[k[3]]; len(got[0])+len(got[1])+len(got[2]) != 0 {
		t.Errorf("%s still evidenced by the excluded item: %v", k[3], got)
	}
	decisions := func() int {
		n := 0
		for _, id := range []string{acc, coach, excl, other} {
			rv, err := rl.l.Review(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if rv != nil {
				n += len(rv.Decisions)
			}
		}
		return n
	}
	if n := decisions(); n != 3 {
		t.Errorf("%d decisions stored, want 3", n)
	}
	r = cli(t, "-c", rl.cfg, "review", "import", book)
	mustCode(t, r, exitPartial)
	if n := decisions(); n != 3 {
		t.Errorf("after a second import: %d decisions stored, want still 3", n)
	}
}

func TestExportNeedsOutput(t *testing.T) {
	rl := newReviewLedger(t)
	mustCode(t, cli(t, "-c", rl.cfg, "export", "xlsx"), exitUsage)
	mustCode(t, cli(t, "-c", rl.cfg, "review", "import", filepath.Join(rl.dir, "missing.xlsx")), exitUsage)
}

// TestReviewImportSigned: with --sign-key, the rows of the key's
// configured reviewer are signed and confirm; a row naming someone else
// is not applied.
func TestReviewImportSigned(t *testing.T) {
	rl := newReviewLedger(t)
	k := rl.covers
	mine := rl.put(t, "a", "Signed by the coach", nil, k[0:1])
	theirs := rl.put(t, "bb", "Claims to be the employer", nil, k[1:2])
	book := filepath.Join(rl.dir, "book.xlsx")
	mustCode(t, cli(t, "-c", rl.cfg, "export", "xlsx", "-o", book), 0)
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Review")
	col := reviewColumns(t, rows[0])
	for i, row := range rows[1:] {
		n := strconv.Itoa(i + 2)
		who := map[string][2]string{mine: {"Pat Coach", "coach"}, theirs: {"Erin Boss", "employer"}}[row[0]]
		for h, v := range map[string]string{workbook.ColAccept: map[string]string{mine: k[0], theirs: k[1]}[row[0]],
			workbook.ColReviewer: who[0], workbook.ColRole: who[1]} {
			if err := f.SetCellStr("Review", col[h]+n, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(book); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := cli(t, "-c", rl.cfg, "review", "import", "--sign-key", rl.key("pat"), book)
	mustCode(t, r, exitPartial)
	if !strings.Contains(r.stdout, "recorded 1 decision") || !strings.Contains(r.stderr, "not the key the config lists for Erin Boss as employer") {
		t.Errorf("import said:\n%s\n%s", r.stdout, r.stderr)
	}
	_, by, _, _, _ := coverageSets(t, rl.cfg)
	if got := by[k[0]][0]; len(got) != 1 || got[0] != mine {
		t.Errorf("%s confirmed by %v, want %s", k[0], got, mine)
	}
	if got := by[k[1]]; len(got[0])+len(got[1]) != 0 {
		t.Errorf("%s: %v, want still only suggested", k[1], got)
	}

	// The apprentice's later rejection does not apply over the coach's
	// signed acceptance: the next export says so on the Evidence and the
	// Review sheets, in show's words, and importing that workbook as it
	// is records nothing.
	mustCode(t, cli(t, "-c", rl.cfg, "review", mine, "--reject", k[0]), 0)
	mustCode(t, cli(t, "-c", rl.cfg, "export", "xlsx", "-o", book), 0)
	f, err = excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, sheet := range []string{"Evidence", "Review"} {
		rows, _ := f.GetRows(sheet)
		i := slices.Index(rows[0], workbook.ColDidNotApply)
		if i < 0 {
			t.Fatalf("%s has no %q column: %v", sheet, workbook.ColDidNotApply, rows[0])
		}
		for _, row := range rows[1:] {
			got := ""
			if i < len(row) {
				got = row[i]
			}
			want := ""
			if row[0] == mine {
				want = k[0] + ": Pat Coach (coach) accept on "
			}
			if !strings.HasPrefix(got, want) || (want == "") != (got == "") ||
				(want != "" && !strings.Contains(got, " stands over Jane Doe (apprentice) reject on ")) {
				t.Errorf("%s %s of %s = %q, want %q…", sheet, workbook.ColDidNotApply, row[0], got, want)
			}
		}
	}
	r = cli(t, "-c", rl.cfg, "review", "import", book)
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "recorded 0 decisions") {
		t.Errorf("importing the unfilled workbook said %q", r.stdout)
	}
}

// reviewColumns maps each Review sheet header in head to its column letter.
func reviewColumns(t *testing.T, head []string) map[string]string {
	t.Helper()
	col := map[string]string{}
	for i, h := range head {
		col[h], _ = excelize.ColumnNumberToName(i + 1)
	}
	for _, h := range []string{workbook.ColItem, workbook.ColAccept, workbook.ColReject, workbook.ColExclude, workbook.ColReviewer, workbook.ColRole} {
		if col[h] == "" {
			t.Fatalf("the Review sheet has no column %q: %v", h, head)
		}
	}
	return col
}

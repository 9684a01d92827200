package workbook

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
)

// The workbook benchmark (scripts/bench-workbook.sh) is out of the default
// run: KSBFOLIO_BENCH_WORKBOOK=N builds the workbook of N synthetic items,
// and a plain excelize stream writer writing the same cells (no styles,
// links, filters, formats, validation or chart), each in its own process,
// and prints time and peak memory of both and their ratios.
const (
	benchEnv      = "KSBFOLIO_BENCH_WORKBOOK"
	benchChildEnv = "KSBFOLIO_BENCH_WORKBOOK_CHILD"
)

func TestWorkbookBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(benchEnv))
	if n <= 0 || os.Getenv(benchChildEnv) != "" {
		t.Skip(benchEnv + "=N runs the workbook benchmark (scripts/bench-workbook.sh)")
	}
	type result struct {
		elapsed        time.Duration
		inputKB, endKB int64
		bytes          int64
	}
	run := func(mode string) result {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkbookBenchChild$", "-test.v")
		cmd.Env = append(os.Environ(), benchChildEnv+"="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		var r result
		sc := bufio.NewScanner(bytes.NewReader(out))
		found := false
		for sc.Scan() {
			if l, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "bench-result "); ok {
				var ns int64
				if _, err := fmt.Sscanf(l, "%d %d %d %d", &ns, &r.inputKB, &r.endKB, &r.bytes); err != nil {
					t.Fatal(err)
				}
				r.elapsed, found = time.Duration(ns), true
			}
		}
		if !found {
			t.Fatalf("%s printed no result:\n%s", mode, out)
		}
		return r
	}
	wb, plain := run("workbook"), run("plain")
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	report := fmt.Sprintf(`%d items:
  workbook.Write   %8.2fs  peak RSS %7.1f MiB (%7.1f MiB above the input)  %6.1f MiB file
  plain stream     %8.2fs  peak RSS %7.1f MiB (%7.1f MiB above the input)  %6.1f MiB file
  ratio            time %.2f×, peak RSS %.2f×, RSS above the input %.2f×  (goal ≤ 1.5×)
`, n,
		wb.elapsed.Seconds(), mb(wb.endKB), mb(wb.endKB-wb.inputKB), float64(wb.bytes)/(1<<20),
		plain.elapsed.Seconds(), mb(plain.endKB), mb(plain.endKB-plain.inputKB), float64(plain.bytes)/(1<<20),
		wb.elapsed.Seconds()/plain.elapsed.Seconds(), float64(wb.endKB)/float64(plain.endKB),
		float64(wb.endKB-wb.inputKB)/float64(max(plain.endKB-plain.inputKB, 1)))
	fmt.Print(report)
}

// TestWorkbookBenchChild is one measured process of TestWorkbookBench.
func TestWorkbookBenchChild(t *testing.T) {
	mode := os.Getenv(benchChildEnv)
	if mode == "" {
		t.Skip("run by TestWorkbookBench")
	}
	n, _ := strconv.Atoi(os.Getenv(benchEnv))
	in := benchInput(n)
	runtime.GC()
	inputKB := peakKB(t)
	cw := &countWriter{}
	start := time.Now()
	var err error
	if mode == "plain" {
		err = plainWrite(cw, in)
	} else {
		err = Write(cw, in)
	}
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("bench-result %d %d %d %d\n", elapsed.Nanoseconds(), inputKB, peakKB(t), cw.n)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// peakKB is the process's peak resident set (VmHWM) in KiB.
func peakKB(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: peak memory is measured on Linux only")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// benchInput is n synthetic commits tagged against the built-in catalogue,
// with web URLs, facts, a declared KSB on every third and a decision that
// did not apply on every tenth.
func benchInput(n int) Input {
	cat := ksb.Builtin()[0]
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	snap := &ledger.Snapshot{Apprentice: "ada", Reviews: map[string]*evidence.Review{}}
	items := make([]evidence.Item, n)
	snap.Views = make([]ledger.View, n)
	for i := range n {
		k1, k2 := cat.KSBs[i%len(cat.KSBs)].ID, cat.KSBs[(i*7+3)%len(cat.KSBs)].ID
		it := evidence.Item{Schema: evidence.SchemaVersion, ID: evidence.NewID("git", strconv.Itoa(i)), Apprentice: "ada",
			Source: "model-repo", SourceType: "git", Kind: evidence.KindCommit,
			Title:      fmt.Sprintf("Add drift check to the feature pipeline, part %d", i),
			Summary:    "Adds a population-stability check on the input features and alerts when it passes 0.2.",
			OccurredAt: base.Add(time.Duration(i) * time.Minute), CollectedAt: base.Add(time.Duration(n) * time.Minute),
			Origin: evidence.Origin{URI: "git+https://git.example/ml/service.git", NativeID: fmt.Sprintf("%040x", i)},
			Facts: map[string]any{"web_url": fmt.Sprintf("https://git.example/ml/service/commit/%040x", i),
				"files_changed": i % 13, "insertions": i % 101, "deletions": i % 37, "author": "Ada Lovelace"},
			Artefacts: []evidence.Artefact{{Name: "diff.patch", SHA256: fmt.Sprintf("%064x", i), Size: int64(i % 5000), MediaType: "text/x-diff"}},
			Tags: []evidence.Tag{{KSB: k1, By: "rule:drift-check", Confidence: 0.7, Reason: "adds a drift check", Catalogue: cat.ID},
				{KSB: k2, By: "rule:tests", Confidence: 0.6, Reason: "adds tests", Catalogue: cat.ID}},
		}
		if i%3 == 0 {
			it.Tags = append(it.Tags, evidence.Tag{KSB: k2, By: "declared:trailer", Confidence: 1, Reason: "KSB: trailer", Catalogue: cat.ID})
		}
		items[i] = it
		snap.Views[i] = ledger.View{Item: it, Tags: it.Tags, State: evidence.Fold(nil, &it, nil)}
		if i%10 == 0 { // a decision that did not apply
			at := base.Add(time.Duration(i) * time.Minute)
			snap.Views[i].State.Conflicts = []evidence.Conflict{{KSB: k1,
				Kept:      evidence.DecisionRef{ID: "d1", At: at, By: "Pat Coach", Role: "coach", Action: "reject"},
				Overruled: evidence.DecisionRef{ID: "d2", At: at.Add(time.Hour), By: "Ada Lovelace", Role: "apprentice", Action: "accept"}}}
		}
	}
	rep := coverage.Compute(cat, coverage.Target{}, "ada", items, nil, base)
	return Input{Snapshot: snap, Coverage: rep}
}

// plainWrite writes the cells Write writes, sheet by sheet, with plain
// stream writers: the baseline of the benchmark.
func plainWrite(w io.Writer, in Input) error {
	f := excelize.NewFile()
	defer f.Close()
	dirs := DefaultItemDirs(in.Snapshot)
	b := &builder{f: f, in: in, dir: func(id string) string { return dirs[id] }}
	_ = f.SetSheetName("Sheet1", SheetSummary)
	for _, s := range Sheets[1:] {
		if _, err := f.NewSheet(s); err != nil {
			return err
		}
	}
	stream := func(sheet string, rows func(set func([]any) error) error) error {
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			return err
		}
		r := 0
		if err := rows(func(cells []any) error {
			r++
			cell, _ := excelize.CoordinatesToCellName(1, r)
			return sw.SetRow(cell, cells)
		}); err != nil {
			return err
		}
		return sw.Flush()
	}
	strs := func(ss []string) []any {
		out := make([]any, len(ss))
		for i, s := range ss {
			out[i] = s
		}
		return out
	}
	rep := in.Coverage
	if err := stream(SheetSummary, func(set func([]any) error) error {
		for _, row := range [][]any{{"Apprentice", in.Snapshot.Apprentice}, {"Catalogue", rep.Catalogue}, {"Catalogue revision", rep.Revision},
			{"Covers", rep.Covers.Set}, {"Generated", rep.GeneratedAt.Format(time.RFC3339)}, {"Items", len(in.Snapshot.Views)},
			{"Items excluded by review", 0}, {"Ready for gateway", rep.Ready}, {"Readiness", rep.ReadyReason}, {"", ""}, {"Status", "KSBs"},
			{coverage.Confirmed, rep.Summary.Confirmed}, {coverage.Claimed, rep.Summary.Claimed}, {coverage.Suggested, rep.Summary.Suggested},
			{coverage.Gap, rep.Summary.Gap}, {"total", rep.Summary.Total}} {
			if err := set(row); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	ids, titles, _ := b.matrixItems()
	if err := stream(SheetMatrix, func(set func([]any) error) error {
		title, head := []any{"", "", "", "item title →"}, []any{"KSB", "Kind", "Status", "Statement"}
		col := map[string]int{}
		for i, id := range ids {
			title, head = append(title, titles[id]), append(head, id) // titles: withheld already
			col[id] = i
		}
		if err := set(title); err != nil {
			return err
		}
		if err := set(head); err != nil {
			return err
		}
		for _, row := range rep.KSBs {
			if err := set(matrixCells(row, col, len(ids))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	confirmed, claimed := map[string]bool{}, map[string]bool{}
	for _, row := range rep.KSBs {
		for _, id := range row.ConfirmedBy {
			confirmed[id] = true
		}
		for _, id := range row.ClaimedBy {
			claimed[id] = true
		}
	}
	if err := stream(SheetEvidence, func(set func([]any) error) error {
		if err := set(strs(evidenceHeaders)); err != nil {
			return err
		}
		for _, v := range in.Snapshot.Views {
			row, _, _ := b.evidenceCells(in.withhold(v), confirmed, claimed, 0)
			if err := set(row); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := stream(SheetGaps, func(set func([]any) error) error {
		if err := set(strs([]string{"KSB", "Kind", "Status", "Counted", "Method", "Grade theme", "Statement"})); err != nil {
			return err
		}
		for _, row := range rep.KSBs {
			if row.Status == coverage.Gap || row.Status == coverage.Suggested || row.Status == coverage.NotInCatalogue {
				if err := set(strs([]string{row.KSB, row.Kind, row.Status, fmt.Sprint(row.Counted), row.Method, row.GradeTheme, row.Statement})); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := stream(SheetReview, func(set func([]any) error) error {
		if err := set(strs(ReviewHeaders)); err != nil {
			return err
		}
		for _, v := range in.Snapshot.Views {
			if err := set(reviewCells(in.withhold(v))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	_, err := f.WriteTo(w)
	return err
}

package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

// fullCoverage copies the ledger folder without its index and computes
// the coverage of the copy from every item: what coverage from the link
// index must equal.
func fullCoverage(t *testing.T, r *pipeline.Runner, root string) coverage.Report {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(root)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dst, "apprentices", "jane", "index")); err != nil {
		t.Fatal(err)
	}
	s, err := fsstore.New(dst)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ledger.New(s, "jane")
	rep, _, err := pipeline.ComputeCoverage(context.Background(), l, r.Catalogue, r.Target, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func tagged(it evidence.Item, ksbs ...string) evidence.Item {
	for _, k := range ksbs {
		it.Tags = append(it.Tags, evidence.Tag{KSB: k, By: "declared:trailer", Confidence: 1, Reason: "declared"})
	}
	return it
}

// TestCoverageFromIndexMatchesFull checks that the coverage a run stores,
// and the coverage command's, computed from what the link index knows of
// the items, equal the coverage of every item read, while reading only the
// items with a review and those stored since the index was made: after a
// first run, after reviews and an item rewritten outside a run, and with
// the index corrupt.
func TestCoverageFromIndexMatchesFull(t *testing.T) {
	a, b, c := tagged(gitItem(shaA), "S10", "K5"), tagged(gitItem(shaB), "S10"), tagged(gitItem(shaC), "B5")
	d := tagged(eventItem(evidence.KindDeployment, "d1", map[string]any{"commit": shaC}), "S15")
	git := &scripted{items: emissions(a, b, c)}
	logs := &scripted{items: emissions(d)}
	r, root := newRunner(t, pipeline.Source{Name: "git", Type: "git", Collector: git}, pipeline.Source{Name: "logs", Type: "logs", Collector: logs})
	cs := &countingStore{Store: r.Ledger.Store()}
	r.Ledger, _ = ledger.New(cs, "jane")
	ctx := context.Background()

	stored := func(round string) coverage.Report {
		t.Helper()
		rep, err := pipeline.ReadCoverage(ctx, r.Ledger)
		if err != nil {
			t.Fatalf("%s: %v", round, err)
		}
		return rep
	}
	same := func(round string, got coverage.Report) {
		t.Helper()
		want := fullCoverage(t, r, root)
		got.GeneratedAt, want.GeneratedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: coverage from the index\n%+v\nfrom every item\n%+v", round, got, want)
		}
	}
	reads := func(round string, want ...string) {
		t.Helper()
		slices.Sort(want)
		if got := cs.itemsRead(); !slices.Equal(got, want) {
			t.Errorf("%s read items %v, want %v", round, got, want)
		}
	}

	rep, err := r.Run(ctx, pipeline.Options{Command: "run", Coverage: true})
	if err != nil || rep.Outcome != pipeline.OutcomeOK {
		t.Fatalf("run 1: %v %+v", err, rep)
	}
	same("run 1", stored("run 1"))
	reads("run 1", d.ID) // d gains its link to c; nothing is read for coverage
	if n := cs.itemLists(); n != 1 {
		t.Errorf("run 1 listed the items %d times, want once (the coverage step takes the link step's listing)", n)
	}
	if n := cs.indexesRead(); n != 1 {
		t.Errorf("run 1 read the link index %d times, want once (the link step; the coverage step takes what it knows)", n)
	}

	// Between runs: a coach rejects S10 on a and accepts K12, the
	// apprentice excludes b, and c is rewritten with another tag (as retag
	// does).
	yes := true
	if _, err := r.Ledger.AddDecision(ctx, a.ID, evidence.Decision{At: time.Now(), By: "pat", Role: "coach", Reject: []string{"S10"}, Accept: []string{"K12"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Ledger.AddDecision(ctx, b.ID, evidence.Decision{At: time.Now(), By: "jane", Role: evidence.RoleApprentice, Exclude: &yes}); err != nil {
		t.Fatal(err)
	}
	cv, err := r.Ledger.GetItem(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	cv.Tags = append(cv.Tags, evidence.Tag{KSB: "K2", By: "declared:trailer", Confidence: 1, Reason: "declared", Catalogue: cv.Tags[0].Catalogue, Revision: cv.Tags[0].Revision})
	if err := r.Ledger.PutItem(ctx, cv); err != nil {
		t.Fatal(err)
	}
	cs.itemsRead()

	e := tagged(eventItem(evidence.KindDeployment, "d2", map[string]any{}), "S15", "K12")
	git.items, logs.items = nil, emissions(e)
	if rep, err = r.Run(ctx, pipeline.Options{Command: "run", Coverage: true}); err != nil || rep.Outcome != pipeline.OutcomeOK {
		t.Fatalf("run 2: %v %+v", err, rep)
	}
	same("run 2", stored("run 2"))
	reads("run 2", a.ID, b.ID, c.ID) // reviewed, and rewritten; e is not read back
	if n := cs.indexesRead(); n != 1 {
		t.Errorf("run 2 read the link index %d times, want once", n)
	}

	// The coverage command reads the index the run left.
	got, _, err := pipeline.ComputeCoverage(ctx, r.Ledger, r.Catalogue, r.Target, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	same("coverage", got)
	reads("coverage", a.ID, b.ID)
	// An item rewritten since the index was made is read again.
	dv, err := r.Ledger.GetItem(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	dv.Tags = dv.Tags[:0]
	if err := r.Ledger.PutItem(ctx, dv); err != nil {
		t.Fatal(err)
	}
	cs.itemsRead()
	if got, _, err = pipeline.ComputeCoverage(ctx, r.Ledger, r.Catalogue, r.Target, time.Now()); err != nil {
		t.Fatal(err)
	}
	same("coverage after a rewrite", got)
	reads("coverage after a rewrite", a.ID, b.ID, d.ID)

	// A corrupt index, or one whose tags name an origin it does not
	// have: every item is read.
	index := filepath.Join(root, "apprentices", "jane", "index", "links.json")
	b0, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"{not json", strings.Replace(string(b0), `"tag_from":[0`, `"tag_from":[99`, 1)} {
		if bad == string(b0) {
			t.Fatalf("no tag_from in the index: %.300s", b0)
		}
		if err := os.WriteFile(index, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, _, err = pipeline.ComputeCoverage(ctx, r.Ledger, r.Catalogue, r.Target, time.Now()); err != nil {
			t.Fatal(err)
		}
		same("corrupt index", got)
		reads("corrupt index", a.ID, b.ID, c.ID, d.ID, e.ID)
	}
}

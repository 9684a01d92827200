package pipeline_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

// countingStore passes everything to a real store and records the keys
// read with Get.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	gets  []string
	lists []string // prefixes listed
	// indexGets counts the Gets of an index (apprentices/<id>/index/…).
	indexGets int
}

func (c *countingStore) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	c.mu.Lock()
	c.lists = append(c.lists, prefix)
	c.mu.Unlock()
	return c.Store.List(ctx, prefix, fn)
}

// itemLists returns how many Lists of an items folder were made since the
// last call.
func (c *countingStore) itemLists() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, p := range c.lists {
		if strings.HasSuffix(p, "/items/") {
			n++
		}
	}
	c.lists = nil
	return n
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, store.Info, error) {
	c.mu.Lock()
	c.gets = append(c.gets, key)
	if strings.Contains(key, "/index/") {
		c.indexGets++
	}
	c.mu.Unlock()
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Sync(ctx context.Context) error { return store.Sync(ctx, c.Store) }

// indexesRead returns how many Gets of an index were made since the last
// call.
func (c *countingStore) indexesRead() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.indexGets
	c.indexGets = 0
	return n
}

// itemsRead returns the IDs of the items read since the last call.
func (c *countingStore) itemsRead() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, k := range c.gets {
		if _, rest, ok := strings.Cut(k, "/items/"); ok {
			ids = append(ids, strings.TrimSuffix(rest, ".json"))
		}
	}
	c.gets = nil
	slices.Sort(ids)
	return slices.Compact(ids)
}

// fullLinks copies the ledger folder and resolves the copy's links from
// every item (Rebuild): the result the incremental step must match.
func fullLinks(t *testing.T, root string) (*pipeline.LinkSummary, []string, int) {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(root)); err != nil {
		t.Fatal(err)
	}
	s, err := fsstore.New(dst)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ledger.New(s, "jane")
	sum, warns, err := pipeline.Link(context.Background(), l, pipeline.LinkOptions{Rebuild: true})
	if err != nil {
		t.Fatal(err)
	}
	return sum, warns, sum.Updated
}

func linkWarnings(ws []string) []string {
	var out []string
	for _, w := range ws {
		if strings.HasPrefix(w, "links:") {
			out = append(out, w)
		}
	}
	return out
}

// TestLinkIncrementalMatchesFull builds a ledger in three runs, each of
// which changes what earlier items resolve to, and checks after each that
// the link step, reading only what it does not know, leaves the ledger
// and reports exactly as resolving from every item does: an old
// deployment gains the link to a run stored later; an old abbreviation
// becomes ambiguous when a second commit starting with it arrives; a new
// item names an old one; a link goes when its target's item goes (no
// --full needed); an item rewritten outside a run (as retag or add do) is
// read again; a stored list of run IDs ([]string in memory, a JSON list
// when stored) resolves the same; a collector's link to a commit no git
// source has is removed; and a corrupt index is rebuilt.
func TestLinkIncrementalMatchesFull(t *testing.T) {
	const (
		shaE     = "eeee0000eeee0000eeee0000eeee0000eeee0000"
		runOther = "0123456789abcdef0123456789abcdef"
		noCommit = "9999999999999999999999999999999999999999"
	)
	commitA, commitB, commitC, commitE := gitItem(shaA), gitItem(shaB), gitItem(shaC), gitItem(shaE)
	other := runItem("mlflow", runOther, map[string]any{"git_commit": shaC})
	orphan := runItem("mlflow", "fedcba9876543210fedcba9876543210", map[string]any{"git_commit": noCommit},
		evidence.Link{Rel: pipeline.RelTrainedFrom, Item: evidence.NewID("git", noCommit)})
	d1 := eventItem(evidence.KindDeployment, "d1", map[string]any{"mlflow_run_id": runOK})
	p1 := eventItem(evidence.KindPipelineRun, "p1", map[string]any{"mlflow_run_ids": []string{runOK, runOther}})
	ciA := eventItem(evidence.KindCIJob, "ci-a", map[string]any{"commit": "a1b2c3d4"})
	ciE := eventItem(evidence.KindCIJob, "ci-e", map[string]any{"commit": shaE[:10]})
	d4 := eventItem(evidence.KindDeployment, "d4", map[string]any{})
	d3 := eventItem(evidence.KindDeployment, "d3", map[string]any{"commit": shaC})
	run := runItem("mlflow", runOK, nil)

	git := &scripted{items: emissions(commitA, commitC, commitE)}
	ml := &scripted{items: emissions(other, orphan)}
	logs := &scripted{items: emissions(d1, p1, ciA, ciE, d4)}
	r, root := newRunner(t, pipeline.Source{Name: "logs", Type: "logs", Collector: logs},
		pipeline.Source{Name: "ml", Type: "mlflow", Collector: ml}, pipeline.Source{Name: "git", Type: "git", Collector: git})
	cs := &countingStore{Store: r.Ledger.Store()}
	r.Ledger, _ = ledger.New(cs, "jane")
	ctx := context.Background()

	links := func(id string) []evidence.Link {
		t.Helper()
		it, err := r.Ledger.GetItem(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return it.Links
	}
	check := func(round string, rep *pipeline.Report) {
		t.Helper()
		if rep.Links == nil {
			t.Fatalf("%s: no links summary", round)
		}
		full, fullWarns, updated := fullLinks(t, root)
		if updated != 0 {
			t.Errorf("%s: resolving from every item changes %d items the incremental step left", round, updated)
		}
		got := *rep.Links
		got.Updated, full.Updated = 0, 0
		if !reflect.DeepEqual(&got, full) {
			t.Errorf("%s: incremental summary\n%+v\nfull\n%+v", round, got, *full)
		}
		if w, fw := linkWarnings(rep.Warnings), linkWarnings(fullWarns); !slices.Equal(w, fw) {
			t.Errorf("%s: incremental warnings\n%q\nfull\n%q", round, w, fw)
		}
	}

	rep, err := r.Run(ctx, pipeline.Options{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	check("run 1", rep)
	// Only the items whose links change are read (to be stored again):
	// what the run stored is not read back to be resolved.
	if got := cs.itemsRead(); len(got) != rep.Links.Updated || slices.Contains(got, commitA.ID) {
		t.Errorf("run 1 read items %v; %d changed links", got, rep.Links.Updated)
	}
	if got, want := links(ciA.ID), []evidence.Link{{Rel: pipeline.RelMentionsCommit, Item: commitA.ID}}; !slices.Equal(got, want) {
		t.Errorf("run 1: ci-a links %v, want %v", got, want)
	}
	if got := links(orphan.ID); len(got) != 0 {
		t.Errorf("run 1: the collector's link to a commit no source has stays: %v", got)
	}

	// Between runs: commit E's item goes (as fsck --repair quarantines
	// it), and d4 is rewritten outside a run, now naming commit C.
	if err := os.Remove(filepath.Join(root, "apprentices", "jane", "items", commitE.ID+".json")); err != nil {
		t.Fatal(err)
	}
	d4v, err := r.Ledger.GetItem(ctx, d4.ID)
	if err != nil {
		t.Fatal(err)
	}
	d4v.Facts["commit"] = shaC
	if err := r.Ledger.PutItem(ctx, d4v); err != nil {
		t.Fatal(err)
	}
	cs.itemsRead()

	git.items, ml.items, logs.items = emissions(commitB), emissions(run), emissions(d3)
	rep, err = r.Run(ctx, pipeline.Options{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	check("run 2", rep)
	read := cs.itemsRead()
	for _, id := range []string{commitA.ID, commitB.ID, commitC.ID, other.ID, run.ID} {
		if slices.Contains(read, id) {
			t.Errorf("run 2 read item %s, unchanged and known", id)
		}
	}
	if !slices.Contains(read, d4.ID) {
		t.Errorf("run 2 did not read d4, rewritten since the index was made (read %v)", read)
	}
	for _, c := range []struct {
		it   evidence.Item
		want []evidence.Link
	}{
		{d1, []evidence.Link{{Rel: pipeline.RelDeploysRun, Item: run.ID}}},
		{p1, sorted([]evidence.Link{{Rel: pipeline.RelMentionsRun, Item: run.ID}, {Rel: pipeline.RelMentionsRun, Item: other.ID}})},
		{ciA, nil}, // now ambiguous
		{ciE, nil}, // its commit went
		{d3, []evidence.Link{{Rel: pipeline.RelMentionsCommit, Item: commitC.ID}}},
		{d4, []evidence.Link{{Rel: pipeline.RelMentionsCommit, Item: commitC.ID}}},
		{other, []evidence.Link{{Rel: pipeline.RelTrainedFrom, Item: commitC.ID}}},
	} {
		if got := links(c.it.ID); !slices.Equal(got, c.want) && (len(got) != 0 || len(c.want) != 0) {
			t.Errorf("run 2: %s links %v, want %v", c.it.Title, got, c.want)
		}
	}

	// A corrupt index is rebuilt from the items.
	if err := os.WriteFile(filepath.Join(root, "apprentices", "jane", "index", "links.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	logs.items, git.items, ml.items = emissions(eventItem(evidence.KindCIJob, "ci-c", map[string]any{"commit": shaC[:7]})), nil, nil
	rep, err = r.Run(ctx, pipeline.Options{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	check("run 3", rep)
}

func emissions(items ...evidence.Item) []collectors.Emission {
	out := make([]collectors.Emission, len(items))
	for i, it := range items {
		out[i] = collectors.Emission{Item: it}
	}
	return out
}

func sorted(ls []evidence.Link) []evidence.Link {
	slices.SortFunc(ls, func(a, b evidence.Link) int { return strings.Compare(a.Item, b.Item) })
	return ls
}

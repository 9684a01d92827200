package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// counting wraps a store, counting requests by kind and the most Gets in
// flight at once; Get waits a little so that overlap shows, and fails for
// keys in failGet.
type counting struct {
	store.Store
	mu       sync.Mutex
	calls    map[string]int
	inFlight atomic.Int32
	maxIn    atomic.Int32
	failGet  string
}

func (c *counting) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
}

func (c *counting) Get(ctx context.Context, key string) (io.ReadCloser, store.Info, error) {
	c.count("get")
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for {
		m := c.maxIn.Load()
		if n <= m || c.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond)
	if c.failGet != "" && strings.Contains(key, c.failGet) {
		return nil, store.Info{}, errors.New("disk on fire")
	}
	return c.Store.Get(ctx, key)
}

func (c *counting) Stat(ctx context.Context, key string) (store.Info, error) {
	c.count("stat")
	return c.Store.Stat(ctx, key)
}

func (c *counting) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	c.count("list")
	return c.Store.List(ctx, prefix, fn)
}

func TestSnapshot(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, err := ledger.New(s, "jane")
		if err != nil {
			t.Fatal(err)
		}
		const n = 40
		for i := range n {
			it := item(fmt.Sprintf("c%02d", i))
			it.OccurredAt = it.OccurredAt.Add(time.Duration(n-i) * time.Hour) // stored order ≠ time order
			it.Tags = []evidence.Tag{{KSB: "S10", By: "rule:x", Confidence: 0.5}, {KSB: "K12", By: "rule:y", Confidence: 0.5}}
			if err := l.PutItem(ctx, it); err != nil {
				t.Fatal(err)
			}
		}
		first, second := item("c00").ID, item("c01").ID
		yes := true
		if _, err := l.AddDecision(ctx, first, evidence.Decision{At: time.Now(), By: "pat", Role: "coach", Accept: []string{"B5"}, Reject: []string{"S10"}, Exclude: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.AddDecision(ctx, second, evidence.Decision{At: time.Now(), By: "pat", Role: "coach", Confidential: &yes}); err != nil {
			t.Fatal(err)
		}
		orphan := item("gone").ID
		if _, err := l.AddDecision(ctx, orphan, evidence.Decision{At: time.Now(), By: "pat", Role: "coach", Note: "x"}); err != nil {
			t.Fatal(err)
		}
		badItem := l.ItemKey(item("bad").ID)
		if _, err := s.Put(ctx, badItem, strings.NewReader("{not json"), -1, store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		badReview := l.ReviewKey(item("c02").ID)
		if _, err := s.Put(ctx, badReview, strings.NewReader("[]"), -1, store.PutOptions{}); err != nil {
			t.Fatal(err)
		}

		c := &counting{Store: s}
		cl, _ := ledger.New(c, "jane")
		snap, err := cl.Snapshot(ctx, ledger.SnapshotOptions{Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		// One request per object: n+1 item Gets, 4 review Gets, 2 Lists, no Stat.
		if c.calls["get"] != n+1+4 || c.calls["list"] != 2 || c.calls["stat"] != 0 {
			t.Errorf("requests %v, want %d gets, 2 lists, no stat", c.calls, n+5)
		}
		if m := c.maxIn.Load(); m > 4 || m < 2 {
			t.Errorf("at most %d Gets in flight, want 2..4 (bounded and concurrent)", m)
		}
		if len(snap.Views) != n {
			t.Fatalf("%d views, want %d", len(snap.Views), n)
		}
		for i := 1; i < n; i++ {
			if snap.Views[i].Item.OccurredAt.Before(snap.Views[i-1].Item.OccurredAt) {
				t.Fatalf("views not oldest first at %d", i)
			}
		}
		got := map[string]ledger.View{}
		for _, v := range snap.Views {
			got[v.Item.ID] = v
		}
		v := got[first]
		if !v.Excluded || v.Confidential || v.Review == nil || len(v.Item.Tags) != 2 {
			t.Fatalf("first item: %+v", v)
		}
		if ksbs := tagKSBs(v.Tags); ksbs != "K12 B5" {
			t.Errorf("reviewed tags %q, want %q (S10 rejected, B5 accepted)", ksbs, "K12 B5")
		}
		if v := got[second]; v.Excluded || !v.Confidential {
			t.Errorf("second item: excluded %v confidential %v", v.Excluded, v.Confidential)
		}
		if snap.Reviews[orphan] == nil {
			t.Error("review of an item not stored was dropped")
		}
		if len(snap.Corrupt) != 2 || !strings.Contains(snap.Corrupt[0].Error(), badItem) || !strings.Contains(snap.Corrupt[1].Error(), badReview) ||
			!errors.Is(snap.Corrupt[0], ledger.ErrCorrupt) {
			t.Errorf("corrupt %v, want the bad item then the bad review", snap.Corrupt)
		}
		if len(snap.Items()) != n || snap.Items()[0].ID != snap.Views[0].Item.ID {
			t.Error("Items does not follow Views")
		}

		// A failing store ends the read with its error.
		c.failGet = item("c07").ID
		if _, err := cl.Snapshot(ctx, ledger.SnapshotOptions{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("store failure: %v", err)
		}
		// So does a cancelled context.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := cl.Snapshot(cctx, ledger.SnapshotOptions{}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
		// An exact view applies the review the same way.
		one, err := l.View(ctx, first, nil)
		if err != nil || tagKSBs(one.Tags) != "K12 B5" || !one.Excluded {
			t.Errorf("View: %+v %v", one, err)
		}
		if _, err := l.View(ctx, item("none").ID, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("View of a missing item: %v", err)
		}
	})
}

func tagKSBs(tags []evidence.Tag) string {
	var s []string
	for _, t := range tags {
		s = append(s, t.KSB)
	}
	return strings.Join(s, " ")
}

// TestSnapshotKnown checks that Snapshot takes a Known item in place of
// reading it only at the version listed and only when it has no review,
// reads every other item, and never shows a Known item that is not stored.
func TestSnapshotKnown(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, err := ledger.New(s, "jane")
		if err != nil {
			t.Fatal(err)
		}
		const n = 10
		for i := range n {
			if err := l.PutItem(ctx, item(fmt.Sprintf("k%02d", i))); err != nil {
				t.Fatal(err)
			}
		}
		reviewed, changed := item("k03").ID, item("k04").ID
		if _, err := l.AddDecision(ctx, reviewed, evidence.Decision{At: time.Now(), By: "pat", Role: "coach", Note: "seen"}); err != nil {
			t.Fatal(err)
		}
		versions, err := listVersions(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		known := map[string]ledger.Known{}
		for _, v := range versions {
			sum := evidence.Item{ID: v.ID, Title: "known"}
			sum.Normalize()
			known[v.ID] = ledger.Known{ETag: v.ETag, Item: sum}
		}
		ghost := item("ghost").ID
		known[ghost] = ledger.Known{ETag: "x", Item: evidence.Item{ID: ghost, Title: "known"}}
		// Stored again after the caller learnt it: another version.
		again := item("k04")
		again.Title = "stored again"
		if err := l.PutItem(ctx, again); err != nil {
			t.Fatal(err)
		}
		bad := l.ItemKey(item("bad").ID)
		if _, err := s.Put(ctx, bad, strings.NewReader("{not json"), -1, store.PutOptions{}); err != nil {
			t.Fatal(err)
		}

		c := &counting{Store: s}
		cl, _ := ledger.New(c, "jane")
		snap, err := cl.Snapshot(ctx, ledger.SnapshotOptions{Known: known})
		if err != nil {
			t.Fatal(err)
		}
		// Read: the reviewed item, the one stored again, the bad one, and the review.
		if c.calls["get"] != 4 || c.calls["list"] != 2 {
			t.Errorf("requests %v, want 4 gets (3 items, 1 review) and 2 lists", c.calls)
		}
		if len(snap.Views) != n {
			t.Fatalf("%d views, want %d (the ghost is not stored)", len(snap.Views), n)
		}
		for _, v := range snap.Views {
			want := "known"
			switch v.Item.ID {
			case reviewed:
				want = item("k03").Title
			case changed:
				want = "stored again"
			}
			if v.Item.Title != want {
				t.Errorf("%s: title %q, want %q", v.Item.ID, v.Item.Title, want)
			}
		}
		if snap.Views[0].Review != nil && snap.Views[0].Item.ID != reviewed {
			t.Error("a review attached to the wrong item")
		}
		if len(snap.Corrupt) != 1 || !strings.Contains(snap.Corrupt[0].Error(), bad) {
			t.Errorf("corrupt %v, want the bad item", snap.Corrupt)
		}

		// With the caller's listing, only the reviews are listed.
		listing, err := cl.ListItems(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c.calls = nil
		again2, err := cl.Snapshot(ctx, ledger.SnapshotOptions{Known: known, Listing: listing})
		if err != nil {
			t.Fatal(err)
		}
		if c.calls["list"] != 1 || c.calls["get"] != 4 || len(again2.Views) != n || len(again2.Corrupt) != 1 {
			t.Errorf("with a listing: requests %v (want 1 list, 4 gets), %d views, corrupt %v", c.calls, len(again2.Views), again2.Corrupt)
		}
	})
}

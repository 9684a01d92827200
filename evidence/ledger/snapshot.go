package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// DefaultConcurrency is how many objects a Snapshot (and Items, Reviews)
// reads at once when the caller does not say.
const DefaultConcurrency = 16

// SnapshotOptions tune Snapshot. The zero value reads everything with
// DefaultConcurrency workers.
type SnapshotOptions struct {
	// Concurrency bounds how many objects are read at once (<= 0:
	// DefaultConcurrency).
	Concurrency int
	// Verifier checks the reviews' signatures against the configured
	// reviewers (nil: none configured, nothing is confirmed).
	Verifier *evidence.Verifier
	// Known holds, by item ID, what the caller already knows of stored
	// items. Snapshot takes Known[id].Item in place of reading the item
	// when the List gives the version Known[id].ETag, unless the item has
	// a review: a review's signatures are checked against the whole item,
	// so a reviewed item is always read. A Known item may be a summary
	// rather than the whole item, and the Views then hold the summary: a
	// summary with the item's ID and its tags' KSB, By, Catalogue and
	// Revision as stored gives the same coverage (coverage.Compute reads
	// no more of an unreviewed item), so only a caller that computes
	// coverage should pass summaries. The caller vouches that each Known
	// item was made from the version its ETag names; Snapshot cannot check
	// what it does not read.
	Known map[string]Known
	// Listing, when set, stands in for Snapshot's own List of the items
	// folder: a caller that has just listed it (ListItems) and has
	// written nothing there since, or only items whose Known entry names
	// the version written, spares a second List. (The run's link step
	// lists the items, may store some again with new links, and hands the
	// coverage step its listing and the new versions.)
	Listing *ItemListing
}

// Known is what a caller knows of one stored item without reading it: the
// item (or a summary of it) and the ETag of the version it was made from.
type Known struct {
	ETag string
	Item evidence.Item
}

// View is one item as the outputs show it: the stored item, its review
// (nil if none) and the review's effect.
type View struct {
	// Item is the item as stored, its tags as the tagger left them.
	Item evidence.Item
	// Review holds every decision on the item; nil if there is none.
	Review *evidence.Review
	// Tags are the item's tags with the review applied
	// (evidence.Reviewed); never nil.
	Tags []evidence.Tag
	// Excluded and Confidential are the review's say (evidence.Fold:
	// exclude by the latest decision of the highest role; confidential
	// while any marking stands).
	Excluded, Confidential bool
	// State is the review's effect, with each decision's signature check.
	State evidence.State
}

func newView(it evidence.Item, rv *evidence.Review, v *evidence.Verifier) View {
	st := evidence.Fold(rv, &it, v)
	tags := evidence.Reviewed(normalizeTags(it), st)
	if tags == nil {
		tags = []evidence.Tag{}
	}
	return View{Item: it, Review: rv, Tags: tags, Excluded: st.Excluded, Confidential: st.Confidential, State: st}
}

// normalizeTags returns it with its tags' KSB IDs normalised.
func normalizeTags(it evidence.Item) evidence.Item {
	tags := make([]evidence.Tag, len(it.Tags))
	for i, t := range it.Tags {
		t.KSB = evidence.NormalizeKSB(t.KSB)
		tags[i] = t
	}
	it.Tags = tags
	return it
}

// Snapshot is everything the read side needs from one apprentice's ledger,
// read once: every readable item with its review applied, the reviews,
// and the objects that could not be read.
type Snapshot struct {
	Apprentice string
	// Views are the readable items, oldest first (by OccurredAt, then ID).
	Views []View
	// Reviews maps item ID to its review, including reviews of items that
	// are not (or no longer) stored.
	Reviews map[string]*evidence.Review
	// Corrupt lists the objects skipped because they could not be read as
	// what their key says (each a *CorruptError), in key order.
	Corrupt []error
}

// Items returns the stored items (tags as tagged, reviews not applied), in
// the order of Views: the input coverage.Compute takes with Reviews.
func (s *Snapshot) Items() []evidence.Item {
	out := make([]evidence.Item, len(s.Views))
	for i := range s.Views {
		out[i] = s.Views[i].Item
	}
	return out
}

// CorruptStrings returns the corrupt objects' messages.
func (s *Snapshot) CorruptStrings() []string {
	out := make([]string, len(s.Corrupt))
	for i, e := range s.Corrupt {
		out[i] = e.Error()
	}
	return out
}

// Snapshot reads every item and review of the ledger, with at most
// opts.Concurrency reads at once and one request (a Get) per object, plus
// one List per folder; it reads no item that opts.Known already holds
// (see SnapshotOptions.Known). Objects that cannot be read as what their
// key says are skipped and listed in Corrupt; an object deleted between
// the List and its Get is left out silently. Any other error (the store
// failing, ctx ending) ends the read and is returned.
func (l *Ledger) Snapshot(ctx context.Context, opts SnapshotOptions) (*Snapshot, error) {
	snap := &Snapshot{Apprentice: l.apprentice}
	var corrupt []error
	onCorrupt := func(err error) { corrupt = append(corrupt, err) }
	var err error
	snap.Reviews, err = l.reviews(ctx, opts.Concurrency, onCorrupt)
	if err != nil {
		return nil, err
	}
	// A reviewed item is always read (its signatures cover the whole item).
	known := func(id, etag string) (evidence.Item, bool) {
		k, ok := opts.Known[id]
		if !ok || k.ETag == "" || k.ETag != etag || snap.Reviews[id] != nil {
			return evidence.Item{}, false
		}
		return k.Item, true
	}
	if opts.Known == nil {
		known = nil
	}
	listing := opts.Listing
	if listing == nil {
		if listing, err = l.ListItems(ctx); err != nil {
			return nil, err
		}
	}
	items, err := l.itemsKnown(ctx, opts.Concurrency, listing, known, onCorrupt)
	if err != nil {
		return nil, err
	}
	snap.Corrupt = corrupt
	sort.SliceStable(snap.Corrupt, func(i, j int) bool { return corruptKey(snap.Corrupt[i]) < corruptKey(snap.Corrupt[j]) })
	// Sorted as pointers, before the (much larger) Views are made.
	slices.SortStableFunc(items, func(a, b *evidence.Item) int {
		return evidence.CompareOccurred(a.OccurredAt, a.ID, b.OccurredAt, b.ID)
	})
	snap.Views = make([]View, len(items))
	for i, it := range items {
		snap.Views[i] = newView(*it, snap.Reviews[it.ID], opts.Verifier)
	}
	return snap, nil
}

func corruptKey(err error) string {
	var ce *CorruptError
	if errors.As(err, &ce) {
		return ce.Key
	}
	return err.Error()
}

// View reads one item by its exact ID with its review applied, checking
// signatures with v (nil: no reviewer configured): store.ErrNotFound if
// there is no such item, a *CorruptError if the item or its review cannot
// be read.
func (l *Ledger) View(ctx context.Context, id string, v *evidence.Verifier) (View, error) {
	it, err := l.GetItem(ctx, id)
	if err != nil {
		return View{}, err
	}
	rv, err := l.Review(ctx, id)
	if err != nil {
		return View{}, err
	}
	return newView(*it, rv, v), nil
}

// listKeys lists the keys under the ledger folder dir ("reviews/").
func (l *Ledger) listKeys(ctx context.Context, dir string) ([]string, error) {
	var keys []string
	err := l.s.List(ctx, l.prefix+dir, func(in store.Info) error {
		keys = append(keys, in.Key)
		return nil
	})
	return keys, err
}

// readEach calls read for every key with at most n calls at once (n <= 0:
// DefaultConcurrency), in no particular order. It stops at the first error
// read returns (or ctx's) and returns it.
func readEach(ctx context.Context, n int, keys []string, read func(ctx context.Context, i int, key string) error) error {
	if n <= 0 {
		n = DefaultConcurrency
	}
	n = min(n, len(keys))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := read(ctx, i, keys[i]); err != nil {
					once.Do(func() { first = err; cancel(err) })
				}
			}
		}()
	}
feed:
	for i := range keys {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// items reads every stored item; see Items.
func (l *Ledger) items(ctx context.Context, n int, onCorrupt func(error)) ([]*evidence.Item, error) {
	listing, err := l.ListItems(ctx)
	if err != nil {
		return nil, err
	}
	return l.itemsKnown(ctx, n, listing, nil, onCorrupt)
}

// itemsKnown reads the items listing names, taking from known (when not
// nil) each item it holds at the version listed instead of reading it.
func (l *Ledger) itemsKnown(ctx context.Context, n int, listing *ItemListing, known func(id, etag string) (evidence.Item, bool), onCorrupt func(error)) ([]*evidence.Item, error) {
	keys := listing.keys
	got := make([]*evidence.Item, len(keys))
	if known != nil {
		for i, k := range keys {
			if id, ok := listing.id(k); ok {
				if it, ok := known(id, listing.etags[i]); ok {
					got[i] = &it
				}
			}
		}
	}
	errs := make([]error, len(keys))
	todo, at := keys, []int(nil) // the keys to read; at[j] is todo[j]'s index in keys
	if known != nil {
		todo = nil
		for i, k := range keys {
			if got[i] == nil {
				todo, at = append(todo, k), append(at, i)
			}
		}
	}
	err := readEach(ctx, n, todo, func(ctx context.Context, j int, k string) error {
		i := j
		if at != nil {
			i = at[j]
		}
		if !strings.HasSuffix(k, ".json") {
			errs[i] = &CorruptError{Key: k, Err: errors.New("not an item key")}
			return nil
		}
		it, err := l.readItem(ctx, k)
		switch {
		case err == nil:
			got[i] = it
		case errors.Is(err, ErrCorrupt):
			errs[i] = err
		case errors.Is(err, store.ErrNotFound): // deleted while listing
		default:
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	items := make([]*evidence.Item, 0, len(keys))
	for i := range keys {
		if errs[i] != nil && onCorrupt != nil {
			onCorrupt(errs[i])
		}
		if got[i] != nil {
			items = append(items, got[i])
		}
	}
	return items, nil
}

// reviews reads every stored review; see Reviews.
func (l *Ledger) reviews(ctx context.Context, n int, onCorrupt func(error)) (map[string]*evidence.Review, error) {
	p := l.prefix + "reviews/"
	keys, err := l.listKeys(ctx, "reviews/")
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	got := make([]*evidence.Review, len(keys))
	errs := make([]error, len(keys))
	err = readEach(ctx, n, keys, func(ctx context.Context, i int, k string) error {
		id, ok := strings.CutSuffix(strings.TrimPrefix(k, p), ".json")
		if !ok || !evidence.ValidID(id) {
			errs[i] = &CorruptError{Key: k, Err: errors.New("not a review key")}
			return nil
		}
		var r evidence.Review
		_, err := l.getJSON(ctx, k, &r)
		switch {
		case err == nil:
			got[i] = &r
		case errors.Is(err, ErrCorrupt):
			errs[i] = err
		case errors.Is(err, store.ErrNotFound):
		default:
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*evidence.Review, len(keys))
	for i, k := range keys {
		if errs[i] != nil && onCorrupt != nil {
			onCorrupt(errs[i])
		}
		if got[i] != nil {
			id, _ := strings.CutSuffix(strings.TrimPrefix(k, p), ".json")
			out[id] = got[i]
		}
	}
	return out, nil
}

package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// Link relations the linking step makes (docs/ledger.md, "Links"). The
// step owns these relations: on every run it recomputes them from the
// items' facts, adding those whose target is in the ledger and removing
// those whose target is not.
const (
	// RelDeploysRun: a deployment or rollback names the MLflow run whose
	// model it deploys (fact mlflow_run_id).
	RelDeploysRun = "deploys_run"
	// RelMentionsRun: any other item (a pipeline run, …) names an MLflow
	// run (facts mlflow_run_id, mlflow_run_ids).
	RelMentionsRun = "mentions_run"
	// RelMentionsCommit: an item (a deployment, a CI job, …) names a
	// commit, full or abbreviated (fact commit).
	RelMentionsCommit = "mentions_commit"
	// RelTrainedFrom is trainrun.RelTrainedFrom: a training run records
	// the commit of its code (fact git_commit).
	RelTrainedFrom = trainrun.RelTrainedFrom
)

// Inverse relations, as a link's target sees it (Backlinks).
const (
	RelDeployedBy  = "deployed_by"
	RelMentionedBy = "mentioned_by"
)

// ownedRels are the relations Link recomputes.
var ownedRels = map[string]bool{RelDeploysRun: true, RelMentionsRun: true, RelMentionsCommit: true, RelTrainedFrom: true}

// Reference kinds of an Unresolved reference.
const (
	RefMLflowRun = "mlflow_run"
	RefCommit    = "commit"
)

// Unresolved is a reference an item's facts make that names no item in
// the ledger (or, for an abbreviated SHA, more than one).
type Unresolved struct {
	Item   string `json:"item"`   // the referring item's ID
	Fact   string `json:"fact"`   // the fact that holds the reference
	Ref    string `json:"ref"`    // "mlflow_run" or "commit"
	Value  string `json:"value"`  // the run ID or SHA as the fact holds it
	Reason string `json:"reason"` // "not in the ledger", "ambiguous: N commits"
}

func (u Unresolved) String() string {
	what := "MLflow run"
	if u.Ref == RefCommit {
		what = "commit"
	}
	return fmt.Sprintf("%s names %s %s (fact %s): %s", u.Item, what, u.Value, u.Fact, u.Reason)
}

var (
	runIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	shaPattern   = regexp.MustCompile(`^[0-9a-f]{7,64}$`)
)

// linkFacts are the facts the link step reads (newLinkIndex, references);
// a linkEntry keeps only these.
var linkFacts = [...]string{"run_id", "mlflow_run_id", "mlflow_run_ids", "commit", "git_commit"}

// linkEntry is what a run knows of one item without reading it: everything
// of it that resolving references reads, its links, and its tags, which is
// all the coverage step reads of an item without a review (knownItems).
// The link index holds one per item with the ETag of the version it was
// made from.
type linkEntry struct {
	ID         string          `json:"id"`
	ETag       string          `json:"etag"`
	OccurredAt time.Time       `json:"occurred_at"`
	Kind       evidence.Kind   `json:"kind"`
	SourceType string          `json:"source_type"`
	NativeID   string          `json:"native_id,omitempty"`
	Facts      map[string]any  `json:"facts,omitempty"` // linkFacts only
	Links      []evidence.Link `json:"links,omitempty"`
	// Tags are the item's tags as coverage reads them: each one's KSB,
	// By, Catalogue and Revision (not its reason or confidence). The
	// index stores them as TagKSBs and TagFrom (linkIndexFile).
	Tags    []evidence.Tag `json:"-"`
	TagKSBs []string       `json:"tag_ksbs,omitempty"`
	TagFrom []int          `json:"tag_from,omitempty"` // each tag's origin in linkIndexFile.TagOrigins
}

// newLinkEntry summarises the item stored with etag. Its facts and links
// are taken as a JSON round trip gives them, that is as they are stored:
// an item the runner holds in memory (with a []string where the stored
// item has a list) gives the entry reading it back would.
func newLinkEntry(it *evidence.Item, etag string) linkEntry {
	e := linkEntry{ID: it.ID, ETag: etag, OccurredAt: it.OccurredAt, Kind: it.Kind, SourceType: it.SourceType, NativeID: it.Origin.NativeID}
	if len(it.Tags) > 0 {
		e.Tags = make([]evidence.Tag, len(it.Tags))
		for i, t := range it.Tags { // plain strings: as stored
			e.Tags[i] = evidence.Tag{KSB: t.KSB, By: t.By, Catalogue: t.Catalogue, Revision: t.Revision}
		}
	}
	var facts map[string]any
	for _, k := range linkFacts {
		if v, ok := it.Facts[k]; ok {
			if facts == nil {
				facts = map[string]any{}
			}
			facts[k] = v
		}
	}
	if facts == nil && len(it.Links) == 0 {
		return e
	}
	rt := struct {
		Facts map[string]any  `json:"facts,omitempty"`
		Links []evidence.Link `json:"links,omitempty"`
	}{facts, it.Links}
	b, err := json.Marshal(rt)
	if err == nil {
		rt.Facts, rt.Links = nil, nil
		err = json.Unmarshal(b, &rt)
	}
	if err != nil { // not JSON: the item cannot be stored either
		e.Facts, e.Links = facts, it.Links
		return e
	}
	e.Facts, e.Links = rt.Facts, rt.Links
	return e
}

// linkIndex finds the items that references name.
type linkIndex struct {
	runs    map[string]string // MLflow run ID → training_run item ID
	commits []commitEntry     // sorted by SHA
}

type commitEntry struct{ sha, id string }

func newLinkIndex(entries []linkEntry) *linkIndex {
	ix := &linkIndex{runs: map[string]string{}}
	for i := range entries {
		e := &entries[i]
		switch {
		case e.Kind == evidence.KindTrainingRun && e.SourceType == "mlflow":
			for _, id := range []string{e.NativeID, str(e.Facts["run_id"])} {
				if id = norm(id); id != "" {
					ix.runs[id] = e.ID
				}
			}
		case (e.Kind == evidence.KindCommit || e.Kind == evidence.KindMerge) && e.SourceType == "git":
			if sha := norm(e.NativeID); shaPattern.MatchString(sha) {
				ix.commits = append(ix.commits, commitEntry{sha, e.ID})
			}
		}
	}
	sort.Slice(ix.commits, func(i, j int) bool { return ix.commits[i].sha < ix.commits[j].sha })
	return ix
}

// run finds the item of an MLflow run ID.
func (ix *linkIndex) run(v string) (string, string) {
	v = norm(v)
	if !runIDPattern.MatchString(v) {
		return "", "not an MLflow run ID (32 hex digits)"
	}
	if id, ok := ix.runs[v]; ok {
		return id, ""
	}
	return "", "not in the ledger"
}

// commit finds the item of a full or abbreviated (at least 7 hex) SHA.
func (ix *linkIndex) commit(v string) (string, string) {
	v = norm(v)
	if !shaPattern.MatchString(v) {
		return "", "not a commit SHA (7 to 64 hex digits)"
	}
	i := sort.Search(len(ix.commits), func(i int) bool { return ix.commits[i].sha >= v })
	var ids []string
	for ; i < len(ix.commits) && strings.HasPrefix(ix.commits[i].sha, v); i++ {
		if len(ids) == 0 || ids[len(ids)-1] != ix.commits[i].id {
			ids = append(ids, ix.commits[i].id)
		}
	}
	switch len(ids) {
	case 0:
		return "", "not in the ledger"
	case 1:
		return ids[0], ""
	}
	return "", fmt.Sprintf("ambiguous: %d commits start with it", len(ids))
}

// reference is one fact value naming a run or a commit.
type reference struct {
	fact, ref, value, rel string
}

// references lists what e's facts name.
func references(e *linkEntry) []reference {
	if len(e.Facts) == 0 {
		return nil
	}
	var out []reference
	runRel := RelMentionsRun
	if e.Kind == evidence.KindDeployment || e.Kind == evidence.KindRollback {
		runRel = RelDeploysRun
	}
	seen := map[string]bool{}
	add := func(fact, ref, rel string, v any) {
		s := strings.TrimSpace(str(v))
		if s == "" || seen[ref+"\x00"+norm(s)] {
			return
		}
		seen[ref+"\x00"+norm(s)] = true
		out = append(out, reference{fact: fact, ref: ref, value: s, rel: rel})
	}
	add("mlflow_run_id", RefMLflowRun, runRel, e.Facts["mlflow_run_id"])
	if l, ok := e.Facts["mlflow_run_ids"].([]any); ok {
		for _, v := range l {
			add("mlflow_run_ids", RefMLflowRun, runRel, v)
		}
	}
	add("commit", RefCommit, RelMentionsCommit, e.Facts["commit"])
	if e.Kind == evidence.KindTrainingRun {
		add("git_commit", RefCommit, RelTrainedFrom, e.Facts["git_commit"])
	}
	return out
}

// ResolveLinks computes, for every item, the links its facts' references
// give over items (the whole ledger): an MLflow run ID (facts
// mlflow_run_id, mlflow_run_ids) resolves to the mlflow training_run item
// with that run ID, a commit SHA, full or abbreviated to at least 7 hex
// digits (facts commit, and git_commit of a training run), to the git
// commit item whose SHA it is or starts. A reference that resolves to no
// item, or an abbreviated SHA to several, is returned as Unresolved (in
// item order) and links nothing. An item never links to itself. The
// result maps item ID to its links of the owned relations, sorted.
func ResolveLinks(items []evidence.Item) (map[string][]evidence.Link, []Unresolved) {
	entries := make([]linkEntry, len(items))
	for i := range items {
		entries[i] = newLinkEntry(&items[i], "")
	}
	return resolveEntries(entries)
}

// resolveEntries is ResolveLinks on the items' entries, in their order.
func resolveEntries(entries []linkEntry) (map[string][]evidence.Link, []Unresolved) {
	ix := newLinkIndex(entries)
	links := map[string][]evidence.Link{}
	var unresolved []Unresolved
	for i := range entries {
		e := &entries[i]
		for _, r := range references(e) {
			var target, why string
			if r.ref == RefMLflowRun {
				target, why = ix.run(r.value)
			} else {
				target, why = ix.commit(r.value)
			}
			if target == e.ID {
				continue
			}
			if target == "" {
				unresolved = append(unresolved, Unresolved{Item: e.ID, Fact: r.fact, Ref: r.ref, Value: r.value, Reason: why})
				continue
			}
			l := evidence.Link{Rel: r.rel, Item: target}
			if !containsLink(links[e.ID], l) {
				links[e.ID] = append(links[e.ID], l)
			}
		}
	}
	for _, ls := range links {
		sortLinks(ls)
	}
	return links, unresolved
}

// applyLinks returns it's links with the owned relations replaced by want:
// links of other relations keep their place, owned ones that want holds
// too stay where they are, the rest of want follows, and owned links not
// in want are dropped. changed says whether the result differs.
func applyLinks(have, want []evidence.Link) (out []evidence.Link, changed bool) {
	out = make([]evidence.Link, 0, len(have)+len(want))
	for _, l := range have {
		if ownedRels[l.Rel] && !containsLink(want, l) {
			changed = true
			continue
		}
		if containsLink(out, l) {
			changed = true // a duplicate
			continue
		}
		out = append(out, l)
	}
	for _, l := range want {
		if !containsLink(out, l) {
			out = append(out, l)
			changed = true
		}
	}
	return out, changed
}

// LinkSummary is what the linking step of a run did.
type LinkSummary struct {
	// Updated counts the items stored again with changed links.
	Updated int `json:"updated"`
	// Links counts the links the step holds across the ledger after it.
	Links int `json:"links"`
	// UnresolvedTotal counts every reference that named no item.
	UnresolvedTotal int `json:"unresolved_total"`
	// Unresolved lists the first MaxUnresolvedReported of them.
	Unresolved []Unresolved `json:"unresolved"`
}

// MaxUnresolvedReported caps the unresolved references a report lists
// (and MaxUnresolvedWarned the warnings it prints about them).
const (
	MaxUnresolvedReported = 100
	MaxUnresolvedWarned   = 10
)

// LinkOptions tune Link. The zero value trusts the link index.
type LinkOptions struct {
	// Rebuild reads every item instead of trusting the link index, and
	// rebuilds it (run --full).
	Rebuild bool
	// stored holds the entries of the items the run stored.
	stored *storedLinks
}

// linkIndexName names the ledger index the link step keeps
// (index/links.json): a linkIndexFile.
const linkIndexName = "links"

// linkIndexFile is the stored link index: one entry per item, sorted by
// ID. Another schema is not read (the index is rebuilt). Each distinct
// origin of the items' tags (By, Catalogue, Revision) is stored once, in
// TagOrigins, and an entry's tags as two lists of the same length: the
// KSBs, and the position of each one's origin. A ledger of 20,000 items
// with five tags each would otherwise repeat the catalogue's name and
// revision 100,000 times.
type linkIndexFile struct {
	Schema     int         `json:"schema"`
	TagOrigins [][3]string `json:"tag_origins,omitempty"`
	Items      []linkEntry `json:"items"`
}

// newLinkIndexFile returns the index file of entries (not changed).
func newLinkIndexFile(entries []linkEntry) linkIndexFile {
	f := linkIndexFile{Schema: linkIndexSchema, Items: make([]linkEntry, len(entries))}
	total := 0
	for _, e := range entries {
		total += len(e.Tags)
	}
	// Every entry's columns are cut from one pair of arrays, and a tag
	// whose origin is the one before's (as most are: one run, one
	// catalogue, few rules) is not looked up again.
	ksbs, from := make([]string, 0, total), make([]int, 0, total)
	at := map[[3]string]int{}
	last, lastN := [3]string{}, -1
	for i, e := range entries {
		if len(e.Tags) > 0 {
			start := len(ksbs)
			for _, t := range e.Tags {
				o := [3]string{t.By, t.Catalogue, t.Revision}
				if lastN < 0 || o != last {
					n, ok := at[o]
					if !ok {
						n = len(f.TagOrigins)
						at[o] = n
						f.TagOrigins = append(f.TagOrigins, o)
					}
					last, lastN = o, n
				}
				ksbs, from = append(ksbs, t.KSB), append(from, lastN)
			}
			e.TagKSBs, e.TagFrom = ksbs[start:len(ksbs):len(ksbs)], from[start:len(from):len(from)]
		}
		e.Tags = nil
		f.Items[i] = e
	}
	return f
}

// entries returns the entries f holds by item ID, their tags restored;
// false if any entry's tags do not fit the origins (the index is then
// rebuilt).
func (f *linkIndexFile) entries() (map[string]linkEntry, bool) {
	m := make(map[string]linkEntry, len(f.Items))
	for _, e := range f.Items {
		if len(e.TagKSBs) != len(e.TagFrom) {
			return nil, false
		}
		if len(e.TagKSBs) > 0 {
			e.Tags = make([]evidence.Tag, len(e.TagKSBs))
			for j, k := range e.TagKSBs {
				n := e.TagFrom[j]
				if n < 0 || n >= len(f.TagOrigins) {
					return nil, false
				}
				o := f.TagOrigins[n]
				e.Tags[j] = evidence.Tag{KSB: k, By: o[0], Catalogue: o[1], Revision: o[2]}
			}
		}
		e.TagKSBs, e.TagFrom = nil, nil
		m[e.ID] = e
	}
	return m, true
}

// linkIndexSchema 2 added the items' tags (for the coverage step); an
// index of schema 1 is rebuilt.
const linkIndexSchema = 2

// storedLinks collects the entries of the items a run stores, from its
// writers. Writers only append; the entries are put in a map by ID when
// first looked up, once the writers are done (a map grown one entry at a
// time costs its writers more).
type storedLinks struct {
	mu    sync.Mutex
	added []linkEntry
	m     map[string]linkEntry
}

func (s *storedLinks) add(e linkEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.added = append(s.added, e)
}

// fold moves the entries added since the last fold into s.m (a later one
// of an ID replaces an earlier); s.mu is held.
func (s *storedLinks) fold() {
	if len(s.added) == 0 {
		return
	}
	if s.m == nil {
		s.m = make(map[string]linkEntry, len(s.added))
	}
	for _, e := range s.added {
		s.m[e.ID] = e
	}
	s.added = nil
}

// len is how many items the run has stored.
func (s *storedLinks) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fold()
	return len(s.m)
}

func (s *storedLinks) get(id string) (linkEntry, bool) {
	if s == nil {
		return linkEntry{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fold()
	e, ok := s.m[id]
	return e, ok
}

// Link resolves the references of every item in the ledger (ResolveLinks,
// the items in the order of ledger.Snapshot) and stores again each item
// whose links of the owned relations change.
// It runs at the end of a run, holding the run's lease, so references
// across sources resolve whatever order the sources ran in, and a link
// whose target has gone (quarantined, never collected) is removed.
//
// It reads no item it already knows: it lists the items with their ETags
// and takes each one's entry from what the run stored (opts.stored) or
// from the link index, if made from the version listed; it reads only the
// others (all of them when the index is missing or unreadable, or
// opts.Rebuild), then stores the index again. The result is the same as
// reading every item.
//
// It returns what it did and the run report's warnings about the
// unresolved references. Objects that cannot be read are left to the
// coverage step to report.
func Link(ctx context.Context, l *ledger.Ledger, opts LinkOptions) (*LinkSummary, []string, error) {
	sum, warnings, lk, err := link(ctx, l, opts)
	return sum, append(warnings, lk.wait()...), err
}

// linked is what the link step leaves the coverage step: the listing of
// the items it took, and the entry of every item listed as the index now
// holds it (with the new version of each item it stored again).
type linked struct {
	listing *ledger.ItemListing
	entries []linkEntry
	// saved gets the warning of the index's write, which goes on while
	// the coverage step runs ("" once it is saved); nil if the index was
	// not written.
	saved chan string
}

// wait waits for the index to be stored and returns its warning, if any.
func (lk *linked) wait() []string {
	if lk == nil || lk.saved == nil {
		return nil
	}
	w := <-lk.saved
	lk.saved = nil
	if w == "" {
		return nil
	}
	return []string{w}
}

// link is Link that also returns what it listed and knows (nil on error),
// for the coverage step, while it stores the index: the caller must wait
// for that (linked.wait) before it lets go of the lease.
func link(ctx context.Context, l *ledger.Ledger, opts LinkOptions) (*LinkSummary, []string, *linked, error) {
	listing, err := l.ListItems(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the ledger: %w", err)
	}
	versions := listing.Versions()
	var cached map[string]linkEntry
	if !opts.Rebuild {
		cached = readLinkIndex(ctx, l)
	}
	entries := make([]linkEntry, 0, len(versions))
	var unknown []string
	dirty := len(cached) != len(versions) // an item went, or came
	for _, v := range versions {
		if e, ok := opts.stored.get(v.ID); ok && e.ETag != "" && e.ETag == v.ETag {
			dirty = dirty || cached[v.ID].ETag != e.ETag
			entries = append(entries, e)
			continue
		}
		if e, ok := cached[v.ID]; ok && e.ETag != "" && e.ETag == v.ETag {
			entries = append(entries, e)
			continue
		}
		unknown = append(unknown, v.ID)
	}
	read, err := readLinkEntries(ctx, l, unknown)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the ledger: %w", err)
	}
	dirty = dirty || len(read) > 0
	entries = append(entries, read...)
	// The order of ledger.Snapshot: oldest first, then by ID.
	sort.Slice(entries, func(i, j int) bool {
		a, b := &entries[i], &entries[j]
		return evidence.CompareOccurred(a.OccurredAt, a.ID, b.OccurredAt, b.ID) < 0
	})

	want, unresolved := resolveEntries(entries)
	warnings := linkWarnings(unresolved)
	sum := &LinkSummary{UnresolvedTotal: len(unresolved), Unresolved: unresolved[:min(len(unresolved), MaxUnresolvedReported)]}
	if sum.Unresolved == nil {
		sum.Unresolved = []Unresolved{}
	}
	for i := range entries {
		e := &entries[i]
		sum.Links += len(want[e.ID])
		if _, changed := applyLinks(e.Links, want[e.ID]); !changed {
			continue
		}
		it, etag, err := l.GetItemVersion(ctx, e.ID)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, ledger.ErrCorrupt) {
			continue // gone since it was listed, or left to coverage to report
		}
		if err != nil {
			return sum, warnings, nil, fmt.Errorf("store links of %s: %w", e.ID, err)
		}
		if out, changed := applyLinks(it.Links, want[e.ID]); changed {
			it.Links = out
			if etag, err = l.PutItemBatched(ctx, it); err != nil {
				return sum, warnings, nil, fmt.Errorf("store links of %s: %w", e.ID, err)
			}
			sum.Updated++
		}
		*e = newLinkEntry(it, etag)
		dirty = true
	}
	if sum.Updated > 0 {
		if err := l.Sync(ctx); err != nil {
			return sum, warnings, nil, fmt.Errorf("store links: %w", err)
		}
	}
	lk := &linked{listing: listing, entries: entries}
	if dirty {
		sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
		lk.saved = make(chan string, 1)
		go func() {
			msg := ""
			if err := l.PutIndex(ctx, linkIndexName, newLinkIndexFile(entries)); err != nil {
				// Only a cache: the next run reads the items instead.
				msg = "links: index not saved, the next run reads every item again: " + err.Error()
			}
			lk.saved <- msg
		}()
	}
	return sum, warnings, lk, nil
}

// readLinkIndex returns the stored link index by item ID; nil when there
// is none or it cannot be read (then every item is read instead).
func readLinkIndex(ctx context.Context, l *ledger.Ledger) map[string]linkEntry {
	var f linkIndexFile
	if ok, err := l.Index(ctx, linkIndexName, &f); !ok || err != nil || f.Schema != linkIndexSchema {
		return nil
	}
	m, ok := f.entries()
	if !ok {
		return nil
	}
	return m
}

// readLinkEntries reads the items ids names, ledger.DefaultConcurrency at
// a time, and returns their entries, leaving out those gone or corrupt.
func readLinkEntries(ctx context.Context, l *ledger.Ledger, ids []string) ([]linkEntry, error) {
	read, err := l.GetItemVersions(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]linkEntry, len(read))
	for i, v := range read {
		out[i] = newLinkEntry(v.Item, v.ETag)
	}
	return out, nil
}

// linkWarnings are the run report's warnings for unresolved references:
// their count, then one line per distinct run ID or SHA (MLflow runs
// first, then the most named), at most MaxUnresolvedWarned of them.
func linkWarnings(unresolved []Unresolved) []string {
	if len(unresolved) == 0 {
		return nil
	}
	type group struct {
		u     Unresolved
		items []string
	}
	var groups []*group
	byRef := map[string]*group{}
	for _, u := range unresolved {
		k := u.Ref + "\x00" + norm(u.Value)
		g := byRef[k]
		if g == nil {
			g = &group{u: u}
			byRef[k] = g
			groups = append(groups, g)
		}
		g.items = append(g.items, u.Item)
	}
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if (a.u.Ref == RefMLflowRun) != (b.u.Ref == RefMLflowRun) {
			return a.u.Ref == RefMLflowRun
		}
		return len(a.items) > len(b.items)
	})
	w := []string{fmt.Sprintf("links: %d %s to %d %s name no item in the ledger; not linked (links.unresolved in the run report)",
		len(unresolved), plural(len(unresolved), "reference", "references"), len(groups), plural(len(groups), "run or commit", "runs or commits"))}
	for i, g := range groups {
		if i == MaxUnresolvedWarned {
			w = append(w, fmt.Sprintf("links: … and %d more runs or commits not in the ledger", len(groups)-i))
			break
		}
		what := "MLflow run"
		if g.u.Ref == RefCommit {
			what = "commit"
		}
		named := g.items[0]
		if len(g.items) > 1 {
			named = fmt.Sprintf("%d items (%s, …)", len(g.items), g.items[0])
		}
		w = append(w, fmt.Sprintf("links: %s %s, named by %s in fact %s: %s", what, g.u.Value, named, g.u.Fact, g.u.Reason))
	}
	return w
}

// relDeploys is sagemaker.RelDeploys: an endpoint deploys a training job.
const relDeploys = "deploys"

// Inverse returns the relation a link's target sees: deploys_run and
// deploys (a SageMaker endpoint) → deployed_by, mentions_run and mentions_commit → mentioned_by, and
// trainrun.Inverse for the rest (trained_from → produced, …).
func Inverse(rel string) string {
	switch rel {
	case RelDeploysRun, relDeploys:
		return RelDeployedBy
	case RelMentionsRun, RelMentionsCommit:
		return RelMentionedBy
	}
	return trainrun.Inverse(rel)
}

// Backlinks gives, for every item that others link to, the links back to
// it with the inverse relation (Inverse), sorted by item ID then relation:
// the runs a commit produced, the deployments that deploy a run. Stored
// items hold only their outgoing links; readers compute these.
func Backlinks(items []evidence.Item) map[string][]evidence.Link {
	out := map[string][]evidence.Link{}
	for i := range items {
		for _, l := range items[i].Links {
			b := evidence.Link{Rel: Inverse(l.Rel), Item: items[i].ID}
			if !containsLink(out[l.Item], b) {
				out[l.Item] = append(out[l.Item], b)
			}
		}
	}
	for _, ls := range out {
		sortLinks(ls)
	}
	return out
}

func sortLinks(ls []evidence.Link) {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].Item != ls[j].Item {
			return ls[i].Item < ls[j].Item
		}
		return ls[i].Rel < ls[j].Rel
	})
}

func containsLink(ls []evidence.Link, l evidence.Link) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func norm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

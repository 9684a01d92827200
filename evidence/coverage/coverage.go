// Package coverage says, per KSB of a catalogue, who vouches for an
// apprentice's evidence of it, and whether the apprentice is ready for
// gateway.
//
// Items a review excludes do not count. On the others, per KSB:
//
//   - confirmed: a coach, employer or assessor accepted it on some item,
//     and the decision's signature verifies against a configured reviewer
//     of that name and role, over the item's current content;
//   - claimed: otherwise, the apprentice declared it at the source (commit
//     trailer, run tag, `add --ksb`), or accepted it, or another role
//     accepted it without a verified signature;
//   - suggested: otherwise, only unreviewed rule tags point at it;
//   - gap: nothing does.
//
// A rejection (by a decision not overruled, evidence.Fold) removes the KSB
// from that item. KSBs tagged or accepted on evidence but absent from the
// catalogue are listed as not_in_catalogue.
//
// The portfolio covers a set of the catalogue's KSBs (Covers): by default
// those the professional discussion assesses. The summary counts that set
// and readiness is judged on it; the catalogue's other KSBs are still
// reported, in Others. Readiness is claimed only against a complete
// catalogue, when every KSB of the set is confirmed. The Report's JSON
// field names are a published contract (docs/cli.md, `coverage --json`).
package coverage

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

// Statuses of a Row.
const (
	Confirmed      = "confirmed"
	Claimed        = "claimed"
	Suggested      = "suggested"
	Gap            = "gap"
	NotInCatalogue = "not_in_catalogue"
)

// Report is the coverage of one apprentice's ledger against one catalogue.
type Report struct {
	Apprentice string `json:"apprentice"`
	Catalogue  string `json:"catalogue"`
	// Revision is the catalogue's revision (ksb.Catalogue.Revision).
	Revision    string `json:"catalogue_revision"`
	Complete    bool   `json:"complete"`
	Ready       bool   `json:"ready"`
	ReadyReason string `json:"ready_reason"`
	// Covers is the set of KSBs the portfolio must cover.
	Covers Covers `json:"covers"`
	// Methods are the catalogue's assessment methods and their grade
	// themes, in the catalogue's order; never null.
	Methods []Method `json:"methods"`
	// Summary counts the KSBs of Covers; Others the catalogue's other KSBs.
	Summary Summary `json:"summary"`
	Others  Summary `json:"others"`
	// Version says which version of the standard applies to the
	// apprentice, when the catalogue has a version log.
	Version *VersionNote `json:"standard_version,omitempty"`
	// StaleItems counts the items with a tag made against another
	// catalogue, or another revision of this one: `ksbfolio retag`
	// re-tags them.
	StaleItems int `json:"stale_items"`
	// Conflicts lists the decisions that did not apply (evidence.Fold:
	// overruled by a higher role, or a confidential marking kept) on the items that count, by item; never null.
	Conflicts []ItemConflict `json:"conflicts"`
	// Unverified counts the signed decisions, on items that count, whose
	// signature is not verified (unknown key, invalid or stale):
	// `ksbfolio verify-reviews` lists them.
	Unverified  int       `json:"unverified_signatures"`
	KSBs        []Row     `json:"ksbs"`
	GeneratedAt time.Time `json:"generated_at"`
	// Before is, while items are stale, the last report made against the
	// catalogue revision they were tagged with (pipeline.UpdateCoverage
	// keeps it), so that retag can say what the catalogue change did.
	Before *Report `json:"before_catalogue_change,omitempty"`
}

// Method is an assessment method of the catalogue: Row.Method names it.
type Method struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Themes []string `json:"grade_themes"` // never null
}

// ItemConflict is a Conflict on one item.
type ItemConflict struct {
	Item string `json:"item"`
	evidence.Conflict
}

// Summary counts KSBs by status; rows not in the catalogue are never
// counted. Confirmed + Claimed + Suggested + Gap == Total, and Evidenced
// == Confirmed + Claimed (kept for scripts written before the statuses
// said who vouches). Conflicts counts the KSB conflicts (Report.Conflicts)
// on these KSBs.
type Summary struct {
	Confirmed int `json:"confirmed"`
	Claimed   int `json:"claimed"`
	Evidenced int `json:"evidenced"`
	Suggested int `json:"suggested"`
	Gap       int `json:"gap"`
	Total     int `json:"total"`
	Conflicts int `json:"conflicts"`
}

// Row is the coverage of one KSB.
type Row struct {
	KSB    string `json:"ksb"`
	Kind   string `json:"kind"`   // knowledge | skill | behaviour (from the ID's letter when not in the catalogue)
	Status string `json:"status"` // confirmed | claimed | suggested | gap | not_in_catalogue
	// Method is the assessment method that assesses the KSB and
	// GradeTheme the theme it is graded under; empty when the catalogue
	// does not say.
	Method     string `json:"method"`
	GradeTheme string `json:"grade_theme"`
	// Counted says the KSB is in the covers set: counted in Summary and
	// needed for readiness.
	Counted bool `json:"counted"`
	// ConfirmedBy lists the items on which a verified reviewer accepted
	// the KSB; ClaimedBy the other items that declare it or on which it
	// was accepted; SuggestedBy the remaining items whose unreviewed rule
	// tags point at it. Each sorted, without duplicates, never null; an
	// item is in one list at most.
	ConfirmedBy []string `json:"confirmed_by"`
	ClaimedBy   []string `json:"claimed_by"`
	SuggestedBy []string `json:"suggested_by"`
	// Statement is the KSB's statement; empty for rows not in the
	// catalogue.
	Statement string `json:"statement"`
}

// Compute builds the report. target says what the portfolio covers, which
// version of the standard applies and whose signatures confirm (the zero
// Target: every KSB, no version note, nothing confirmed). reviews maps
// item ID to that item's review (absent or nil: none). Items a review
// excludes do not count at all. now becomes GeneratedAt, so the same
// inputs give the same report. Neither the items nor the reviews are
// changed. A nil catalogue is treated as an empty one with no ID.
func Compute(cat *ksb.Catalogue, target Target, apprentice string, items []evidence.Item, reviews map[string]*evidence.Review, now time.Time) Report {
	if cat == nil {
		cat = &ksb.Catalogue{}
	}
	covers := target.Covers
	if covers.Set == "" {
		covers = All(cat)
	}
	counted := make(map[string]bool, len(covers.KSBs))
	for _, id := range covers.KSBs {
		counted[id] = true
	}
	rev := cat.Revision()
	confirmed := map[string]map[string]bool{} // KSB → item IDs
	claimed := map[string]map[string]bool{}
	suggested := map[string]map[string]bool{}
	add := func(m map[string]map[string]bool, k, id string) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][id] = true
	}
	stale := map[string]bool{}
	conflicts := []ItemConflict{}
	unverified := 0
	for _, it := range items {
		for _, t := range it.Tags {
			if t.Catalogue != cat.ID || t.Revision != rev {
				stale[it.ID] = true
			}
		}
		st := evidence.Fold(reviews[it.ID], &it, target.Reviewers)
		if st.Excluded {
			continue
		}
		for _, c := range st.Checks {
			if c.Status != evidence.SigUnsigned && c.Status != evidence.SigVerified {
				unverified++
			}
		}
		for _, c := range st.Conflicts {
			conflicts = append(conflicts, ItemConflict{Item: it.ID, Conflict: c})
		}
		for _, t := range it.Tags {
			k := evidence.NormalizeKSB(t.KSB)
			if _, rej := st.Rejected[k]; rej {
				continue
			}
			if _, acc := st.Accepted[k]; acc {
				continue
			}
			if t.IsRule() {
				add(suggested, k, it.ID)
			} else {
				add(claimed, k, it.ID) // declared, or a review tag written into the item
			}
		}
		for k, v := range st.Accepted {
			if v.Confirmed {
				add(confirmed, k, it.ID)
			} else {
				add(claimed, k, it.ID)
			}
		}
	}
	sort.SliceStable(conflicts, func(i, j int) bool {
		a, b := conflicts[i], conflicts[j]
		if a.Item != b.Item {
			return a.Item < b.Item
		}
		return a.Overruled.At.Before(b.Overruled.At)
	})

	r := Report{
		Apprentice:  apprentice,
		Catalogue:   cat.ID,
		Revision:    rev,
		Complete:    cat.Complete,
		Covers:      covers,
		Methods:     []Method{},
		Version:     target.Version,
		StaleItems:  len(stale),
		Conflicts:   conflicts,
		Unverified:  unverified,
		GeneratedAt: now,
		KSBs:        []Row{},
	}
	for _, m := range cat.Methods {
		r.Methods = append(r.Methods, Method{ID: m.ID, Name: methodName(cat, m.ID), Themes: append([]string{}, m.Themes...)})
	}
	conflictsOn := map[string]int{}
	for _, c := range conflicts {
		if c.KSB != "" {
			conflictsOn[c.KSB]++
		}
	}
	inCatalogue := map[string]bool{}
	var open openKSBs
	for _, k := range cat.KSBs {
		id := evidence.NormalizeKSB(k.ID)
		if inCatalogue[id] {
			continue // a duplicate entry; Validate rejects such catalogues
		}
		inCatalogue[id] = true
		kind := k.Kind
		if kind == "" {
			kind = kindOf(id)
		}
		row := newRow(id, kind, confirmed[id], claimed[id], suggested[id])
		row.Statement = k.Statement
		if len(k.Methods) > 0 {
			row.Method = k.Methods[0]
		}
		row.GradeTheme = k.GradeTheme
		row.Counted = counted[id]
		sum := &r.Others
		if row.Counted {
			sum = &r.Summary
		}
		switch {
		case len(row.ConfirmedBy) > 0:
			row.Status = Confirmed
			sum.Confirmed++
		case len(row.ClaimedBy) > 0:
			row.Status = Claimed
			sum.Claimed++
		case len(row.SuggestedBy) > 0:
			row.Status = Suggested
			sum.Suggested++
		default:
			row.Status = Gap
			sum.Gap++
		}
		sum.Evidenced = sum.Confirmed + sum.Claimed
		sum.Conflicts += conflictsOn[id]
		sum.Total++
		if row.Counted {
			open.add(row)
		}
		r.KSBs = append(r.KSBs, row)
	}

	var extra []string
	for _, m := range []map[string]map[string]bool{confirmed, claimed} {
		for id := range m {
			if !inCatalogue[id] && !slices.Contains(extra, id) {
				extra = append(extra, id)
			}
		}
	}
	sort.Slice(extra, func(i, j int) bool { return evidence.CompareKSB(extra[i], extra[j]) < 0 })
	for _, id := range extra {
		row := newRow(id, kindOf(id), confirmed[id], claimed[id], suggested[id])
		row.Status = NotInCatalogue
		r.KSBs = append(r.KSBs, row)
	}

	r.Ready, r.ReadyReason = readiness(cat, covers, r.Summary, open)
	return r
}

// openKSBs are the counted KSBs not yet confirmed, by status, in the
// catalogue's order.
type openKSBs struct{ claimed, suggested, gap []string }

func (o *openKSBs) add(row Row) {
	switch row.Status {
	case Claimed:
		o.claimed = append(o.claimed, row.KSB)
	case Suggested:
		o.suggested = append(o.suggested, row.KSB)
	case Gap:
		o.gap = append(o.gap, row.KSB)
	}
}

func (o openKSBs) count() int { return len(o.claimed) + len(o.suggested) + len(o.gap) }

func newRow(id, kind string, confirmed, claimed, suggested map[string]bool) Row {
	return Row{KSB: id, Kind: kind, ConfirmedBy: sortedSet(confirmed, nil),
		ClaimedBy: sortedSet(claimed, confirmed), SuggestedBy: sortedSet(suggested, union(confirmed, claimed))}
}

func union(a, b map[string]bool) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// sortedSet returns the keys of set that are not in except, sorted; never
// nil.
func sortedSet(set, except map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		if !except[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// maxListed is how many KSBs of each status ReadyReason names.
const maxListed = 5

func readiness(cat *ksb.Catalogue, covers Covers, s Summary, open openKSBs) (bool, string) {
	name := cat.ID
	if name == "" {
		name = "(unnamed)"
	}
	if !cat.Complete {
		known := strconv.Itoa(len(cat.KSBs)) + " KSBs known"
		if cat.TotalKSBs > 0 {
			known = fmt.Sprintf("%d of %d KSBs known", len(cat.KSBs), cat.TotalKSBs)
		}
		return false, fmt.Sprintf("catalogue %s is incomplete (%s); readiness cannot be judged against it", name, known)
	}
	if len(cat.KSBs) == 0 {
		return false, fmt.Sprintf("catalogue %s holds no KSBs; readiness cannot be judged against it", name)
	}
	if s.Total == 0 {
		return false, fmt.Sprintf("the portfolio covers no KSB of catalogue %s (portfolio.covers: %s)", name, covers.Set)
	}
	if open.count() == 0 {
		return true, fmt.Sprintf("all %d KSBs %s are confirmed by a configured reviewer", s.Total, covers.Name)
	}
	var parts []string
	for _, p := range []struct {
		ids  []string
		what string
	}{
		{open.claimed, "claimed but not confirmed"},
		{open.suggested, "only suggested"},
		{open.gap, "with no evidence"},
	} {
		if len(p.ids) == 0 {
			continue
		}
		listed, more := p.ids, ""
		if len(listed) > maxListed {
			more = fmt.Sprintf(" and %d more", len(listed)-maxListed)
			listed = listed[:maxListed]
		}
		parts = append(parts, fmt.Sprintf("%d %s: %s%s", len(p.ids), p.what, strings.Join(listed, ", "), more))
	}
	return false, fmt.Sprintf("%d of %d KSBs %s not yet confirmed; %s",
		open.count(), s.Total, covers.Name, strings.Join(parts, "; "))
}

func kindOf(id string) string {
	if k := ksb.KindOf(id); k != "" {
		return k
	}
	return "unknown"
}

// sortIDs puts KSB IDs in natural order.
func sortIDs(ids []string) { slices.SortFunc(ids, evidence.CompareKSB) }

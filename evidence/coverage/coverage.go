// Package coverage says, per KSB of a catalogue, whether an apprentice's
// ledger evidences it, and whether the apprentice is ready for gateway.
//
// A KSB is evidenced when some item, not excluded by review, carries a
// declared tag for it or a tag a reviewer accepted (and no later review
// rejected that KSB on that item). It is suggested when only unreviewed
// rule tags point at it, and a gap otherwise. A rule tag is a guess: it
// never makes a KSB evidenced on its own.
//
// The portfolio covers a set of the catalogue's KSBs (Covers): by default
// those the professional discussion assesses. The summary counts that set
// and readiness is judged on it; the catalogue's other KSBs are still
// reported, in Others. Readiness is claimed only against a complete
// catalogue, when every KSB of the set is evidenced. The Report's JSON
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
	Evidenced      = "evidenced"
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
	StaleItems  int       `json:"stale_items"`
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

// Summary counts KSBs by status; rows not in the catalogue are never
// counted. Evidenced + Suggested + Gap == Total.
type Summary struct {
	Evidenced int `json:"evidenced"`
	Suggested int `json:"suggested"`
	Gap       int `json:"gap"`
	Total     int `json:"total"`
}

// Row is the coverage of one KSB.
type Row struct {
	KSB    string `json:"ksb"`
	Kind   string `json:"kind"`   // knowledge | skill | behaviour (from the ID's letter when not in the catalogue)
	Status string `json:"status"` // evidenced | suggested | gap | not_in_catalogue
	// Method is the assessment method that assesses the KSB and
	// GradeTheme the theme it is graded under; empty when the catalogue
	// does not say.
	Method     string `json:"method"`
	GradeTheme string `json:"grade_theme"`
	// Counted says the KSB is in the covers set: counted in Summary and
	// needed for readiness.
	Counted bool `json:"counted"`
	// EvidencedBy lists the items with a declared or accepted tag for the
	// KSB; SuggestedBy the other items whose unreviewed rule tags point at
	// it. Both sorted, without duplicates, never null.
	EvidencedBy []string `json:"evidenced_by"`
	SuggestedBy []string `json:"suggested_by"`
	// Statement is the KSB's statement; empty for rows not in the
	// catalogue.
	Statement string `json:"statement"`
}

// Compute builds the report. target says what the portfolio covers and
// which version of the standard applies (the zero Target: every KSB, no
// version note). reviews maps item ID to that item's review (absent or nil:
// none). Items a review excludes do not count at all. now becomes
// GeneratedAt, so the same inputs give the same report. Neither the items
// nor the reviews are changed. A nil catalogue is treated as an empty one
// with no ID.
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
	evidenced := map[string]map[string]bool{} // KSB → item IDs
	suggested := map[string]map[string]bool{}
	add := func(m map[string]map[string]bool, k, id string) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][id] = true
	}
	stale := map[string]bool{}
	for _, it := range items {
		for _, t := range it.Tags {
			if t.Catalogue != cat.ID || t.Revision != rev {
				stale[it.ID] = true
			}
		}
		rv := normalizeReview(reviews[it.ID])
		if rv.State().Excluded {
			continue
		}
		norm := it
		norm.Tags = make([]evidence.Tag, len(it.Tags))
		for i, t := range it.Tags {
			t.KSB = evidence.NormalizeKSB(t.KSB)
			norm.Tags[i] = t
		}
		for _, t := range evidence.Reviewed(norm, rv) {
			switch {
			case t.IsDeclared() || strings.HasPrefix(t.By, evidence.ByReview):
				add(evidenced, t.KSB, it.ID)
			case t.IsRule():
				add(suggested, t.KSB, it.ID)
			}
		}
	}

	r := Report{
		Apprentice:  apprentice,
		Catalogue:   cat.ID,
		Revision:    rev,
		Complete:    cat.Complete,
		Covers:      covers,
		Methods:     []Method{},
		Version:     target.Version,
		StaleItems:  len(stale),
		GeneratedAt: now,
		KSBs:        []Row{},
	}
	for _, m := range cat.Methods {
		r.Methods = append(r.Methods, Method{ID: m.ID, Name: methodName(cat, m.ID), Themes: append([]string{}, m.Themes...)})
	}
	inCatalogue := map[string]bool{}
	var notEvidenced []string
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
		row := newRow(id, kind, evidenced[id], suggested[id])
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
		case len(row.EvidencedBy) > 0:
			row.Status = Evidenced
			sum.Evidenced++
		case len(row.SuggestedBy) > 0:
			row.Status = Suggested
			sum.Suggested++
		default:
			row.Status = Gap
			sum.Gap++
		}
		sum.Total++
		if row.Counted && row.Status != Evidenced {
			notEvidenced = append(notEvidenced, id)
		}
		r.KSBs = append(r.KSBs, row)
	}

	var extra []string
	for id := range evidenced {
		if !inCatalogue[id] {
			extra = append(extra, id)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return evidence.CompareKSB(extra[i], extra[j]) < 0 })
	for _, id := range extra {
		row := newRow(id, kindOf(id), evidenced[id], suggested[id])
		row.Status = NotInCatalogue
		r.KSBs = append(r.KSBs, row)
	}

	r.Ready, r.ReadyReason = readiness(cat, covers, r.Summary, notEvidenced)
	return r
}

func newRow(id, kind string, evidenced, suggested map[string]bool) Row {
	return Row{KSB: id, Kind: kind, EvidencedBy: sortedSet(evidenced, nil), SuggestedBy: sortedSet(suggested, evidenced)}
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

// normalizeReview copies r with its KSB IDs normalised, so that "s10" in a
// decision matches the tag "S10".
func normalizeReview(r *evidence.Review) *evidence.Review {
	if r == nil {
		return nil
	}
	out := &evidence.Review{Schema: r.Schema, Item: r.Item, Decisions: make([]evidence.Decision, len(r.Decisions))}
	for i, d := range r.Decisions {
		d.Accept = normalizeAll(d.Accept)
		d.Reject = normalizeAll(d.Reject)
		out.Decisions[i] = d
	}
	return out
}

func normalizeAll(ids []string) []string {
	if ids == nil {
		return nil
	}
	out := make([]string, len(ids))
	for i, s := range ids {
		out[i] = evidence.NormalizeKSB(s)
	}
	return out
}

// maxListed is how many not-yet-evidenced KSBs ReadyReason names.
const maxListed = 5

func readiness(cat *ksb.Catalogue, covers Covers, s Summary, notEvidenced []string) (bool, string) {
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
	if len(notEvidenced) == 0 {
		return true, fmt.Sprintf("all %d KSBs %s are evidenced", s.Total, covers.Name)
	}
	listed := notEvidenced
	more := ""
	if len(listed) > maxListed {
		more = fmt.Sprintf(" and %d more", len(listed)-maxListed)
		listed = listed[:maxListed]
	}
	return false, fmt.Sprintf("%d of %d KSBs %s not yet evidenced (%d suggested, %d gap): %s%s",
		len(notEvidenced), s.Total, covers.Name, s.Suggested, s.Gap, strings.Join(listed, ", "), more)
}

func kindOf(id string) string {
	if k := ksb.KindOf(id); k != "" {
		return k
	}
	return "unknown"
}

// sortIDs puts KSB IDs in natural order.
func sortIDs(ids []string) { slices.SortFunc(ids, evidence.CompareKSB) }

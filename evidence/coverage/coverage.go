// Package coverage says, per KSB of a catalogue, whether an apprentice's
// ledger evidences it, and whether the apprentice is ready for gateway.
//
// A KSB is evidenced when some item, not excluded by review, carries a
// declared tag for it or a tag a reviewer accepted (and no later review
// rejected that KSB on that item). It is suggested when only unreviewed
// rule tags point at it, and a gap otherwise. A rule tag is a guess: it
// never makes a KSB evidenced on its own.
//
// Readiness is claimed only against a complete catalogue whose every KSB is
// evidenced. The Report's JSON field names are a published contract
// (docs/cli.md, `coverage --json`).
package coverage

import (
	"fmt"
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
	Apprentice  string    `json:"apprentice"`
	Catalogue   string    `json:"catalogue"`
	Complete    bool      `json:"complete"`
	Ready       bool      `json:"ready"`
	ReadyReason string    `json:"ready_reason"`
	Summary     Summary   `json:"summary"`
	KSBs        []Row     `json:"ksbs"`
	GeneratedAt time.Time `json:"generated_at"`
}

// Summary counts the catalogue's KSBs by status; rows not in the catalogue
// are not counted. Evidenced + Suggested + Gap == Total.
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
	// EvidencedBy lists the items with a declared or accepted tag for the
	// KSB; SuggestedBy the other items whose unreviewed rule tags point at
	// it. Both sorted, without duplicates, never null.
	EvidencedBy []string `json:"evidenced_by"`
	SuggestedBy []string `json:"suggested_by"`
	// Label is what to show for the KSB (ksb.KSB.Display): its statement,
	// or its short label behind ksb.LabelOnlyMarker, never passed off as the
	// statement. Empty for rows not in the catalogue.
	Label string `json:"label,omitempty"`
}

// Compute builds the report. reviews maps item ID to that item's review
// (absent or nil: none). Items a review excludes do not count at all. now
// becomes GeneratedAt, so the same inputs give the same report. Neither the
// items nor the reviews are changed. A nil catalogue is treated as an empty
// one with no ID.
func Compute(cat *ksb.Catalogue, apprentice string, items []evidence.Item, reviews map[string]*evidence.Review, now time.Time) Report {
	if cat == nil {
		cat = &ksb.Catalogue{}
	}
	evidenced := map[string]map[string]bool{} // KSB → item IDs
	suggested := map[string]map[string]bool{}
	add := func(m map[string]map[string]bool, k, id string) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][id] = true
	}
	for _, it := range items {
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
		Complete:    cat.Complete,
		GeneratedAt: now,
		KSBs:        []Row{},
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
		row.Label = k.Display()
		switch {
		case len(row.EvidencedBy) > 0:
			row.Status = Evidenced
			r.Summary.Evidenced++
		case len(row.SuggestedBy) > 0:
			row.Status = Suggested
			r.Summary.Suggested++
			notEvidenced = append(notEvidenced, id)
		default:
			row.Status = Gap
			r.Summary.Gap++
			notEvidenced = append(notEvidenced, id)
		}
		r.KSBs = append(r.KSBs, row)
	}
	r.Summary.Total = len(r.KSBs)

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

	r.Ready, r.ReadyReason = readiness(cat, r.Summary, notEvidenced)
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

func readiness(cat *ksb.Catalogue, s Summary, notEvidenced []string) (bool, string) {
	name := cat.ID
	if name == "" {
		name = "(unnamed)"
	}
	if !cat.Complete {
		known := strconv.Itoa(s.Total) + " KSBs known"
		if cat.TotalKSBs > 0 {
			known = fmt.Sprintf("%d of %d KSBs known", s.Total, cat.TotalKSBs)
		}
		return false, fmt.Sprintf("catalogue %s is incomplete (%s); readiness cannot be judged against it", name, known)
	}
	if s.Total == 0 {
		return false, fmt.Sprintf("catalogue %s holds no KSBs; readiness cannot be judged against it", name)
	}
	if len(notEvidenced) == 0 {
		return true, fmt.Sprintf("all %d KSBs of catalogue %s are evidenced", s.Total, name)
	}
	listed := notEvidenced
	more := ""
	if len(listed) > maxListed {
		more = fmt.Sprintf(" and %d more", len(listed)-maxListed)
		listed = listed[:maxListed]
	}
	return false, fmt.Sprintf("%d of %d KSBs not yet evidenced (%d suggested, %d gap): %s%s",
		len(notEvidenced), s.Total, s.Suggested, s.Gap, strings.Join(listed, ", "), more)
}

func kindOf(id string) string {
	switch {
	case strings.HasPrefix(id, "K"):
		return ksb.Knowledge
	case strings.HasPrefix(id, "S"):
		return ksb.Skill
	case strings.HasPrefix(id, "B"):
		return ksb.Behaviour
	}
	return "unknown"
}

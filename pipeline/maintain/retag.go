package maintain

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
)

// RetagResult says what Retag did.
type RetagResult struct {
	Items    int      // items read
	Changed  int      // items whose tags changed and were written back
	Corrupt  []string // unreadable items, skipped
	Warnings []string
}

// Retag re-applies the tagger to every stored item without collecting,
// writing back only items whose tags changed (a new catalogue revision on
// the tags counts as a change). Reviews are untouched.
func Retag(ctx context.Context, l *ledger.Ledger, t interface {
	Tag(*evidence.Item) []string
}) (RetagResult, error) {
	var res RetagResult
	items, err := l.Items(ctx, func(err error) { res.Corrupt = append(res.Corrupt, err.Error()) })
	if err != nil {
		return res, err
	}
	seen := map[string]bool{}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		res.Items++
		before, _ := json.Marshal(it.Tags)
		for _, w := range t.Tag(it) {
			if !seen[w] {
				seen[w] = true
				res.Warnings = append(res.Warnings, w)
			}
		}
		after, _ := json.Marshal(it.Tags)
		if string(before) == string(after) {
			continue
		}
		if err := l.PutItem(ctx, it); err != nil {
			return res, err
		}
		res.Changed++
	}
	return res, nil
}

// maxChangesListed bounds the KSBs CoverageChanges names on one line.
const maxChangesListed = 12

// CoverageChanges says, in lines for a person, how coverage changed from
// before (the stored report, or the report it kept from before a catalogue
// change; ok false when there was none) to after: the
// catalogue or its revision, the set the portfolio covers, the counts,
// the KSBs that were "not in catalogue" and now are in it, other status
// changes, and KSBs that are new to the catalogue or left it.
func CoverageChanges(before coverage.Report, ok bool, after coverage.Report) []string {
	if !ok {
		return []string{fmt.Sprintf("coverage: %s (no earlier coverage to compare with)", counts(after.Summary))}
	}
	if before.Before != nil {
		before = *before.Before
	}
	var out []string
	switch {
	case before.Catalogue != after.Catalogue:
		out = append(out, fmt.Sprintf("catalogue: %s → %s (revision %s)", before.Catalogue, after.Catalogue, after.Revision))
	case before.Revision != after.Revision:
		out = append(out, fmt.Sprintf("catalogue %s changed: revision %s → %s", after.Catalogue, orNoneRecorded(before.Revision), after.Revision))
	}
	was := describeCovers(before)
	if now := describeCovers(after); was != now {
		out = append(out, fmt.Sprintf("the portfolio covers: %s → %s", was, now))
	}
	if before.Summary != after.Summary {
		out = append(out, fmt.Sprintf("coverage: %s → %s", counts(before.Summary), counts(after.Summary)))
	} else {
		out = append(out, "coverage: unchanged, "+counts(after.Summary))
	}

	prev := map[string]coverage.Row{}
	for _, r := range before.KSBs {
		prev[r.KSB] = r
	}
	var nowIn, changed, added, gone, stillOut []string
	addedGap := 0
	seen := map[string]bool{}
	for _, r := range after.KSBs {
		seen[r.KSB] = true
		p, had := prev[r.KSB]
		switch {
		case r.Status == coverage.NotInCatalogue:
			if had && p.Status != coverage.NotInCatalogue {
				gone = append(gone, r.KSB)
			} else {
				stillOut = append(stillOut, r.KSB)
			}
		case had && p.Status == coverage.NotInCatalogue:
			nowIn = append(nowIn, r.KSB+" ("+r.Status+")")
		case !had:
			if r.Status == coverage.Gap {
				addedGap++
			} else {
				added = append(added, r.KSB+" ("+r.Status+")")
			}
		case p.Status != r.Status:
			changed = append(changed, fmt.Sprintf("%s %s → %s", r.KSB, p.Status, r.Status))
		}
	}
	for _, r := range before.KSBs {
		if !seen[r.KSB] && r.Status != coverage.NotInCatalogue {
			gone = append(gone, r.KSB)
		}
	}
	if len(nowIn) > 0 {
		out = append(out, "declared before but not in the catalogue, now in it: "+list(nowIn))
	}
	if len(changed) > 0 {
		out = append(out, "status changed: "+list(changed))
	}
	if n := len(added) + addedGap; n > 0 {
		line := fmt.Sprintf("%d KSBs are new to the catalogue", n)
		if len(added) > 0 {
			line += ": " + list(added)
			if addedGap > 0 {
				line += fmt.Sprintf("; %d more with no evidence yet", addedGap)
			}
		} else {
			line += ", none evidenced or suggested yet"
		}
		out = append(out, line)
	}
	if len(gone) > 0 {
		out = append(out, "no longer in the catalogue: "+list(gone))
	}
	if len(stillOut) > 0 {
		out = append(out, "still not in the catalogue (declared or accepted on evidence): "+list(stillOut))
	}
	if before.Ready != after.Ready {
		out = append(out, fmt.Sprintf("gateway ready: %v → %v (%s)", before.Ready, after.Ready, after.ReadyReason))
	}
	return out
}

// describeCovers says which KSBs a report counted. Reports written before
// the portfolio's set existed counted every KSB of their catalogue.
func describeCovers(r coverage.Report) string {
	n := fmt.Sprintf("%d KSBs", r.Summary.Total)
	if r.Summary.Total == 1 {
		n = "1 KSB"
	}
	if r.Covers.Set == "" {
		return n + " of catalogue " + r.Catalogue
	}
	return n + " " + r.Covers.Name
}

func counts(s coverage.Summary) string {
	return fmt.Sprintf("%d evidenced, %d suggested, %d gap of %d", s.Evidenced, s.Suggested, s.Gap, s.Total)
}

func orNoneRecorded(rev string) string {
	if rev == "" {
		return "(none recorded)"
	}
	return rev
}

// list joins up to maxChangesListed entries and counts the rest.
func list(xs []string) string {
	if len(xs) <= maxChangesListed {
		return strings.Join(xs, ", ")
	}
	return strings.Join(xs[:maxChangesListed], ", ") + fmt.Sprintf(" and %d more", len(xs)-maxChangesListed)
}

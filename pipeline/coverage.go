package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// LoadLedger reads every item and review of the ledger (a ledger.Snapshot).
// Unreadable objects are skipped and their errors returned as corrupt.
func LoadLedger(ctx context.Context, l *ledger.Ledger) ([]evidence.Item, map[string]*evidence.Review, []string, error) {
	snap, err := l.Snapshot(ctx, ledger.SnapshotOptions{})
	if err != nil {
		return nil, nil, nil, err
	}
	return snap.Items(), snap.Reviews, snap.CorruptStrings(), nil
}

// NewTarget works out what coverage is judged against: the set the
// portfolio covers (covers against cat; an unknown method or KSB is a
// SetupError naming portfolio.covers) and the version of the standard
// that applies to an apprentice who started on start (zero: not
// configured). A catalogue without a version log (an imported list) uses
// the log of the built-in catalogue of the same standard, if any.
func NewTarget(cat *ksb.Catalogue, covers config.Covers, start time.Time) (coverage.Target, error) {
	c, err := coverage.NewCovers(cat, covers.Set, covers.KSBs)
	if err != nil {
		return coverage.Target{}, &SetupError{Err: err}
	}
	log := cat.VersionLog
	if len(log) == 0 && cat.Reference != "" {
		for _, b := range ksb.Builtin() {
			if b.Reference == cat.Reference {
				log = b.VersionLog
			}
		}
	}
	return coverage.Target{Covers: c, Version: coverage.StandardVersion(cat, log, start)}, nil
}

// ComputeCoverage reads a snapshot of the ledger and computes its coverage.
func ComputeCoverage(ctx context.Context, l *ledger.Ledger, cat *ksb.Catalogue, target coverage.Target, now time.Time) (coverage.Report, []string, error) {
	snap, err := l.Snapshot(ctx, ledger.SnapshotOptions{Verifier: target.Reviewers})
	if err != nil {
		return coverage.Report{}, nil, err
	}
	return SnapshotCoverage(snap, cat, target, now), snap.CorruptStrings(), nil
}

// SnapshotCoverage computes coverage from a snapshot already read.
func SnapshotCoverage(snap *ledger.Snapshot, cat *ksb.Catalogue, target coverage.Target, now time.Time) coverage.Report {
	return coverage.Compute(cat, target, snap.Apprentice, snap.Items(), snap.Reviews, now.UTC())
}

// UpdateCoverage recomputes and stores coverage.json. While items are
// stale (tagged against another catalogue or revision), the report keeps,
// as Before, the last report made against the catalogue they were tagged
// with, so that retag can say what the change did; it is dropped once no
// item is stale.
func UpdateCoverage(ctx context.Context, l *ledger.Ledger, cat *ksb.Catalogue, target coverage.Target, now time.Time) (coverage.Report, []string, error) {
	rep, corrupt, err := ComputeCoverage(ctx, l, cat, target, now)
	if err != nil {
		return rep, corrupt, err
	}
	if rep.StaleItems > 0 {
		if prev, err := ReadCoverage(ctx, l); err == nil {
			switch {
			case prev.Before != nil:
				rep.Before = prev.Before
			case prev.Catalogue != rep.Catalogue || prev.Revision != rep.Revision:
				prev.Before = nil
				rep.Before = &prev
			}
		}
	}
	if err := l.PutCoverage(ctx, rep); err != nil {
		return rep, corrupt, fmt.Errorf("store coverage: %w", err)
	}
	return rep, corrupt, nil
}

// ReadCoverage reads the stored coverage.json.
func ReadCoverage(ctx context.Context, l *ledger.Ledger) (coverage.Report, error) {
	var rep coverage.Report
	b, _, err := store.ReadAll(ctx, l.Store(), l.CoverageKey(), ledger.MaxObject)
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, &ledger.CorruptError{Key: l.CoverageKey(), Err: err}
	}
	return rep, nil
}

// sameTarget reports whether a stored report was made against this
// catalogue revision, covers set and version note, so that it still holds
// when no item changed.
func sameTarget(prev coverage.Report, cat *ksb.Catalogue, t coverage.Target) bool {
	return prev.Catalogue == cat.ID && prev.Revision == cat.Revision() &&
		prev.Covers.Set == t.Covers.Set && slices.Equal(prev.Covers.KSBs, t.Covers.KSBs) &&
		(prev.Version == nil) == (t.Version == nil) && (t.Version == nil || *prev.Version == *t.Version)
}

func summaryOf(r coverage.Report) *CoverageSummary {
	return &CoverageSummary{Confirmed: r.Summary.Confirmed, Claimed: r.Summary.Claimed, Evidenced: r.Summary.Evidenced, Suggested: r.Summary.Suggested,
		Gap: r.Summary.Gap, Total: r.Summary.Total, Ready: r.Ready, StaleItems: r.StaleItems}
}

// staleNotice is the run's warning when items were tagged against another
// catalogue or revision; "" when none were.
func staleNotice(sum *CoverageSummary, cat *ksb.Catalogue) string {
	if sum == nil || sum.StaleItems == 0 {
		return ""
	}
	return fmt.Sprintf("catalogue %s (revision %s) changed since %d stored items were tagged: their rule tags and "+
		"\"not in catalogue\" warnings may be out of date; run `ksbfolio retag` to re-tag them (items and reviews are kept)",
		cat.ID, cat.Revision(), sum.StaleItems)
}

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
	return fmt.Sprintf("%d confirmed, %d claimed, %d suggested, %d gap of %d", s.Confirmed, s.Claimed, s.Suggested, s.Gap, s.Total)
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

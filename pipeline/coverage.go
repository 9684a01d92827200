package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
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

// ComputeCoverage reads a snapshot of the ledger and computes its coverage.
// It reads only the items the link index does not know at the version
// listed, and those with a review (knownItems): the result is the
// coverage of every item read.
func ComputeCoverage(ctx context.Context, l *ledger.Ledger, cat *ksb.Catalogue, target coverage.Target, now time.Time) (coverage.Report, []string, error) {
	return computeCoverage(ctx, l, cat, target, now, ledger.SnapshotOptions{Known: indexedItems(ctx, l)})
}

// computeCoverage is ComputeCoverage reading the snapshot with opts (what
// is known of the items, and the listing, if any); the verifier is the
// target's.
func computeCoverage(ctx context.Context, l *ledger.Ledger, cat *ksb.Catalogue, target coverage.Target, now time.Time, opts ledger.SnapshotOptions) (coverage.Report, []string, error) {
	opts.Verifier = target.Reviewers
	snap, err := l.Snapshot(ctx, opts)
	if err != nil {
		return coverage.Report{}, nil, err
	}
	return SnapshotCoverage(snap, cat, target, now), snap.CorruptStrings(), nil
}

// indexedItems is knownItems of the stored link index (nil when there is
// none or it cannot be read).
func indexedItems(ctx context.Context, l *ledger.Ledger) map[string]ledger.Known {
	return knownItems(slices.Collect(maps.Values(readLinkIndex(ctx, l))))
}

// knownItems turns link entries into the summaries a coverage Snapshot
// takes in place of reading the items (ledger.SnapshotOptions.Known): each
// item's ID, kind, source type, time, native ID, links and tags, which is
// everything coverage.Compute reads of an item without a review. Entries
// without an ETag are left out.
func knownItems(entries []linkEntry) map[string]ledger.Known {
	if len(entries) == 0 {
		return nil
	}
	known := make(map[string]ledger.Known, len(entries))
	for i := range entries {
		e := &entries[i]
		if e.ETag == "" {
			continue
		}
		it := evidence.Item{ID: e.ID, Kind: e.Kind, SourceType: e.SourceType, OccurredAt: e.OccurredAt,
			Origin: evidence.Origin{NativeID: e.NativeID}, Links: e.Links, Tags: e.Tags}
		it.Normalize()
		known[e.ID] = ledger.Known{ETag: e.ETag, Item: it}
	}
	return known
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
	return updateCoverage(ctx, l, cat, target, now, ledger.SnapshotOptions{Known: indexedItems(ctx, l)})
}

// updateCoverage is UpdateCoverage reading the snapshot with opts (see
// computeCoverage).
func updateCoverage(ctx context.Context, l *ledger.Ledger, cat *ksb.Catalogue, target coverage.Target, now time.Time, opts ledger.SnapshotOptions) (coverage.Report, []string, error) {
	rep, corrupt, err := computeCoverage(ctx, l, cat, target, now, opts)
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

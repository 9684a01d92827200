package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
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
func ComputeCoverage(ctx context.Context, l *ledger.Ledger, cat *ksb.Catalogue, now time.Time) (coverage.Report, []string, error) {
	snap, err := l.Snapshot(ctx, ledger.SnapshotOptions{})
	if err != nil {
		return coverage.Report{}, nil, err
	}
	return SnapshotCoverage(snap, cat, now), snap.CorruptStrings(), nil
}

// SnapshotCoverage computes coverage from a snapshot already read.
func SnapshotCoverage(snap *ledger.Snapshot, cat *ksb.Catalogue, now time.Time) coverage.Report {
	return coverage.Compute(cat, snap.Apprentice, snap.Items(), snap.Reviews, now.UTC())
}

// UpdateCoverage recomputes and stores coverage.json.
func UpdateCoverage(ctx context.Context, l *ledger.Ledger, cat *ksb.Catalogue, now time.Time) (coverage.Report, []string, error) {
	rep, corrupt, err := ComputeCoverage(ctx, l, cat, now)
	if err != nil {
		return rep, corrupt, err
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

func summaryOf(r coverage.Report) *CoverageSummary {
	return &CoverageSummary{Evidenced: r.Summary.Evidenced, Suggested: r.Summary.Suggested,
		Gap: r.Summary.Gap, Total: r.Summary.Total, Ready: r.Ready}
}

// RetagResult says what Retag did.
type RetagResult struct {
	Items    int      // items read
	Changed  int      // items whose tags changed and were written back
	Corrupt  []string // unreadable items, skipped
	Warnings []string
}

// Retag re-applies the tagger to every stored item without collecting,
// writing back only items whose tags changed. Reviews are untouched.
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

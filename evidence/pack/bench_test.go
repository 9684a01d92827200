package pack_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/pack"
)

// BenchmarkBuild10k builds the pack (in memory) for 10,000 items, every
// one included, and with --max-items 40.
func BenchmarkBuild10k(b *testing.B) {
	in, _ := fixture(b)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	views := make([]ledger.View, 10000)
	for i := range views {
		it := evidence.Item{ID: evidence.NewID("git", fmt.Sprint(i)), Kind: evidence.KindCommit, Source: "repo", SourceType: "git",
			Title: fmt.Sprintf("commit %d: change the model", i), Summary: "a redacted message", OccurredAt: base.Add(time.Duration(i) * time.Hour),
			Facts: map[string]any{"files_changed": float64(i % 17), "insertions": float64(i % 300)}}
		for k := 0; k < 3; k++ {
			it.Tags = append(it.Tags, evidence.Tag{KSB: fmt.Sprintf("K%d", 1+(i+k*7)%30), By: "rule:r"})
		}
		views[i] = ledger.View{Item: it, Tags: it.Tags, State: evidence.State{Accepted: map[string]evidence.Verdict{}, Rejected: map[string]evidence.Verdict{}}}
	}
	in.Snapshot = &ledger.Snapshot{Apprentice: "ada", Views: views}
	for _, max := range []int{0, 40} {
		b.Run(fmt.Sprintf("max=%d", max), func(b *testing.B) {
			in.MaxItems = max
			for range b.N {
				if _, err := pack.Build(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

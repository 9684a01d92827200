package tagging_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
)

// BenchmarkTagStored tags the items of a ledger folder (for example one
// scripts/bench-run.sh left, or any `ksbfolio collect` made):
//
//	KSBFOLIO_BENCH_ITEMS=STORE/apprentices/ID/items go test -bench TagStored ./evidence/tagging/
//
// It reports the time per item.
func BenchmarkTagStored(b *testing.B) {
	dir := os.Getenv("KSBFOLIO_BENCH_ITEMS")
	if dir == "" {
		b.Skip("KSBFOLIO_BENCH_ITEMS not set")
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) == 0 {
		b.Fatalf("no items in %s (%v)", dir, err)
	}
	items := make([]evidence.Item, 0, len(names))
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			b.Fatal(err)
		}
		var it evidence.Item
		if err := json.Unmarshal(data, &it); err != nil {
			b.Fatal(err)
		}
		items = append(items, it)
	}
	tg, _, err := tagging.Compile(tagging.Builtin(), official(b), tagging.CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		x := items[i%len(items)]
		i++
		tg.Tag(&x)
	}
}

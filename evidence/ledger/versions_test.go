package ledger_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// The ETag a batched put returns is the one ListItems lists, and the
// one GetItemVersion reads, until the item is written again (then it
// differs): what lets the link index trust an entry without reading the
// item, on both backends. Indexes round-trip; a missing one is not found.
// listVersions is ListItems(ctx).Versions().
func listVersions(ctx context.Context, l *ledger.Ledger) ([]ledger.ItemVersion, error) {
	li, err := l.ListItems(ctx)
	if err != nil {
		return nil, err
	}
	return li.Versions(), nil
}

func TestItemVersions(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, _ := ledger.New(s, "jane")
		a, b := item("a"), item("b")
		etagA, err := l.PutItemBatched(ctx, a)
		if err != nil || etagA == "" {
			t.Fatalf("put a: %q, %v", etagA, err)
		}
		etagB, err := l.PutItemBatched(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, l.Prefix()+"items/not-an-item.txt", strings.NewReader(""), 0, store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		vs, err := listVersions(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{a.ID: etagA, b.ID: etagB}
		if len(vs) != 2 {
			t.Fatalf("versions %v, want %v", vs, want)
		}
		for _, v := range vs {
			if want[v.ID] != v.ETag {
				t.Errorf("%s listed with ETag %q, put returned %q", v.ID, v.ETag, want[v.ID])
			}
		}
		got, etag, err := l.GetItemVersion(ctx, a.ID)
		if err != nil || got.ID != a.ID || etag != etagA {
			t.Errorf("GetItemVersion: %v %q %v, want ETag %q", got, etag, err, etagA)
		}
		a.Title = "changed"
		etag2, err := l.PutItemBatched(ctx, a)
		if err != nil || etag2 == etagA {
			t.Errorf("rewritten: ETag %q (was %q), %v", etag2, etagA, err)
		}

		var idx struct{ N int }
		if found, err := l.Index(ctx, "links", &idx); found || err != nil {
			t.Errorf("missing index: found %v, %v", found, err)
		}
		if err := l.PutIndex(ctx, "links", struct{ N int }{7}); err != nil {
			t.Fatal(err)
		}
		if found, err := l.Index(ctx, "links", &idx); !found || err != nil || idx.N != 7 {
			t.Errorf("index: found %v, %+v, %v", found, idx, err)
		}
	})
}

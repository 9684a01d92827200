package ledger_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/evidence/store/s3store"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// backends runs fn against the folder store and a real S3 server.
func backends(t *testing.T, fn func(t *testing.T, s store.Store)) {
	t.Run("fs", func(t *testing.T) {
		s, err := fsstore.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
	t.Run("s3", func(t *testing.T) {
		srv := storetest.StartVersityGW(t)
		cfg, err := s3store.ParseURL(srv.URL("ledger-test"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.AccessKey, cfg.SecretKey = srv.AccessKey, srv.SecretKey
		s, err := s3store.New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

func item(id string) *evidence.Item {
	return &evidence.Item{Schema: 1, ID: evidence.NewID("git", id), Apprentice: "jane", SourceType: "git",
		Kind: evidence.KindCommit, Title: "t " + id, OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func TestLedger(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, err := ledger.New(s, "jane")
		if err != nil {
			t.Fatal(err)
		}
		// Blobs are content-addressed and deduplicated.
		h1, err := l.PutBlob(ctx, []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		h2, err := l.PutBlob(ctx, []byte("hello"))
		if err != nil || h1 != h2 || h1 != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
			t.Fatalf("blob hash %s %s %v", h1, h2, err)
		}
		if _, err := s.Stat(ctx, "apprentices/jane/blobs/sha256/2c/"+h1); err != nil {
			t.Fatalf("blob not at the design's key: %v", err)
		}
		// Items round-trip; keys are the design's.
		it := item("abc")
		it.Artefacts = []evidence.Artefact{{Name: "x", SHA256: h1, Size: 5, MediaType: "text/plain"}}
		if err := l.PutItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		got, err := l.GetItem(ctx, it.ID)
		if err != nil || got.Title != it.Title || len(got.Artefacts) != 1 {
			t.Fatalf("GetItem: %+v %v", got, err)
		}
		if _, err := s.Stat(ctx, "apprentices/jane/items/"+it.ID+".json"); err != nil {
			t.Fatal(err)
		}
		// Invalid items are refused; other apprentices' items too.
		bad := item("x")
		bad.Kind = "nonsense"
		if err := l.PutItem(ctx, bad); err == nil {
			t.Fatal("invalid item stored")
		}
		other := item("y")
		other.Apprentice = "bob"
		if err := l.PutItem(ctx, other); err == nil {
			t.Fatal("another apprentice's item stored")
		}
		// A corrupt object is reported, the rest still read.
		if err := l.PutItem(ctx, item("def")); err != nil {
			t.Fatal(err)
		}
		key := l.ItemKey(evidence.NewID("git", "def"))
		if _, err := s.Put(ctx, key, strings.NewReader("{not json"), -1, store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		var corrupt []error
		items, err := l.Items(ctx, func(e error) { corrupt = append(corrupt, e) })
		if err != nil || len(items) != 1 || len(corrupt) != 1 || !errors.Is(corrupt[0], ledger.ErrCorrupt) || !strings.Contains(corrupt[0].Error(), key) {
			t.Fatalf("Items: %d items, corrupt %v, err %v", len(items), corrupt, err)
		}
		// Reviews: concurrent decisions are all kept.
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if _, err := l.AddDecision(ctx, it.ID, evidence.Decision{At: time.Now(), By: "p", Role: "coach", Accept: []string{"S10"}}); err != nil {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		rv, err := l.Review(ctx, it.ID)
		if err != nil || rv == nil || len(rv.Decisions) != 8 {
			t.Fatalf("review after 8 concurrent decisions: %+v %v", rv, err)
		}
		// Cursors.
		if c, err := l.Cursor(ctx, "repo"); err != nil || c != nil {
			t.Fatalf("missing cursor: %s %v", c, err)
		}
		if err := l.PutCursor(ctx, "repo", []byte(`{"a":1}`)); err != nil {
			t.Fatal(err)
		}
		if c, err := l.Cursor(ctx, "repo"); err != nil || strings.Join(strings.Fields(string(c)), "") != `{"a":1}` {
			t.Fatalf("cursor: %s %v", c, err)
		}
		if err := l.PutCursor(ctx, "../x", []byte(`{}`)); err == nil {
			t.Fatal("hostile source name accepted")
		}
	})
}

func TestLease(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, _ := ledger.New(s, "jane")
		a, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "a", Host: "h1", PID: 1}, time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Acquire(ctx, ledger.LeaseInfo{RunID: "b"}, time.Minute, nil)
		var held *ledger.HeldError
		if !errors.As(err, &held) || held.Info.RunID != "a" || !errors.Is(err, ledger.ErrLeaseHeld) {
			t.Fatalf("second acquire: %v", err)
		}
		if err := a.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		// Expired lease: taken over; the old holder's renewal then fails.
		old, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "old"}, time.Millisecond, nil)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		nw, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "new"}, time.Minute, nil)
		if err != nil {
			t.Fatalf("stale lease not taken over: %v", err)
		}
		if err := old.Renew(ctx); !errors.Is(err, ledger.ErrLeaseLost) {
			t.Fatalf("renewal of a lost lease: %v", err)
		}
		if err := old.Release(ctx); !errors.Is(err, ledger.ErrLeaseLost) {
			t.Fatalf("release of a lease taken over: %v, want ErrLeaseLost", err)
		}
		if info, ok, _ := l.ReadLease(ctx); !ok || info.RunID != "new" {
			t.Fatalf("the old holder's release removed the new lease: %+v %v", info, ok)
		}
		// Many racers for a stale lease: exactly one wins.
		_ = nw.Release(ctx)
		if _, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "dead"}, time.Millisecond, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		var mu sync.Mutex
		wins := 0
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "racer"}, time.Minute, nil); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, ledger.ErrLeaseHeld) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d racers took the stale lease, want 1", wins)
		}
	})
}

func TestStandards(t *testing.T) {
	s, err := fsstore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := ledger.PutStandard(ctx, s, "st1398-official", []byte("id: st1398-official\n")); err != nil {
		t.Fatal(err)
	}
	if err := ledger.PutStandard(ctx, s, "../evil", []byte("x")); err == nil {
		t.Fatal("hostile catalogue id accepted")
	}
	ids, err := ledger.StandardIDs(ctx, s)
	if err != nil || len(ids) != 1 || ids[0] != "st1398-official" {
		t.Fatalf("ids %v %v", ids, err)
	}
	b, err := ledger.GetStandard(ctx, s, "st1398-official")
	if err != nil || !strings.Contains(string(b), "st1398-official") {
		t.Fatal(err)
	}
	if _, err := ledger.GetStandard(ctx, s, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
}

func TestPutBlobFile(t *testing.T) {
	s, _ := fsstore.New(t.TempDir())
	l, _ := ledger.New(s, "jane")
	p := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, n, err := l.PutBlobFile(context.Background(), p)
	if err != nil || n != 5 || h != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("%s %d %v", h, n, err)
	}
	if ok, _ := l.HasBlob(context.Background(), h); !ok {
		t.Fatal("blob missing")
	}
}

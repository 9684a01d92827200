package maintain_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/pipeline/maintain"
)

// fsck --repair deletes an orphan blob only once it is older than the
// grace period (a run may still be about to write the item naming it).
func TestFsckGrace(t *testing.T) {
	root := t.TempDir()
	s, err := fsstore.New(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, _ := ledger.New(s, "jane")
	ctx := context.Background()
	young, err := l.PutBlob(ctx, []byte("written by a run in progress"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := l.PutBlob(ctx, []byte("left by a run killed yesterday"))
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().Add(-24 * time.Hour)
	if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(l.BlobKey(old))), day, day); err != nil {
		t.Fatal(err)
	}
	opts := maintain.FsckOptions{Repair: true, Grace: time.Hour, Lease: ledger.HoldOptions{RunID: "fsck-1", Command: "fsck"}}
	res, err := maintain.Fsck(ctx, l, opts)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]maintain.Problem{}
	for _, p := range res.Problems {
		kinds[p.Key] = p
	}
	if p := kinds[l.BlobKey(old)]; p.Kind != "orphan_blob" || p.Repaired != "deleted" {
		t.Errorf("old orphan: %+v", p)
	}
	if p := kinds[l.BlobKey(young)]; p.Kind != "orphan_blob" || p.Repaired != "" || p.Pending == "" {
		t.Errorf("young orphan: %+v", p)
	}
	if res.Unrepaired() != 0 {
		t.Errorf("a pending orphan counts as unrepaired: %+v", res.Problems)
	}
	if ok, _ := l.HasBlob(ctx, young); !ok {
		t.Fatal("a blob younger than the grace period was deleted")
	}
	if ok, _ := l.HasBlob(ctx, old); ok {
		t.Fatal("an old orphan blob was kept")
	}
	if _, held, _ := l.ReadLease(ctx); held {
		t.Fatal("fsck --repair left its lease")
	}
	opts.Grace = 0
	opts.Lease.RunID = "fsck-2"
	if _, err := maintain.Fsck(ctx, l, opts); err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.HasBlob(ctx, young); ok {
		t.Fatal("with no grace period the orphan was kept")
	}
}

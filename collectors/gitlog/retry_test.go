package gitlog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// looseObject is the path of a loose object of r.
func (r *repo) looseObject(sha string) string {
	return filepath.Join(r.dir, ".git", "objects", sha[:2], sha[2:])
}

// TestRetryAfterRepair: a run that could not read a commit (deleted) and a
// blob (corrupted) skips them and the history behind them; once the objects
// are back, the next run collects exactly what was skipped, and the run
// after that has nothing left to do.
func TestRetryAfterRepair(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	var shas []string
	for i := range 4 {
		r.write("a.txt", strings.Repeat("line\n", i+1))
		shas = append(shas, r.commit(jane, "Step"))
	}
	r.write("b.txt", "unique content of b\n")
	withBlob := r.commit(jane, "Add b")
	r.write("c.txt", "c\n")
	head := r.commit(jane, "Add c")
	gone := shas[2] // HEAD~3: its history is unreachable without it
	blob := r.git("rev-parse", withBlob+":b.txt")

	commitPath, blobPath := r.looseObject(gone), r.looseObject(blob)
	aside := t.TempDir()
	if err := os.Rename(commitPath, filepath.Join(aside, "commit")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(blobPath, filepath.Join(aside, "blob")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blobPath, []byte("not a zlib stream"), 0o444); err != nil {
		t.Fatal(err)
	}

	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	s, cur, err := collect(t, c, nil)
	var pe *collectors.PartialError
	// Skipped: the missing commit, and the stats of its child and of the
	// commit with the corrupt blob.
	if !errors.As(err, &pe) || pe.Failed != 3 {
		t.Fatalf("damaged run: err %v, want a PartialError with 3 skips; skips %+v", err, s.skips)
	}
	if !sameSet(natives(s.items), []string{head, withBlob, shas[3]}) {
		t.Fatalf("damaged run emitted %v", natives(s.items))
	}
	if _, noStats := s.byNative()[withBlob].Facts["stats_unavailable"]; !noStats {
		t.Errorf("commit with a corrupt blob has stats")
	}

	// Still damaged: the same skips again, nothing forgotten.
	s, cur2, err := collect(t, c, cur)
	if !errors.As(err, &pe) || pe.Failed != 3 || len(s.items) != 0 || string(cur2) != string(cur) {
		t.Fatalf("still damaged: err %v, %d items, cursor %s (was %s)", err, len(s.items), cur2, cur)
	}

	// Repaired.
	if err := os.Remove(blobPath); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{"commit": commitPath, "blob": blobPath} {
		if err := os.Rename(filepath.Join(aside, from), to); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := demorepo.Git(context.Background(), r.dir, "fsck", "--no-dangling"); err != nil {
		t.Fatalf("repository not repaired: %v %s", err, out)
	}
	s, cur, err = collect(t, c, cur2)
	if err != nil || !sameSet(natives(s.items), []string{withBlob, shas[3], shas[2], shas[1], shas[0]}) {
		t.Fatalf("after repair: err %v, emitted %v, want the skipped commits", err, natives(s.items))
	}
	if files := filesOf(t, s.byNative()[withBlob]); files["b.txt"] != (fileCount{1, 0}) {
		t.Errorf("stats after repair %v", files)
	}
	s, _, err = collect(t, c, cur)
	if err != nil || len(s.items) != 0 {
		t.Errorf("run after the repair: err %v, %d items, want nothing left", err, len(s.items))
	}
}

// TestShallowThenUnshallow: a shallow clone collects what it has, says
// nothing more while it stays shallow, and collects the rest (and the
// boundary commit's stats) once it is unshallowed.
func TestShallowThenUnshallow(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	var all []string
	for i := 0; i < 8; i++ {
		r.write("src/train.py", strings.Repeat("line\n", i+1))
		all = append(all, r.commit(jane, "Step"))
	}
	dst := filepath.Join(t.TempDir(), "shallow")
	if _, err := demorepo.Git(context.Background(), r.dir, "clone", "-q", "--depth", "5", "file://"+r.dir, dst); err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, gitlog.Config{Path: dst, Emails: []string{janeE}})
	s, cur, err := collect(t, c, nil)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) || !sameSet(natives(s.items), all[3:]) {
		t.Fatalf("shallow run: err %v, emitted %v", err, natives(s.items))
	}
	s, cur, err = collect(t, c, cur)
	if err != nil || len(s.items) != 0 {
		t.Fatalf("still shallow, nothing new: err %v, %d items", err, len(s.items))
	}

	if _, err := demorepo.Git(context.Background(), dst, "fetch", "-q", "--unshallow"); err != nil {
		t.Fatal(err)
	}
	s, cur, err = collect(t, c, cur)
	boundary := all[3]
	if err != nil || !sameSet(natives(s.items), append([]string{boundary}, all[:3]...)) {
		t.Fatalf("after unshallow: err %v, emitted %v, want the boundary and the 3 older commits", err, natives(s.items))
	}
	if files := filesOf(t, s.byNative()[boundary]); files["src/train.py"] != (fileCount{1, 0}) {
		t.Errorf("boundary stats after unshallow %v", files)
	}
	s, _, err = collect(t, c, cur)
	if err != nil || len(s.items) != 0 {
		t.Errorf("run after unshallow: err %v, %d items", err, len(s.items))
	}
}

// TestCursorHasNoRefNames: a secret in a branch name reaches neither the
// cursor nor a skip, a warning or the items, even when the branch is broken.
func TestCursorHasNoRefNames(t *testing.T) {
	t.Parallel()
	const secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"
	r := newRepo(t)
	r.write("a.txt", "1\n")
	r.commit(jane, "One")
	r.git("branch", "leak/"+secret)
	ghost := strings.Repeat("1", 40)
	if err := os.WriteFile(filepath.Join(r.dir, ".git", "refs", "heads", secret+"-broken"), []byte(ghost+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	s, cur, err := collect(t, c, nil)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) || len(s.items) != 1 {
		t.Fatalf("err %v, %d items", err, len(s.items))
	}
	var seen strings.Builder
	seen.Write(cur)
	seen.WriteString(err.Error())
	for _, sk := range s.skips {
		seen.WriteString(sk.What + sk.Reason)
	}
	for _, w := range s.warns {
		seen.WriteString(w)
	}
	for _, it := range s.items {
		fmt.Fprintf(&seen, "%v", it)
	}
	if strings.Contains(seen.String(), "ghp_") || strings.Contains(seen.String(), "leak/") {
		t.Errorf("a ref name leaked: %s", seen.String())
	}
}

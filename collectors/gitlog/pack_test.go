package gitlog

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// catAll returns every object of the repository as git cat-file shows it.
func catAll(t *testing.T, dir string) map[plumbing.Hash]struct {
	typ     string
	content []byte
} {
	t.Helper()
	out, err := demorepo.Git(context.Background(), dir, "cat-file", "--batch-all-objects", "--batch", "--unordered")
	if err != nil {
		t.Fatal(err)
	}
	res := map[plumbing.Hash]struct {
		typ     string
		content []byte
	}{}
	br := bufio.NewReader(strings.NewReader(out))
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("cat-file line %q", line)
		}
		n, _ := strconv.Atoi(f[2])
		b := make([]byte, n+1)
		if _, err := io.ReadFull(br, b); err != nil {
			t.Fatal(err)
		}
		res[plumbing.NewHash(f[0])] = struct {
			typ     string
			content []byte
		}{f[1], b[:n]}
	}
	return res
}

// TestPackReaderMatchesGit: every object of a generated repository, read
// by the pack reader, equals what git cat-file gives, for each layout git
// writes: fast-import's pack, offset deltas with deep chains, ref deltas,
// loose objects, and several packs at once.
func TestPackReaderMatchesGit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "repo")
	if _, err := demorepo.Build(context.Background(), dir, demorepo.Options{Commits: 300, Seed: 4, Branches: 3, Files: 120}); err != nil {
		t.Fatal(err)
	}
	want := catAll(t, dir)
	layouts := []struct {
		name string
		cmds [][]string
	}{
		{"fast-import", nil},
		{"ofs deltas", [][]string{{"repack", "-adfq", "--depth=50", "--window=50"}}},
		{"ref deltas", [][]string{{"-c", "repack.useDeltaBaseOffset=false", "repack", "-adfq", "--depth=20"}}},
		{"loose and packed", [][]string{{"unpack-objects-keep"}}},
	}
	for _, l := range layouts {
		for _, c := range l.cmds {
			if c[0] == "unpack-objects-keep" {
				// Move every object loose, then pack only half of them again.
				explodeHalf(t, dir)
				continue
			}
			if _, err := demorepo.Git(context.Background(), dir, c...); err != nil {
				t.Fatal(err)
			}
		}
		repo, err := git.PlainOpen(dir)
		if err != nil {
			t.Fatal(err)
		}
		st := repo.Storer.(*filesystem.Storage)
		ps := openPacks(st.Filesystem())
		objs := newFastObjects(ps, &lockedObjects{src: repo.Storer}, 1<<20)
		packed := 0
		for h, w := range want {
			if _, _, ok := ps.find(h); ok {
				packed++
			}
			o, err := objs.EncodedObject(plumbing.AnyObject, h)
			if err != nil {
				t.Fatalf("%s: object %s: %v", l.name, h, err)
			}
			r, _ := o.Reader()
			got, _ := io.ReadAll(r)
			r.Close()
			if o.Type().String() != w.typ || !bytes.Equal(got, w.content) || o.Size() != int64(len(w.content)) {
				t.Fatalf("%s: object %s: got %s of %d bytes, git has %s of %d bytes", l.name, h, o.Type(), len(got), w.typ, len(w.content))
			}
			if _, err := objs.EncodedObject(plumbing.CommitObject, h); w.typ != "commit" && err != plumbing.ErrObjectNotFound {
				t.Fatalf("%s: %s %s read as a commit: %v", l.name, w.typ, h, err)
			}
		}
		t.Logf("%s: %d objects, %d from packs", l.name, len(want), packed)
		if l.name != "loose and packed" && packed != len(want) {
			t.Errorf("%s: %d of %d objects found in packs", l.name, packed, len(want))
		}
		ps.close()
	}
}

// explodeHalf leaves half of the objects in a pack and the rest loose.
func explodeHalf(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	list, err := demorepo.Git(ctx, dir, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
	if err != nil {
		t.Fatal(err)
	}
	packs, _ := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "pack-*.pack"))
	var contents []io.Reader
	for _, p := range packs {
		contents = append(contents, mustOpen(t, p))
	}
	// unpack-objects skips what the repository holds: the packs go first
	removeGlob(t, filepath.Join(dir, ".git", "objects", "pack", "pack-*"))
	for _, c := range contents {
		if _, err := demorepo.GitEnv(ctx, dir, nil, c, "unpack-objects", "-q"); err != nil {
			t.Fatal(err)
		}
	}
	var half []string
	for i, h := range strings.Fields(list) {
		if i%2 == 0 {
			half = append(half, h)
		}
	}
	if _, err := demorepo.GitEnv(ctx, dir, nil, strings.NewReader(strings.Join(half, "\n")+"\n"),
		"pack-objects", "-q", filepath.Join(".git", "objects", "pack", "pack")); err != nil {
		t.Fatal(err)
	}
}

// TestParseHeaderMatchesGoGit: the walk's header parser agrees with
// go-git's commit decoder (which the items use) on real and odd commits.
func TestParseHeaderMatchesGoGit(t *testing.T) {
	tree := "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	par := "parent 1111111111111111111111111111111111111111\n"
	au := "author Jane Doe <jane@corp.example> 1700000000 +0100\n"
	co := "committer Sam <sam@corp.example> 1700000100 -0500\n"
	cases := []string{
		tree + au + co + "\nmsg\n",
		tree + par + par + au + co + "\nmerge\n",
		tree + par + au + co + "gpgsig -----BEGIN-----\n abc\n -----END-----\n\nsigned\n",
		tree + co + au + "\nswapped\n",                                // out of place: dropped
		tree + au + "author Other <o@x> 1 +0000\n" + co + "\ntwice\n", // second author ignored
		tree + "author <a<b>c> 5\n" + co + "\nodd email\n",
		tree + "author NoEmail 5\n" + co + "\n",
		tree + au + "committer Sam <sam@x> notatime +0000\n\n",
		tree + au + co,                      // no message
		tree + "\n",                         // nothing else
		tree + par + "\n" + au + co + "\nx", // author after the blank line is message
		tree + au + co + par + "\nlate parent\n",
		tree + "encoding ISO-8859-1\n" + au + co + "\n",
	}
	for i, raw := range cases {
		want, err := object.DecodeCommit(nil, &memObject{typ: plumbing.CommitObject, content: []byte(raw)})
		if err != nil {
			t.Fatalf("case %d: go-git: %v", i, err)
		}
		got, err := parseHeader([]byte(raw))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if d := headerDiff(got, want); d != "" {
			t.Errorf("case %d %q: %s", i, raw, d)
		}
	}
	for _, bad := range []string{"", "parent 1111111111111111111111111111111111111111\n", "tree xyz\n"} {
		if _, err := parseHeader([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func headerDiff(got header, want *object.Commit) string {
	switch {
	case got.tree != want.TreeHash:
		return fmt.Sprintf("tree %s, go-git %s", got.tree, want.TreeHash)
	case fmt.Sprint(got.parents) != fmt.Sprint(want.ParentHashes):
		return fmt.Sprintf("parents %v, go-git %v", got.parents, want.ParentHashes)
	case got.authorName != want.Author.Name || got.authorEmail != want.Author.Email:
		return fmt.Sprintf("author %q <%q>, go-git %q <%q>", got.authorName, got.authorEmail, want.Author.Name, want.Author.Email)
	case got.committed != want.Committer.When.Unix():
		return fmt.Sprintf("committed %d, go-git %d", got.committed, want.Committer.When.Unix())
	}
	return ""
}

// FuzzParseHeader: on any input, parseHeader never panics and, when
// go-git decodes the commit, agrees with it.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@b> 1 +0000\ncommitter C <c@d> 2 +0000\n\nm\n"))
	f.Add([]byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := parseHeader(raw)
		want, werr := object.DecodeCommit(nil, &memObject{typ: plumbing.CommitObject, content: raw})
		if err != nil || werr != nil {
			return
		}
		if d := headerDiff(got, want); d != "" {
			t.Errorf("%q: %s", raw, d)
		}
	})
}

// FuzzDecodeTree: decodeTree never panics and agrees with go-git.
func FuzzDecodeTree(f *testing.F) {
	f.Add([]byte("100644 a.txt\x00" + strings.Repeat("\x01", 20) + "40000 dir\x00" + strings.Repeat("\x02", 20)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := decodeTree(raw)
		var want object.Tree
		werr := want.Decode(&memObject{typ: plumbing.TreeObject, content: raw})
		if err != nil || werr != nil {
			return
		}
		if len(got) != len(want.Entries) {
			t.Fatalf("%d entries, go-git %d", len(got), len(want.Entries))
		}
		for i, e := range want.Entries {
			if got[i].name != e.Name || got[i].hash != e.Hash || got[i].mode != e.Mode {
				t.Fatalf("entry %d: %+v, go-git %+v", i, got[i], e)
			}
		}
	})
}

// FuzzApplyDelta: a corrupt delta gives an error, never a panic or a
// result of the wrong size.
func FuzzApplyDelta(f *testing.F) {
	f.Add([]byte("hello world"), []byte{11, 5, 0x90, 5})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		out, err := applyDelta(base, delta)
		if err != nil {
			return
		}
		if dst, n := targetSize(delta); n == 0 || uint64(len(out)) != dst {
			t.Fatalf("result of %d bytes, header says %d", len(out), dst)
		}
	})
}

func mustOpen(t *testing.T, path string) io.Reader {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

func removeGlob(t *testing.T, pattern string) {
	t.Helper()
	ms, _ := filepath.Glob(pattern)
	for _, m := range ms {
		if err := os.Remove(m); err != nil {
			t.Fatal(err)
		}
	}
}

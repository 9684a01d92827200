package gitlog_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// gitNumstat runs git log over every branch for one author (after
// .mailmap, case-insensitive) and returns commit SHA → path → counts, with
// -1/-1 for binary files.
func gitNumstat(t *testing.T, dir, email string) map[string]map[string]fileCount {
	t.Helper()
	out, err := demorepo.Git(context.Background(), dir, "log", "--branches", "--no-renames", "--numstat",
		"--diff-merges=first-parent", "--use-mailmap", "--regexp-ignore-case",
		"--author=<"+regexp.QuoteMeta(email)+">", "--format=%x00%H")
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]map[string]fileCount{}
	for _, rec := range strings.Split(out, "\x00")[1:] {
		lines := strings.Split(strings.TrimSpace(rec), "\n")
		sha := lines[0]
		files := map[string]fileCount{}
		for _, l := range lines[1:] {
			if l == "" {
				continue
			}
			f := strings.SplitN(l, "\t", 3)
			if len(f) != 3 {
				t.Fatalf("git numstat line %q: want 3 fields", l)
			}
			fc := fileCount{-1, -1}
			if f[0] != "-" {
				fc.ins, _ = strconv.Atoi(f[0])
				fc.del, _ = strconv.Atoi(f[1])
			}
			files[f[2]] = fc
		}
		res[sha] = files
	}
	return res
}

// TestNumstatMatchesGit is the key correctness test: on a generated
// history of a few hundred commits (merges, binary files, added and deleted
// files, a .mailmap, mixed-case emails), every item's file stats equal
// `git log --no-renames --numstat --diff-merges=first-parent` for the
// same author, and the set of commits is the same.
func TestNumstatMatchesGit(t *testing.T) {
	t.Parallel()
	// seed 3: a larger code base (nested folders, workplace-like edits)
	for _, seed := range []int64{1, 2, 3} {
		dir := filepath.Join(t.TempDir(), "repo")
		files := 0
		if seed == 3 {
			files = 400
		}
		sum, err := demorepo.Build(context.Background(), dir, demorepo.Options{
			Commits: 400, Seed: seed, Branches: 6, TrailerEvery: 4, Mailmap: true, Files: files})
		if err != nil {
			t.Fatal(err)
		}
		want := gitNumstat(t, dir, janeE)
		c := newCollector(t, gitlog.Config{Path: dir, Emails: []string{janeE}})
		s, _, err := collect(t, c, nil)
		if err != nil {
			t.Fatalf("seed %d: Collect: %v", seed, err)
		}
		got := s.byNative()
		if len(got) != sum.Apprentice || len(want) != sum.Apprentice {
			t.Fatalf("seed %d: collector %d commits, git %d, generator made %d", seed, len(got), len(want), sum.Apprentice)
		}
		merges, binaries := 0, 0
		for sha, wfiles := range want {
			it, ok := got[sha]
			if !ok {
				t.Errorf("seed %d: commit %s: git lists it, collector did not emit it", seed, sha)
				continue
			}
			gfiles, totals := filesOf(t, it), it
			if it.Kind == "merge" {
				merges++
				gfiles = mergeDiffFiles(t, it)
				totals = evidence.Item{Origin: it.Origin, Facts: it.Facts["merge_diff"].(map[string]any)}
			}
			if len(gfiles) != len(wfiles) {
				t.Errorf("seed %d: commit %s: %d files, git %d: %v vs %v", seed, sha, len(gfiles), len(wfiles), gfiles, wfiles)
			}
			ins, del := 0, 0
			for p, w := range wfiles {
				g, ok := gfiles[p]
				if !ok {
					t.Errorf("seed %d: commit %s: file %s missing (git %v)", seed, sha, p, w)
					continue
				}
				if g != w {
					t.Errorf("seed %d: commit %s: file %s: got +%d -%d, git +%d -%d", seed, sha, p, g.ins, g.del, w.ins, w.del)
				}
				if w.ins < 0 {
					binaries++
					continue
				}
				ins += w.ins
				del += w.del
			}
			if gi, gd, gn := factInt(t, totals, "insertions"), factInt(t, totals, "deletions"), factInt(t, totals, "files_changed"); gi != ins || gd != del || gn != len(wfiles) {
				t.Errorf("seed %d: commit %s: totals +%d -%d in %d files, git +%d -%d in %d", seed, sha, gi, gd, gn, ins, del, len(wfiles))
			}
		}
		if merges != sum.ApprenticeMerges {
			t.Errorf("seed %d: %d merges emitted, generator made %d by the apprentice", seed, merges, sum.ApprenticeMerges)
		}
		if binaries == 0 || merges == 0 {
			t.Errorf("seed %d: history exercised %d binary files and %d merges; the test needs both", seed, binaries, merges)
		}
		var paths []string
		for _, it := range s.items {
			for p := range filesOf(t, it) {
				paths = append(paths, p)
			}
		}
		sort.Strings(paths)
		if !strings.Contains(strings.Join(paths, " "), "configs/experiments/") {
			t.Errorf("seed %d: no added or deleted experiment configs in the history", seed)
		}
	}
}

// TestNumstatOddChanges compares with git on the changes a generated
// history lacks: renames (as delete + add), mode and type changes,
// symlinks, submodules, empty files, missing final newlines, CRLF, a file
// replaced by a folder, and a root commit.
func TestNumstatOddChanges(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("a.txt", "one\ntwo\nthree\n")
	r.write("crlf.txt", "x\r\ny\r\n")
	r.write("script.sh", "echo hi\n")
	r.write("thing", "a file\n")
	r.commit(jane, "Root commit")

	r.git("mv", "a.txt", "b.txt")
	r.write("empty.txt", "")
	r.write("nonl.txt", "no newline")
	r.commit(jane, "Rename and add")

	r.git("update-index", "--chmod=+x", "script.sh")
	r.write("nonl.txt", "no newline\n")
	r.write("crlf.txt", "x\ny\r\n")
	r.git("commit", "-q", "-m", "Mode change only") // as Test Author: not collected
	r.write("thing2", "y\n")
	r.commit(jane, "Mode change and fixes")

	if err := os.Symlink("b.txt", filepath.Join(r.dir, "link")); err != nil {
		t.Fatal(err)
	}
	r.git("add", "link")
	r.git("update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("1", 40)+",vendor/sub")
	r.commitIndex(jane, "Symlink and submodule")

	r.git("update-index", "--cacheinfo", "160000,"+strings.Repeat("2", 40)+",vendor/sub")
	if err := os.Remove(filepath.Join(r.dir, "thing")); err != nil {
		t.Fatal(err)
	}
	r.write("thing/inside.txt", "now a folder\n")
	r.git("add", "thing", "thing/inside.txt")
	r.commitIndex(jane, "Submodule bump, file becomes folder")

	if err := os.Remove(filepath.Join(r.dir, "link")); err != nil {
		t.Fatal(err)
	}
	r.write("link", "now a regular file\n")
	r.git("add", "link")
	r.commitIndex(jane, "Symlink becomes file")

	want := gitNumstat(t, r.dir, janeE)
	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	s, _, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := s.byNative()
	if len(got) != len(want) || len(want) != 6 {
		t.Fatalf("collector %d commits, git %d, want 6", len(got), len(want))
	}
	for sha, wfiles := range want {
		gfiles := filesOf(t, got[sha])
		if len(gfiles) != len(wfiles) {
			t.Errorf("%s (%s): files %v, git %v", sha[:8], got[sha].Title, gfiles, wfiles)
			continue
		}
		for p, w := range wfiles {
			if g, ok := gfiles[p]; !ok || g != w {
				t.Errorf("%s (%s): %s = %v, git %v", sha[:8], got[sha].Title, p, g, w)
			}
		}
	}
}

package gitlog_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// TestCoAuthoredBy: a colleague's commit with the apprentice in a
// Co-authored-by trailer (any spelling of the key, an address .mailmap maps)
// counts as theirs and is marked co_authored; a trailer naming someone
// else does not make a commit the apprentice's.
func TestCoAuthoredBy(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write(".mailmap", "Jane Doe <jane@corp.example> <jane@old.example>\n")
	r.write("a.py", "1\n")
	r.commit(sam, "Start")
	r.write("a.py", "2\n")
	pair := r.commit(sam, "Pair on the scorer\n\nCo-authored-by: Jane Doe <jane@corp.example>")
	r.write("a.py", "3\n")
	mapped := r.commit(sam, "Pair again\n\nCO-AUTHORED-BY: J. Doe <jane@old.example>")
	r.write("a.py", "4\n")
	other := r.commit(sam, "Pair with Alex\n\nCo-authored-by: Alex Kim <alex@corp.example>")
	r.write("a.py", "5\n")
	own := r.commit(jane, "Own work\n\nCo-Authored-By: Sam Patel <sam@corp.example>")

	s, _, err := collect(t, newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	items := s.byNative()
	if _, ok := items[other]; ok || len(items) != 3 {
		t.Fatalf("items %v; want the two co-authored commits and Jane's own", titles(s.items))
	}
	for _, sha := range []string{pair, mapped} {
		it := items[sha]
		if it.Facts["co_authored"] != true || it.Facts["author_email"] != "sam@corp.example" {
			t.Errorf("%s: co_authored %v author %v", it.Title, it.Facts["co_authored"], it.Facts["author_email"])
		}
	}
	if ca := items[mapped].Facts["co_authors"].([]any); len(ca) != 1 || ca[0] != "Jane Doe <jane@corp.example>" {
		t.Errorf("co_authors %v, want the mapped identity", ca)
	}
	if it := items[own]; it.Facts["co_authored"] != nil || len(it.Facts["co_authors"].([]any)) != 1 {
		t.Errorf("own commit: co_authored %v co_authors %v", it.Facts["co_authored"], it.Facts["co_authors"])
	}
}

// TestMailmapFile: a .mailmap kept outside the repository (mailmap_file)
// maps an old address to the apprentice, after the repository's own; a
// change to it is seen by the next run even when the repository did not
// move.
func TestMailmapFile(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("a.py", "1\n")
	r.commit(jane, "Own")
	r.write("a.py", "2\n")
	old := r.commit("Jane D <jd@previous-employer.example>", "From before")
	mm := filepath.Join(t.TempDir(), "people.mailmap")
	if err := os.WriteFile(mm, []byte("# nobody yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}, MailmapFile: mm})
	s, cur, err := collect(t, c, nil)
	if err != nil || len(s.items) != 1 {
		t.Fatalf("err %v, %d items", err, len(s.items))
	}
	if err := os.WriteFile(mm, []byte("Jane Doe <jane@corp.example> <jd@previous-employer.example>"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, err = collect(t, c, cur)
	if err != nil {
		t.Fatal(err)
	}
	it, ok := s.byNative()[old]
	if !ok || it.Facts["author_email"] != janeE || it.Facts["author_mapped"] != true {
		t.Fatalf("after mailmap_file changed: items %v; want the old-address commit, mapped", titles(s.items))
	}
}

// TestGitattributesBinary: files that .gitattributes marks binary or -diff
// count 0/0 and binary, as git log --numstat shows them.
func TestGitattributesBinary(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write(".gitattributes", "*.csv binary\ndata/** -diff\ndata/keep.txt diff\n# comment\n")
	r.write("a.csv", "x,y\n1,2\n")
	r.write("data/raw.txt", "one\n")
	r.write("data/keep.txt", "one\n")
	r.write("src/a.py", "x = 1\n")
	sha := r.commit(jane, "Add data")
	s, _, err := collect(t, newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := filesOf(t, s.byNative()[sha])
	want := gitNumstat(t, r.dir, janeE)[sha]
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: got %v, git %v", p, got[p], w)
		}
	}
	if got["a.csv"] != (fileCount{-1, -1}) || got["data/raw.txt"] != (fileCount{-1, -1}) || got["data/keep.txt"] != (fileCount{1, 0}) {
		t.Errorf("files %v: want a.csv and data/raw.txt binary, data/keep.txt text", got)
	}
}

// TestReleases: the annotated tags the apprentice made are release items,
// once each; a colleague's tag and a lightweight tag are not.
func TestReleases(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("a.py", "1\n")
	sha := r.commit(jane, "Ship it")
	tag := func(who, name, msg string) {
		n, e, _ := strings.Cut(strings.TrimSuffix(who, ">"), " <")
		env := []string{"GIT_COMMITTER_NAME=" + n, "GIT_COMMITTER_EMAIL=" + e, "GIT_COMMITTER_DATE=1767600000 +0000"}
		if _, err := demorepo.GitEnv(context.Background(), r.dir, env, nil, "tag", "-a", name, "-m", msg); err != nil {
			t.Fatal(err)
		}
	}
	tag(jane, "v1.0", "Release 1.0\n\nFirst model in production.")
	tag(sam, "v1.0-sam", "Sam's tag")
	r.git("tag", "light")
	c := newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}})
	s, cur, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rel []evidence.Item
	for _, it := range s.items {
		if it.Kind == evidence.KindRelease {
			rel = append(rel, it)
		}
	}
	if len(rel) != 1 || rel[0].Title != "Release 1.0" || rel[0].Facts["tag"] != "v1.0" || rel[0].Facts["target"] != sha {
		t.Fatalf("releases %+v, want v1.0 only", rel)
	}
	if s, cur, err = collect(t, c, cur); err != nil || len(s.items) != 0 {
		t.Fatalf("rerun: err %v, %d items", err, len(s.items))
	}
	tag(jane, "v1.1", "Release 1.1")
	s, _, err = collect(t, c, cur)
	if err != nil || len(s.items) != 1 || s.items[0].Facts["tag"] != "v1.1" {
		t.Fatalf("after a new tag: err %v, items %v", err, titles(s.items))
	}
}

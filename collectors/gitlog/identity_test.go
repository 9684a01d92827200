package gitlog_test

import (
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
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

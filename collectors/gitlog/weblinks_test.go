package gitlog_test

import (
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
)

// TestItemsCarryWebLinks: with origin on GitHub (its URL holding a token),
// every item carries its commit page, a merge the pull request it names,
// and no item holds the token; web_url overrides the remote.
func TestItemsCarryWebLinks(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.git("remote", "add", "origin", "https://x-access-token:ghp_SECRET123@github.com/corp/fraud-model.git")
	r.write("src/a.py", "x\n")
	first := r.commit(jane, "Start")
	r.git("checkout", "-q", "-b", "feature/drift")
	r.write("src/drift.py", "psi\n")
	r.commit(jane, "Add drift")
	r.git("checkout", "-q", "main")
	merge := r.mergeNoFF(jane, "feature/drift", "Merge pull request #42 from jane/feature/drift\n\nAdd drift detection")

	s, _, err := collect(t, newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	items := s.byNative()
	if got := items[first].Facts["web_url"]; got != "https://github.com/corp/fraud-model/commit/"+first {
		t.Errorf("commit web_url %v", got)
	}
	m := items[merge]
	if m.Facts["pull_request_url"] != "https://github.com/corp/fraud-model/pull/42" || m.Facts["pull_request"] != float64(42) {
		t.Errorf("merge: pull_request %v, url %v", m.Facts["pull_request"], m.Facts["pull_request_url"])
	}
	if _, ok := items[first].Facts["pull_request_url"]; ok {
		t.Errorf("a plain commit got a pull request link")
	}
	for _, it := range s.items {
		for k, v := range it.Facts {
			if s, ok := v.(string); ok && strings.Contains(s, "SECRET") {
				t.Errorf("item %s fact %s holds the remote's token: %s", it.Origin.NativeID, k, s)
			}
		}
		if strings.Contains(it.Origin.URI, "SECRET") {
			t.Errorf("origin holds the token")
		}
	}

	s, _, err = collect(t, newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE},
		WebURL: "https://git.corp.example/ml/fraud", WebKind: "gitlab"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.byNative()[merge].Facts["pull_request_url"]; got != "https://git.corp.example/ml/fraud/-/merge_requests/42" {
		t.Errorf("web_url: request %v", got)
	}
}

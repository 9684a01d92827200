package gitlog_test

import (
	"fmt"
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

// TestMergePieceOfWork: a merge of a branch where Jane and Sam both
// committed is one piece of work: Jane's commits and only her files (with
// their classes); Sam's Dockerfile is not hers.
func TestMergePieceOfWork(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("src/a.py", "x\n")
	r.commit(jane, "Start")
	r.git("checkout", "-q", "-b", "feature/monitoring")
	r.write("monitoring/prometheus.yml", "scrape_configs:\n  - job_name: model\n")
	mine1 := r.commit(jane, "Scrape the model server")
	r.write("Dockerfile", "FROM python:3.12-slim\n")
	r.commit(sam, "Containerise")
	r.write("monitoring/prometheus.yml", "scrape_configs:\n  - job_name: model\n    scrape_interval: 15s\n")
	mine2 := r.commit(jane, "Scrape every 15 s")
	r.git("checkout", "-q", "main")
	merge := r.mergeNoFF(jane, "feature/monitoring", "Merge pull request #7 from jane/feature/monitoring")

	s, _, err := collect(t, newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	it := s.byNative()[merge]
	work, _ := it.Facts["work"].(map[string]any)
	if work == nil || work["branch"] != "feature/monitoring" || work["commits_by_others"] != float64(1) ||
		!sameSet([]string{work["commits"].([]any)[0].(string), work["commits"].([]any)[1].(string)}, []string{mine1, mine2}) {
		t.Fatalf("work %v", work)
	}
	files := filesOf(t, it)
	if len(files) != 1 || files["monitoring/prometheus.yml"] != (fileCount{3, 0}) {
		t.Errorf("merge files %v, want Jane's prometheus.yml only (+2 then +1)", files)
	}
	if fmt.Sprint(it.Facts["classes"]) != "[monitoring]" {
		t.Errorf("classes %v, want [monitoring] (Sam's Dockerfile is not Jane's)", it.Facts["classes"])
	}
	if len(mergeDiffFiles(t, it)) != 2 {
		t.Errorf("merge_diff %v, want both files", mergeDiffFiles(t, it))
	}
}

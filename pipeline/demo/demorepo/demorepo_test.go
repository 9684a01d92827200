package demorepo_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := demorepo.Git(context.Background(), dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func count(t *testing.T, dir string, args ...string) int {
	t.Helper()
	n, err := strconv.Atoi(git(t, dir, append([]string{"rev-list", "--count"}, args...)...))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBuildSummaryMatchesRepository(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "repo")
	opts := demorepo.Options{Commits: 500, Seed: 11, Branches: 5, TrailerEvery: 3, Mailmap: true}
	s, err := demorepo.Build(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Commits != 500 || count(t, dir, "--all") != 500 {
		t.Errorf("summary says %d commits, repository has %d; want 500", s.Commits, count(t, dir, "--all"))
	}
	if got := count(t, dir, "--all", "--merges"); got != s.Merges || s.Merges != 4 {
		t.Errorf("merges: summary %d, repository %d; want 4 (5 branches, the last left open)", s.Merges, got)
	}
	if s.Head != git(t, dir, "rev-parse", "refs/heads/main") || s.Branch != "main" {
		t.Errorf("head %s branch %s", s.Head, s.Branch)
	}
	if got := len(strings.Fields(git(t, dir, "branch", "--format=%(refname)"))); got != 6 {
		t.Errorf("%d branches, want main and 5 feature branches", got)
	}
	// ByEmail as written in the commits.
	total := 0
	for email, n := range s.ByEmail {
		got := 0
		for _, e := range strings.Fields(git(t, dir, "log", "--all", "--format=%ae")) {
			if e == email {
				got++
			}
		}
		if got != n {
			t.Errorf("%s: summary %d, repository %d", email, n, got)
		}
		total += n
	}
	if total != s.Commits {
		t.Errorf("ByEmail sums to %d, want %d", total, s.Commits)
	}
	// The apprentice, old address and mixed case included, via .mailmap.
	mapped := 0
	for _, e := range strings.Fields(git(t, dir, "log", "--all", "--use-mailmap", "--format=%aE")) {
		if strings.EqualFold(e, "jane@corp.example") {
			mapped++
		}
	}
	if mapped != s.Apprentice || s.ByEmail[demorepo.OldEmail("jane@corp.example")] == 0 || s.ByEmail[demorepo.MixedCase("jane@corp.example")] == 0 {
		t.Errorf("apprentice: summary %d, mailmapped %d; old address %d, mixed case %d", s.Apprentice, mapped,
			s.ByEmail[demorepo.OldEmail("jane@corp.example")], s.ByEmail[demorepo.MixedCase("jane@corp.example")])
	}
	if got := len(strings.Fields(git(t, dir, "log", "--all", "-i", "--grep=^ksbs\\?: ", "--format=%H"))); got != s.Trailers || got == 0 {
		t.Errorf("trailers: summary %d, repository %d", s.Trailers, got)
	}
	// The worktree is checked out and looks like an ML project.
	for _, p := range []string{"src/train.py", "tests/test_model.py", "monitoring/alerts.yaml", "Dockerfile",
		".github/workflows/ci.yml", "notebooks/eda.ipynb", "deploy/k8s/deployment.yaml", "docs/model_card.md", ".mailmap"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("worktree: %v", err)
		}
	}
	if st := git(t, dir, "status", "--porcelain"); st != "" {
		t.Errorf("worktree not clean:\n%s", st)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()
	opts := demorepo.Options{Commits: 150, Seed: 4, Branches: 2, TrailerEvery: 2, Mailmap: true,
		Start: time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC), Span: 90 * 24 * time.Hour}
	var heads []string
	for _, seed := range []int64{4, 4, 5} {
		opts.Seed = seed
		s, err := demorepo.Build(context.Background(), filepath.Join(t.TempDir(), "r"), opts)
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, s.Head)
	}
	if heads[0] != heads[1] {
		t.Errorf("same options, different heads: %v", heads)
	}
	if heads[0] == heads[2] {
		t.Errorf("different seeds, same head: %v", heads)
	}
}

func TestBuildTimesWithinSpan(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "r")
	start := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	if _, err := demorepo.Build(context.Background(), dir, demorepo.Options{Commits: 50, Start: start, Span: 10 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(git(t, dir, "log", "--all", "--format=%ct")) {
		sec, _ := strconv.ParseInt(f, 10, 64)
		if ct := time.Unix(sec, 0); ct.Before(start.Add(-time.Hour)) || ct.After(start.Add(10*24*time.Hour)) {
			t.Errorf("commit time %v outside the span", ct)
		}
	}
}

func TestBuildRejectsBadOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts demorepo.Options
		want string
	}{
		{"no commits", demorepo.Options{}, "commits 0"},
		{"negative branches", demorepo.Options{Commits: 3, Branches: -1}, "branches -1"},
		{"bad author", demorepo.Options{Commits: 3, Authors: []demorepo.Author{{Name: "X", Email: "x<y"}}}, "authors[0]"},
	}
	for _, tc := range cases {
		_, err := demorepo.Build(context.Background(), filepath.Join(t.TempDir(), "r"), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	dir := filepath.Join(t.TempDir(), "r")
	if _, err := demorepo.Build(context.Background(), dir, demorepo.Options{Commits: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := demorepo.Build(context.Background(), dir, demorepo.Options{Commits: 2}); err == nil {
		t.Error("Build over an existing repository succeeded")
	}
}

func TestBuildCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := demorepo.Build(ctx, filepath.Join(t.TempDir(), "r"), demorepo.Options{Commits: 10}); err == nil {
		t.Error("Build with a cancelled context succeeded")
	}
}

func TestEnvShutsOutUserConfig(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\temail = leaked@example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("GIT_DIR", "/nonexistent")
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	if out, _ := demorepo.Git(context.Background(), dir, "config", "user.email"); strings.Contains(out, "leaked") {
		t.Errorf("user's ~/.gitconfig leaked in: %q", out)
	}
}

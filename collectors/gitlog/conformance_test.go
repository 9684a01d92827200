package gitlog_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// TestConformance runs the collector conformance suite on a generated
// history with merges, an open branch, a .mailmap and KSB trailers.
func TestConformance(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	sum, err := demorepo.Build(context.Background(), dir, demorepo.Options{
		Commits: 120, Branches: 3, TrailerEvery: 4, Mailmap: true, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	apprentice := demorepo.DefaultAuthors()[0]
	collectortest.Check(t, collectortest.Fixture{
		New: func(t testing.TB) collectors.Collector {
			c, err := gitlog.New(gitlog.Config{Name: "model-repo", Path: dir, Emails: []string{apprentice.Email}, Apprentice: "jdoe"},
				slog.New(slog.DiscardHandler), func() time.Time { return fixedNow })
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Dirs: []string{dir},
		Grow: func(t testing.TB) {
			// A new commit by the apprentice, on main.
			env := []string{"GIT_AUTHOR_NAME=" + apprentice.Name, "GIT_AUTHOR_EMAIL=" + apprentice.Email,
				"GIT_COMMITTER_NAME=" + apprentice.Name, "GIT_COMMITTER_EMAIL=" + apprentice.Email,
				"GIT_AUTHOR_DATE=1798761600 +0000", "GIT_COMMITTER_DATE=1798761600 +0000"}
			if _, err := demorepo.GitEnv(context.Background(), dir, env, nil,
				"commit", "-q", "--allow-empty", "--no-verify", "-m", "Write down what grew\n\nKSB: B5"); err != nil {
				t.Fatal(err)
			}
		},
		MinItems: sum.Apprentice,
		Declared: true,
	})
}

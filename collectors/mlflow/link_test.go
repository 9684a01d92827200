package mlflow_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// TestRunAndCommitLinkBothWays collects a real git repository and a file
// store whose run records one of its commits: the run links to the
// commit's item (trained_from), and the commit item's backlinks show the
// run (produced); a model version links to its run and back.
func TestRunAndCommitLinkBothWays(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if _, err := demorepo.Build(context.Background(), repo, demorepo.Options{Commits: 4, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	g, err := gitlog.New(gitlog.Config{Name: "repo", Path: repo, Emails: []string{demorepo.DefaultAuthors()[0].Email}, Apprentice: "jdoe"},
		slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	gs := &collectortest.Sink{}
	if _, err := g.Collect(context.Background(), nil, gs); err != nil {
		t.Fatal(err)
	}
	if len(gs.Items()) == 0 {
		t.Fatal("no commits collected")
	}
	commit := gs.Items()[0]
	head := commit.Origin.NativeID

	root := filepath.Join(dir, "mlruns")
	writeSpecFileStore(t, root, nil)
	writeRun(t, root, tRun{Exp: "1", ID: runID(3), Start: t0, Tags: map[string]string{"mlflow.source.git.commit": head}})
	ms, err := collectAll(t, newFile(t, root, nil))
	if err != nil {
		t.Fatal(err)
	}
	var run, version evidence.Item
	for _, it := range ms.Items() {
		switch it.Kind {
		case evidence.KindTrainingRun:
			run = it
		case evidence.KindModelVersion:
			version = it
		}
	}
	if !slicesContains(run.Links, evidence.Link{Rel: trainrun.RelTrainedFrom, Item: commit.ID}) {
		t.Fatalf("run links %v, want trained_from %s (the git item of %s)", run.Links, commit.ID, head)
	}
	back := trainrun.Backlinks(append(gs.Items(), ms.Items()...))
	if !slicesContains(back[commit.ID], evidence.Link{Rel: trainrun.RelProduced, Item: run.ID}) {
		t.Errorf("commit backlinks %v, want produced %s", back[commit.ID], run.ID)
	}
	if !slicesContains(version.Links, evidence.Link{Rel: "from_run", Item: run.ID}) ||
		!slicesContains(back[run.ID], evidence.Link{Rel: "linked_from:from_run", Item: version.ID}) {
		t.Errorf("version links %v, run backlinks %v", version.Links, back[run.ID])
	}
}

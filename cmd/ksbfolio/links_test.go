package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// The churn-pipeline corpus: the MLflow run a deployment names that the
// store does not hold, and a run that deployments name that we point at a
// commit of the test's repository.
const (
	churnMissingRun = "5183fedfa78c48cbb36e6fee2581613a"
	churnRun        = "7fd6ebbc25ba485ba1086b06b2552e0e"
	churnExperiment = "520670040252671663"
)

// TestRunLinksAcrossSources: one `ksbfolio run` of a git repository, the
// churn-pipeline MLflow file store (one run's mlflow.source.git.commit
// rewritten to a commit of the repository) and the churn-pipeline logs
// (plus a line naming that commit abbreviated): deployments link to the
// runs they name; the run no source has is reported, not linked; the run
// links to its commit, and `show` of the commit lists the run and the
// deployment that names it as backlinks.
func TestRunLinksAcrossSources(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 8, "")
	repo := filepath.Join(dir, "model-repo")
	sha, err := demorepo.Git(context.Background(), repo, "log", "-1", "--format=%H", "--author="+demorepo.DefaultAuthors()[0].Email)
	if err != nil {
		t.Fatal(err)
	}
	sha = strings.TrimSpace(sha)
	mlruns := filepath.Join(dir, "mlruns")
	collectortest.CopyDir(t, corpustest.Dir(t, filepath.Join("churn-pipeline", "mlruns")), mlruns)
	writeFile(t, filepath.Join(mlruns, churnExperiment, churnRun, "tags", "mlflow.source.git.commit"), sha)
	logs := filepath.Join(dir, "logs")
	collectortest.CopyDir(t, corpustest.Dir(t, filepath.Join("churn-pipeline", "logs")), logs)
	writeFile(t, filepath.Join(logs, "release.log"),
		"2025-08-21 09:00:00,000 INFO Deployment completed for commit "+sha[:8]+"\n")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The logs source comes first: links do not depend on source order.
	cfgText := strings.Replace(string(b), "sources:\n", `sources:
  - {name: churn-logs, type: logs, paths: [./logs]}
  - {name: churn-mlflow, type: mlflow, uri: "file:./mlruns"}
`, 1)
	writeFile(t, cfg, cfgText)

	r := cli(t, "-c", cfg, "run", "--json")
	mustCode(t, r, exitOK)
	var rep pipeline.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("run --json: %v\n%s", err, r.stdout)
	}
	items := itemsJSON(t, cfg)
	byID := map[string]evidence.Item{}
	for _, it := range items {
		byID[it.ID] = it
	}
	runItem := evidence.NewID("mlflow", churnRun)
	commitItem := evidence.NewID("git", sha)
	if _, ok := byID[commitItem]; !ok {
		t.Fatalf("no git item %s for commit %s", commitItem, sha)
	}

	// Every deployment and pipeline run naming an MLflow run links to it
	// exactly when the run is stored.
	linked, missing := 0, 0
	for _, it := range items {
		id, _ := it.Facts["mlflow_run_id"].(string)
		if it.SourceType != "logs" || id == "" {
			continue
		}
		rel := pipeline.RelMentionsRun
		if it.Kind == evidence.KindDeployment {
			rel = pipeline.RelDeploysRun
		}
		want := evidence.Link{Rel: rel, Item: evidence.NewID("mlflow", id)}
		_, stored := byID[want.Item]
		switch has := slices.Contains(it.Links, want); {
		case stored && !has:
			t.Errorf("%s %s names run %s but links %v", it.Kind, it.ID, id, it.Links)
		case !stored && len(it.Links) > 0:
			t.Errorf("%s %s names run %s, not stored, yet links %v", it.Kind, it.ID, id, it.Links)
		case stored:
			linked++
		default:
			missing++
			if id != churnMissingRun {
				t.Errorf("%s %s names run %s, which the corpus has, but it is not stored", it.Kind, it.ID, id)
			}
		}
	}
	if linked < 10 || missing != 1 {
		t.Errorf("%d items linked to their run, %d name a missing run; want at least 10 and 1", linked, missing)
	}
	if rep.Links == nil || !slices.ContainsFunc(rep.Links.Unresolved, func(u pipeline.Unresolved) bool {
		return u.Value == churnMissingRun && u.Ref == pipeline.RefMLflowRun && u.Reason == "not in the ledger"
	}) {
		t.Errorf("run report links %+v: the missing run %s is not reported", rep.Links, churnMissingRun)
	}
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, churnMissingRun) }) {
		t.Errorf("run warnings %q do not name the missing run", rep.Warnings)
	}

	// The run links to its commit; other runs' commits are not in the
	// ledger, so they link nothing (and are reported).
	if !slices.Contains(byID[runItem].Links, evidence.Link{Rel: pipeline.RelTrainedFrom, Item: commitItem}) {
		t.Errorf("run %s links %v, want trained_from %s", runItem, byID[runItem].Links, commitItem)
	}
	for _, it := range items {
		for _, l := range it.Links {
			if _, ok := byID[l.Item]; !ok {
				t.Errorf("%s links %s %s, which is not in the ledger", it.ID, l.Rel, l.Item)
			}
		}
	}
	var release evidence.Item
	for _, it := range items {
		if c, _ := it.Facts["commit"].(string); c == sha[:8] {
			release = it
		}
	}
	if !slices.Contains(release.Links, evidence.Link{Rel: pipeline.RelMentionsCommit, Item: commitItem}) {
		t.Errorf("the item naming commit %s links %v (facts %v)", sha[:8], release.Links, release.Facts)
	}

	// show of the commit (by its short SHA) lists both as backlinks.
	r = cli(t, "-c", cfg, "show", sha[:10], "--json")
	mustCode(t, r, exitOK)
	var shown struct {
		ID        string          `json:"id"`
		Backlinks []evidence.Link `json:"backlinks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
		t.Fatalf("show --json: %v\n%s", err, r.stdout)
	}
	for _, want := range []evidence.Link{{Rel: "produced", Item: runItem}, {Rel: pipeline.RelMentionedBy, Item: release.ID}} {
		if !slices.Contains(shown.Backlinks, want) {
			t.Errorf("show %s: backlinks %v, want %v", shown.ID, shown.Backlinks, want)
		}
	}
	r = cli(t, "-c", cfg, "show", commitItem)
	mustCode(t, r, exitOK)
	_, back, _ := strings.Cut(r.stdout, "\nlinked from:\n")
	if !strings.Contains(back, "produced") || !strings.Contains(back, runItem) || !strings.Contains(back, "training_run") {
		t.Errorf("show %s does not list the run as a backlink:\n%s", commitItem, r.stdout)
	}
	r = cli(t, "-c", cfg, "show", runItem)
	mustCode(t, r, exitOK)
	out, back, _ := strings.Cut(r.stdout, "\nlinked from:\n")
	if !strings.Contains(out, fmt.Sprintf("trained_from     %s  %s", commitItem, byID[commitItem].Kind)) || !strings.Contains(back, "deployed_by") {
		t.Errorf("show %s: want its commit under links and a deployment under linked from:\n%s", runItem, r.stdout)
	}

	// A second run finds nothing new: the link step does not run, and
	// every link stays as it was.
	r = cli(t, "-c", cfg, "run", "--json")
	mustCode(t, r, exitOK)
	var again pipeline.Report
	if err := json.Unmarshal([]byte(r.stdout), &again); err != nil {
		t.Fatal(err)
	}
	if again.Links != nil {
		t.Errorf("second run, nothing stored: links %+v, want no link step", again.Links)
	}
	for _, it := range itemsJSON(t, cfg) {
		if !slices.Equal(it.Links, byID[it.ID].Links) {
			t.Errorf("after a second run %s links %v, before %v", it.ID, it.Links, byID[it.ID].Links)
		}
	}
}

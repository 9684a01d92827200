package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

const (
	shaA    = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	shaB    = "a1b2c3d4ffff0718293a4b5c6d7e8f9012345678" // shares 8 hex digits with shaA
	shaC    = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
	runOK   = "5183fedfa78c48cbb36e6fee2581613a"
	runGone = "b682dba240844ed68344d97d245b4459"
)

var at = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func gitItem(sha string) evidence.Item {
	return evidence.Item{ID: evidence.NewID("git", sha), SourceType: "git", Kind: evidence.KindCommit, Title: "commit " + sha[:7],
		OccurredAt: at, Origin: evidence.Origin{NativeID: sha}, Facts: map[string]any{}}
}

func runItem(source, id string, facts map[string]any, links ...evidence.Link) evidence.Item {
	if facts == nil {
		facts = map[string]any{}
	}
	facts["run_id"] = id
	return evidence.Item{ID: evidence.NewID(source, id), SourceType: source, Kind: evidence.KindTrainingRun, Title: "run " + id[:6],
		OccurredAt: at, Origin: evidence.Origin{NativeID: id}, Facts: facts, Links: links}
}

func eventItem(kind evidence.Kind, native string, facts map[string]any) evidence.Item {
	return evidence.Item{ID: evidence.NewID("logs", native), SourceType: "logs", Kind: kind, Title: native,
		OccurredAt: at, Origin: evidence.Origin{NativeID: native}, Facts: facts}
}

func TestResolveLinks(t *testing.T) {
	ida, idc := evidence.NewID("git", shaA), evidence.NewID("git", shaC)
	run := evidence.NewID("mlflow", runOK)
	cases := []struct {
		name  string
		item  evidence.Item
		links []evidence.Link
		unres []string // "fact value reason-prefix"
	}{
		{"deployment names a stored run", eventItem(evidence.KindDeployment, "d1", map[string]any{"mlflow_run_id": runOK}),
			[]evidence.Link{{Rel: pipeline.RelDeploysRun, Item: run}}, nil},
		{"upper case run ID", eventItem(evidence.KindRollback, "d2", map[string]any{"mlflow_run_id": strings.ToUpper(runOK)}),
			[]evidence.Link{{Rel: pipeline.RelDeploysRun, Item: run}}, nil},
		{"deployment names a run not stored", eventItem(evidence.KindDeployment, "d3", map[string]any{"mlflow_run_id": runGone}),
			nil, []string{"mlflow_run_id " + runGone + " not in the ledger"}},
		{"pipeline run names runs", eventItem(evidence.KindPipelineRun, "p1", map[string]any{"mlflow_run_id": runOK, "mlflow_run_ids": []any{runOK, runGone}}),
			[]evidence.Link{{Rel: pipeline.RelMentionsRun, Item: run}}, []string{"mlflow_run_ids " + runGone + " not in the ledger"}},
		{"full commit", eventItem(evidence.KindCIJob, "c1", map[string]any{"commit": shaC}),
			[]evidence.Link{{Rel: pipeline.RelMentionsCommit, Item: idc}}, nil},
		{"abbreviated commit", eventItem(evidence.KindDeployment, "c2", map[string]any{"commit": "c0ffee0"}),
			[]evidence.Link{{Rel: pipeline.RelMentionsCommit, Item: idc}}, nil},
		{"abbreviation of two commits", eventItem(evidence.KindDeployment, "c3", map[string]any{"commit": "a1b2c3d4"}),
			nil, []string{"commit a1b2c3d4 ambiguous"}},
		{"longer abbreviation is unique", eventItem(evidence.KindDeployment, "c4", map[string]any{"commit": "a1b2c3d4e5"}),
			[]evidence.Link{{Rel: pipeline.RelMentionsCommit, Item: ida}}, nil},
		{"too short to be a SHA", eventItem(evidence.KindDeployment, "c5", map[string]any{"commit": "a1b2c3"}),
			nil, []string{"commit a1b2c3 not a commit SHA"}},
		{"commit not stored", eventItem(evidence.KindDeployment, "c6", map[string]any{"commit": "deadbeefdead"}),
			nil, []string{"commit deadbeefdead not in the ledger"}},
		{"run with abbreviated git_commit", runItem("wandb", "abc12345", map[string]any{"git_commit": "c0ffee00c0"}),
			[]evidence.Link{{Rel: pipeline.RelTrainedFrom, Item: idc}}, nil},
		{"run whose commit no git source has", runItem("mlflow", "0123456789abcdef0123456789abcdef", map[string]any{"git_commit": "9999999999999999999999999999999999999999"}),
			nil, []string{"git_commit 9999999999999999999999999999999999999999 not in the ledger"}},
		{"no references", eventItem(evidence.KindIncident, "i1", map[string]any{"count": 3}), nil, nil},
	}
	items := []evidence.Item{gitItem(shaA), gitItem(shaB), gitItem(shaC), runItem("mlflow", runOK, map[string]any{"mlflow_run_id": runOK}), // names itself: no link
		// A run of another source with the same native ID is not an MLflow run.
		runItem("tensorboard", runGone, nil)}
	for _, c := range cases {
		items = append(items, c.item)
	}
	got, unres := pipeline.ResolveLinks(items)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !slices.Equal(got[c.item.ID], c.links) {
				t.Errorf("links %v, want %v", got[c.item.ID], c.links)
			}
			var mine []string
			for _, u := range unres {
				if u.Item == c.item.ID {
					mine = append(mine, u.Fact+" "+u.Value+" "+u.Reason)
				}
			}
			if len(mine) != len(c.unres) {
				t.Fatalf("unresolved %q, want %q", mine, c.unres)
			}
			for i := range mine {
				if !strings.HasPrefix(mine[i], c.unres[i]) {
					t.Errorf("unresolved %q, want %q…", mine[i], c.unres[i])
				}
			}
		})
	}
	if l := got[run]; len(l) != 0 {
		t.Errorf("the run itself links %v", l)
	}
}

func TestBacklinks(t *testing.T) {
	commit := gitItem(shaC)
	run := runItem("mlflow", runOK, nil, evidence.Link{Rel: "trained_from", Item: commit.ID})
	dep := eventItem(evidence.KindDeployment, "d1", nil)
	dep.Links = []evidence.Link{{Rel: pipeline.RelDeploysRun, Item: run.ID}, {Rel: pipeline.RelMentionsCommit, Item: commit.ID}}
	endpoint := eventItem(evidence.KindDeployment, "endpoint", nil) // as a SageMaker endpoint links its job
	endpoint.Links = []evidence.Link{{Rel: "deploys", Item: run.ID}}
	back := pipeline.Backlinks([]evidence.Item{commit, run, dep, endpoint})
	wantCommit := []evidence.Link{{Rel: "produced", Item: run.ID}, {Rel: pipeline.RelMentionedBy, Item: dep.ID}}
	slices.SortFunc(wantCommit, func(a, b evidence.Link) int { return strings.Compare(a.Item, b.Item) })
	if !slices.Equal(back[commit.ID], wantCommit) {
		t.Errorf("commit backlinks %v, want %v", back[commit.ID], wantCommit)
	}
	want := []evidence.Link{{Rel: pipeline.RelDeployedBy, Item: dep.ID}, {Rel: pipeline.RelDeployedBy, Item: endpoint.ID}}
	slices.SortFunc(want, func(a, b evidence.Link) int { return strings.Compare(a.Item, b.Item) })
	if !slices.Equal(back[run.ID], want) {
		t.Errorf("run backlinks %v, want %v", back[run.ID], want)
	}
}

// TestRunnerLinksAcrossSources runs a logs-like source before the
// MLflow-like source its deployment names: the link is made at the end of
// the run, whatever the order; the run ID no source has is reported and
// not linked; collecting again links again; a run that stores nothing
// skips the step; and once the run's item is gone, run --full removes the
// link and reports the reference.
func TestRunnerLinksAcrossSources(t *testing.T) {
	dep := eventItem(evidence.KindDeployment, "deploy-1", map[string]any{"mlflow_run_id": runOK})
	miss := eventItem(evidence.KindDeployment, "deploy-2", map[string]any{"mlflow_run_id": runGone})
	run := runItem("mlflow", runOK, nil)
	logs := &scripted{items: []collectors.Emission{{Item: dep}, {Item: miss}}}
	ml := &scripted{items: []collectors.Emission{{Item: run}}}
	r, root := newRunner(t, pipeline.Source{Name: "logs", Type: "logs", Collector: logs}, pipeline.Source{Name: "ml", Type: "mlflow", Collector: ml})
	ctx := context.Background()

	rep, err := r.Run(ctx, pipeline.Options{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != pipeline.OutcomeOK {
		t.Errorf("outcome %s, want ok (an unresolved reference is a warning)", rep.Outcome)
	}
	if rep.Links == nil || rep.Links.Updated != 1 || rep.Links.Links != 1 || rep.Links.UnresolvedTotal != 1 ||
		len(rep.Links.Unresolved) != 1 || rep.Links.Unresolved[0].Value != runGone || rep.Links.Unresolved[0].Item != miss.ID {
		t.Fatalf("links summary %+v", rep.Links)
	}
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, runGone) }) {
		t.Errorf("warnings %q do not name the unresolved run %s", rep.Warnings, runGone)
	}
	stored := func(id string) evidence.Item {
		t.Helper()
		it, err := r.Ledger.GetItem(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return *it
	}
	if got, want := stored(dep.ID).Links, []evidence.Link{{Rel: pipeline.RelDeploysRun, Item: run.ID}}; !slices.Equal(got, want) {
		t.Errorf("deployment links %v, want %v", got, want)
	}
	if got := stored(miss.ID).Links; len(got) != 0 {
		t.Errorf("deployment naming a missing run links %v", got)
	}

	// The sources collect again (run --full): the deployment is stored as
	// its source made it, and the link step links it again.
	if _, err = r.Run(ctx, pipeline.Options{Command: "run", Full: true}); err != nil {
		t.Fatal(err)
	}
	if got := stored(dep.ID).Links; len(got) != 1 {
		t.Errorf("after collecting again, deployment links %v", got)
	}
	// Nothing collected: the step does not run.
	r.Sources = nil
	rep, err = r.Run(ctx, pipeline.Options{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Links != nil {
		t.Errorf("run that stored nothing: links summary %+v, want none", rep.Links)
	}
	// run --full with nothing to collect links again: nothing changes.
	rep, err = r.Run(ctx, pipeline.Options{Command: "run", Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Links == nil || rep.Links.Updated != 0 || rep.Links.Links != 1 {
		t.Errorf("run --full with nothing new: links summary %+v, want nothing updated", rep.Links)
	}

	// The run's item goes (as fsck --repair quarantines one): its link goes too.
	if err := os.Remove(filepath.Join(root, "apprentices", "jane", "items", run.ID+".json")); err != nil {
		t.Fatal(err)
	}
	// Nothing collected: the link step alone removes the link.
	rep, err = r.Run(ctx, pipeline.Options{Command: "run", Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Links.Updated != 1 || rep.Links.UnresolvedTotal != 2 {
		t.Errorf("after the run's item went: links summary %+v, want 1 updated, 2 unresolved", rep.Links)
	}
	if got := stored(dep.ID).Links; len(got) != 0 {
		t.Errorf("deployment still links %v to a run no longer stored", got)
	}
}

package trainrun_test

import (
	"reflect"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
)

func TestBacklinks(t *testing.T) {
	commit, parent := evidence.NewID("git", "c"), evidence.NewID("mlflow", "p")
	a, b := evidence.NewID("mlflow", "a"), evidence.NewID("mlflow", "b")
	if a > b {
		a, b = b, a // lists are sorted by item ID
	}
	items := []evidence.Item{
		{ID: b, Links: []evidence.Link{{Rel: trainrun.RelTrainedFrom, Item: commit}, {Rel: trainrun.RelChildOf, Item: parent}}},
		{ID: a, Links: []evidence.Link{{Rel: trainrun.RelTrainedFrom, Item: commit}, {Rel: "deployed", Item: parent}}},
		{ID: commit},
	}
	got := trainrun.Backlinks(items)
	want := map[string][]evidence.Link{
		commit: {{Rel: "produced", Item: a}, {Rel: "produced", Item: b}},
		parent: {{Rel: "linked_from:deployed", Item: a}, {Rel: "parent_of", Item: b}},
	}
	if got := trainrun.Inverse("from_run"); got != "linked_from:from_run" {
		t.Errorf("Inverse(from_run) = %q", got)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Backlinks = %v, want %v", got, want)
	}
}

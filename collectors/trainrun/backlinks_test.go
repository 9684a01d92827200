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
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Backlinks = %v, want %v", got, want)
	}
}

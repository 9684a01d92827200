package trainrun

import (
	"sort"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// Inverse relations: what the target of a link sees.
const (
	// RelProduced is the inverse of RelTrainedFrom: the commit item's
	// view of a run trained from it.
	RelProduced = "produced"
	// RelParentOf is the inverse of RelChildOf.
	RelParentOf = "parent_of"
)

var inverse = map[string]string{RelTrainedFrom: RelProduced, RelChildOf: RelParentOf}

// Inverse returns the relation a link's target sees (trained_from →
// produced, child_of → parent_of); any other rel r gives "linked_from:r".
func Inverse(rel string) string {
	if inv, ok := inverse[rel]; ok {
		return inv
	}
	return "linked_from:" + rel
}

// Backlinks gives, for every item that others link to, the links back to
// them with the inverse relation: the runs a commit produced, the children
// of a parent run, the versions registered from a run. Items carry only
// the links their own source knows; readers of the ledger (show, pack)
// use this to show both directions. Lists are sorted by item ID.
func Backlinks(items []evidence.Item) map[string][]evidence.Link {
	out := map[string][]evidence.Link{}
	for _, it := range items {
		for _, l := range it.Links {
			out[l.Item] = append(out[l.Item], evidence.Link{Rel: Inverse(l.Rel), Item: it.ID})
		}
	}
	for _, ls := range out {
		sort.Slice(ls, func(i, j int) bool {
			if ls[i].Item != ls[j].Item {
				return ls[i].Item < ls[j].Item
			}
			return ls[i].Rel < ls[j].Rel
		})
	}
	return out
}

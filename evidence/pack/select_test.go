package pack

import (
	"slices"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
)

func view(id string, tags ...string) ledger.View {
	it := evidence.Item{ID: "git-" + id, Kind: evidence.KindCommit, Title: id, OccurredAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, k := range tags {
		it.Tags = append(it.Tags, evidence.Tag{KSB: k, By: "rule:r"})
	}
	return ledger.View{Item: it, Tags: it.Tags, State: evidence.State{Accepted: map[string]evidence.Verdict{}, Rejected: map[string]evidence.Verdict{}}}
}

func chosenIDs(s Selection) []string {
	var out []string
	for _, c := range s.Items {
		out = append(out, c.View.Item.ID)
	}
	slices.Sort(out)
	return out
}

// TestSetCoverBeatsTagCount: picking the items with the most tags covers
// fewer KSBs than the set cover does.
func TestSetCoverBeatsTagCount(t *testing.T) {
	views := []ledger.View{
		view("a", "K1", "K2", "K3", "K4"),
		view("b", "K1", "K2", "K3", "K5"),
		view("c", "K6", "K7"),
	}
	covers := []string{"K1", "K2", "K3", "K4", "K5", "K6", "K7"}
	// The naive choice: the two items with the most tags.
	byTags := slices.Clone(views)
	slices.SortStableFunc(byTags, func(a, b ledger.View) int { return len(b.Item.Tags) - len(a.Item.Tags) })
	naive := map[string]bool{}
	for _, v := range byTags[:2] {
		for _, tg := range v.Item.Tags {
			naive[tg.KSB] = true
		}
	}
	sel := Select(views, covers, 2)
	if len(sel.Covered) <= len(naive) {
		t.Fatalf("set cover covers %d KSBs, tag count %d: want more", len(sel.Covered), len(naive))
	}
	if got, want := chosenIDs(sel), []string{"git-a", "git-c"}; !slices.Equal(got, want) {
		t.Errorf("chose %v, want %v", got, want)
	}
	if !slices.Equal(sel.Uncovered, []string{"K5"}) {
		t.Errorf("uncovered %v, want [K5]", sel.Uncovered)
	}
}

func TestSelectRanksAndFilters(t *testing.T) {
	confirmed := view("conf", "K1")
	confirmed.State.Accepted["K1"] = evidence.Verdict{Confirmed: true}
	claimed := view("claim", "K1")
	claimed.Item.Tags[0].By = "declared:trailer"
	suggested := view("sugg", "K1")
	excluded := view("excl", "K2", "K3")
	excluded.Excluded = true
	secret := view("secret", "K4")
	secret.Confidential = true
	approved := view("approved", "K5")
	approved.Confidential = true
	tr, fa := true, false
	approved.Review = &evidence.Review{Decisions: []evidence.Decision{
		{Role: "apprentice", Confidential: &tr},
		{Role: "employer", Accept: []string{"K5"}},
	}}
	approved.State.Checks = []evidence.Check{{Status: evidence.SigUnsigned}, {Status: evidence.SigVerified}}
	unsignedOK := view("unsigned", "K6")
	unsignedOK.Confidential = true
	unsignedOK.Review = &evidence.Review{Decisions: []evidence.Decision{{Role: "employer", Confidential: &fa}}}
	unsignedOK.State.Checks = []evidence.Check{{Status: evidence.SigUnsigned}}
	views := []ledger.View{suggested, claimed, confirmed, excluded, secret, approved, unsignedOK}
	covers := []string{"K1", "K2", "K3", "K4", "K5", "K6"}

	one := Select(views, covers, 1)
	if got := chosenIDs(one); !slices.Equal(got, []string{"git-conf"}) {
		t.Errorf("max 1 chose %v, want the confirmed item", got)
	}
	two := Select(views, covers, 2)
	if got := chosenIDs(two); !slices.Equal(got, []string{"git-approved", "git-conf"}) {
		t.Errorf("max 2 chose %v", got)
	}
	all := Select(views, covers, 0)
	if got := chosenIDs(all); !slices.Equal(got, []string{"git-approved", "git-claim", "git-conf", "git-sugg"}) {
		t.Errorf("no max chose %v", got)
	}
	if all.Excluded != 1 {
		t.Errorf("excluded %d, want 1", all.Excluded)
	}
	var withheld []string
	for _, w := range all.Withheld {
		withheld = append(withheld, w.ID)
	}
	if !slices.Equal(withheld, []string{"git-secret", "git-unsigned"}) {
		t.Errorf("withheld %v", withheld)
	}
	if !slices.Equal(all.Uncovered, []string{"K2", "K3", "K4", "K6"}) {
		t.Errorf("uncovered %v", all.Uncovered)
	}
	if all.Covered["K1"] != Confirmed {
		t.Errorf("K1 covered as %v, want confirmed", all.Covered["K1"])
	}
}

func TestSafeNames(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd": "passwd", `..\..\x.svg`: "x.svg", "..": "artefact", ".hidden": "hidden",
		"loss curve.svg": "loss_curve.svg", "": "artefact", "a/b/../c": "c",
	} {
		if got := FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
	for _, p := range []string{"../x", "/abs", "a//b", "a/./b", `a\b`, ""} {
		if safePath(p) {
			t.Errorf("safePath(%q) = true", p)
		}
	}
	if got := Slug("Fix: <script> the ../../ loss!", "git-0123456789abcdef"); got != "fix-script-the-loss" {
		t.Errorf("Slug = %q", got)
	}
}

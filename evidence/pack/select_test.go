package pack

import (
	"crypto/ed25519"
	"crypto/rand"
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
	approved.State.EmployerApproved = true // as Fold gives for these decisions and checks (TestEmployerApproval)
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

// TestEmployerApproval: a confidential item is withheld unless, after the
// latest decision that marked it confidential, the employer's verified
// decision accepts a KSB or clears the flag. Decisions are real: signed
// with ed25519 keys and checked by evidence.Fold against the configured
// reviewers.
func TestEmployerApproval(t *testing.T) {
	keys := map[string]ed25519.PrivateKey{}
	var reviewers []evidence.Reviewer
	for _, r := range []struct{ name, role string }{{"Grace", "employer"}, {"Alan", "assessor"}, {"Carol", "coach"}} {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[r.name] = priv
		reviewers = append(reviewers, evidence.Reviewer{Name: r.name, Role: r.role, Key: pub})
	}
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	verifier := evidence.NewVerifier(reviewers)
	t0 := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	tr, fa := true, false
	base := view("conf", "K1")
	hash := evidence.ContentHash(base.Item)
	// mark is the apprentice marking the item confidential at hour h.
	mark := func(h int) evidence.Decision {
		return evidence.Decision{ID: evidence.NewDecisionID(), At: t0.Add(time.Duration(h) * time.Hour), By: "ada", Role: "apprentice", Confidential: &tr}
	}
	// by is a decision at hour h by name in role, signed with key (nil:
	// unsigned).
	by := func(h int, name, role string, key ed25519.PrivateKey, edit func(*evidence.Decision)) evidence.Decision {
		d := evidence.Decision{ID: evidence.NewDecisionID(), At: t0.Add(time.Duration(h) * time.Hour), By: name, Role: role}
		edit(&d)
		if key != nil {
			d = evidence.Sign(base.Item.ID, hash, d, key)
		}
		return d
	}
	accept := func(d *evidence.Decision) { d.Accept = []string{"K1"} }
	clear := func(d *evidence.Decision) { d.Confidential = &fa }
	note := func(d *evidence.Decision) { d.Note = "looks fine" }
	for _, tc := range []struct {
		name      string
		decisions []evidence.Decision
		approved  bool
	}{
		{"marked, no approval", []evidence.Decision{mark(0)}, false},
		{"employer accepts after", []evidence.Decision{mark(0), by(1, "Grace", "employer", keys["Grace"], accept)}, true},
		{"employer clears after", []evidence.Decision{mark(0), by(1, "Grace", "employer", keys["Grace"], clear)}, true},
		{"employer only notes", []evidence.Decision{mark(0), by(1, "Grace", "employer", keys["Grace"], note)}, false},
		{"employer unsigned", []evidence.Decision{mark(0), by(1, "Grace", "employer", nil, accept)}, false},
		{"employer with another key", []evidence.Decision{mark(0), by(1, "Grace", "employer", stranger, accept)}, false},
		{"assessor accepts", []evidence.Decision{mark(0), by(1, "Alan", "assessor", keys["Alan"], accept)}, false},
		{"coach accepts", []evidence.Decision{mark(0), by(1, "Carol", "coach", keys["Carol"], accept)}, false},
		{"apprentice accepts", []evidence.Decision{mark(0), by(1, "ada", "apprentice", nil, accept)}, false},
		{"employer accepted before the marking", []evidence.Decision{by(0, "Grace", "employer", keys["Grace"], accept), mark(1)}, false},
		{"marked again after approval", []evidence.Decision{mark(0), by(1, "Grace", "employer", keys["Grace"], accept), mark(2)}, false},
		{"approved again", []evidence.Decision{mark(0), by(1, "Grace", "employer", keys["Grace"], accept), mark(2),
			by(3, "Grace", "employer", keys["Grace"], accept)}, true},
		// Stored out of time order (a workbook import of older rows): time decides.
		{"approval stored first, made later", []evidence.Decision{by(2, "Grace", "employer", keys["Grace"], accept), mark(1)}, true},
		{"approval stored last, made earlier", []evidence.Decision{mark(2), by(1, "Grace", "employer", keys["Grace"], accept)}, false},
		{"employer marks and accepts at once", []evidence.Decision{by(0, "Grace", "employer", keys["Grace"], func(d *evidence.Decision) {
			d.Accept, d.Confidential = []string{"K1"}, &tr
		})}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := base
			v.Review = &evidence.Review{Item: v.Item.ID, Decisions: tc.decisions}
			v.State = evidence.Fold(v.Review, &v.Item, verifier)
			v.Confidential = true // whatever the flag's holder: only the release is under test
			if got := v.State.EmployerApproved; got != tc.approved {
				t.Errorf("EmployerApproved = %v, want %v (checks %+v)", got, tc.approved, v.State.Checks)
			}
			sel := Select([]ledger.View{v}, []string{"K1"}, 0)
			if tc.approved != (len(sel.Items) == 1) || tc.approved == (len(sel.Withheld) == 1) {
				t.Errorf("approved %v: selected %d, withheld %d", tc.approved, len(sel.Items), len(sel.Withheld))
			}
			rel := Released(&ledger.Snapshot{Views: []ledger.View{v}})
			if rel.Views[0].Confidential == tc.approved {
				t.Errorf("Released: confidential %v, approved %v", rel.Views[0].Confidential, tc.approved)
			}
		})
	}
	// A changed item makes the employer's signature stale: no longer approved.
	v := base
	v.Review = &evidence.Review{Item: v.Item.ID, Decisions: []evidence.Decision{mark(0), by(1, "Grace", "employer", keys["Grace"], accept)}}
	v.Item.Title = "changed since"
	v.State = evidence.Fold(v.Review, &v.Item, verifier)
	v.Confidential = true
	if v.State.EmployerApproved {
		t.Errorf("approved with a stale signature: %+v", v.State.Checks)
	}
}

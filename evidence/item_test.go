package evidence_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
)

func TestNewID(t *testing.T) {
	a := evidence.NewID("git", "1a2b3c")
	if a != evidence.NewID("git", "1a2b3c") {
		t.Fatal("NewID is not stable")
	}
	if a == evidence.NewID("mlflow", "1a2b3c") || a == evidence.NewID("git", "1a2b3d") {
		t.Fatal("NewID collides across type or native ID")
	}
	if !strings.HasPrefix(a, "git-") || len(a) != len("git-")+32 || !evidence.ValidID(a) {
		t.Fatalf("NewID form: %q", a)
	}
	// Hostile native identities still give safe IDs.
	for _, native := range []string{"../../etc/passwd", "a/b\\c\x00", strings.Repeat("x", 5000)} {
		if id := evidence.NewID("tensorboard", native); !evidence.ValidID(id) || strings.ContainsAny(id, "/\\.\x00") {
			t.Fatalf("unsafe ID %q", id)
		}
	}
	for _, bad := range []string{"", "git-xyz", "../git-" + strings.Repeat("0", 32), "Git-" + strings.Repeat("0", 32)} {
		if evidence.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := evidence.Item{Schema: 1, ID: evidence.NewID("git", "x"), Apprentice: "jane", SourceType: "git",
		Kind: evidence.KindCommit, OccurredAt: time.Now()}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := ok
	bad.Schema, bad.Kind, bad.Apprentice = 2, "x", ""
	bad.Artefacts = []evidence.Artefact{{SHA256: "nothex"}}
	err := bad.Validate()
	for _, want := range []string{"schema 2", "kind", "apprentice", "sha256"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
}

func TestReviewState(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	yes, no := true, false
	rv := &evidence.Review{Decisions: []evidence.Decision{
		// Out of order on purpose: decisions apply by time.
		{At: t0.Add(2 * time.Hour), By: "Pat", Role: "coach", Accept: []string{"S10"}, Exclude: &no},
		{At: t0, By: "Jane", Role: "apprentice", Reject: []string{"S10"}, Accept: []string{"K12"}, Exclude: &yes},
		{At: t0.Add(time.Hour), By: "Pat", Role: "coach", Reject: []string{"K12"}, Confidential: &yes},
	}}
	st := rv.State()
	if _, ok := st.Accepted["S10"]; !ok || st.Excluded || !st.Confidential {
		t.Fatalf("state %+v", st)
	}
	if _, ok := st.Rejected["K12"]; !ok {
		t.Fatal("later rejection of K12 lost")
	}
	it := evidence.Item{Tags: []evidence.Tag{{KSB: "K12", By: "declared:trailer", Catalogue: "c"}, {KSB: "S19", By: "rule:x", Catalogue: "c"}}}
	tags := evidence.Reviewed(it, rv)
	var got []string
	for _, tg := range tags {
		got = append(got, tg.KSB+"/"+tg.By)
	}
	if strings.Join(got, " ") != "S19/rule:x S10/review:coach" {
		t.Fatalf("Reviewed = %v", got)
	}
	if evidence.Reviewed(it, nil)[0].KSB != "K12" {
		t.Fatal("nil review changed tags")
	}
}

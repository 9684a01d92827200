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

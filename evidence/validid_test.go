package evidence_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// The forms ValidID and ValidSHA256 check, as regular expressions: the
// oracle the hand-written checks are held to.
var (
	idForm     = regexp.MustCompile(`^[a-z][a-z0-9_]*-[0-9a-f]{32}$`)
	sha256Form = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

const hex32 = "0123456789abcdef0123456789abcdef"

var idCases = []string{
	"git-" + hex32, "a-" + hex32, "model_run2-" + hex32, "tensorboard-" + hex32,
	"", "-" + hex32, "git" + hex32, "git-" + hex32[:31], "git-" + hex32 + "0", "Git-" + hex32,
	"git-" + strings.ToUpper(hex32), "2git-" + hex32, "_git-" + hex32, "gi-t-" + hex32,
	"git-" + hex32 + "\n", "\ngit-" + hex32, "git.x-" + hex32, "git-" + hex32[:31] + "g",
	"git/../-" + hex32, "gït-" + hex32, strings.Repeat("a", 33), strings.Repeat("0", 64),
}

func TestValidIDMatchesForm(t *testing.T) {
	for _, id := range idCases {
		if got, want := evidence.ValidID(id), idForm.MatchString(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
	for _, s := range []string{hex32 + hex32, "", hex32, hex32 + hex32 + "0", strings.ToUpper(hex32 + hex32), hex32 + hex32[:31] + "g", hex32 + hex32[:31] + "\n"} {
		if got, want := evidence.ValidSHA256(s), sha256Form.MatchString(s); got != want {
			t.Errorf("ValidSHA256(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzValidID(f *testing.F) {
	for _, id := range idCases {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := evidence.ValidID(s), idForm.MatchString(s); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", s, got, want)
		}
		if got, want := evidence.ValidSHA256(s), sha256Form.MatchString(s); got != want {
			t.Errorf("ValidSHA256(%q) = %v, want %v", s, got, want)
		}
	})
}

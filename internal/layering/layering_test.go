// Package layering holds only a test: the import rules between the
// module's packages, checked with `go list -deps`.
package layering

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/ksbfolio/ksbfolio/"

// Each rule: no package matched by pkgs may depend, directly or not, on a
// module package matching forbidden.
var rules = []struct {
	name      string
	pkgs      string
	forbidden string
}{
	{"the binary links no test fixture", "./cmd/ksbfolio", `test$`},
	{"collectors do not import the config file's package", "./collectors/...", `^pipeline/config(/|$)`},
}

func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			forbidden := regexp.MustCompile(r.forbidden)
			cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", r.pkgs)
			cmd.Dir = "../.."
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", r.pkgs, err)
			}
			n := 0
			for _, p := range strings.Fields(string(out)) {
				rel, ok := strings.CutPrefix(p, module)
				if !ok {
					continue
				}
				n++
				if forbidden.MatchString(rel) {
					t.Errorf("%s depends on %s", r.pkgs, p)
				}
			}
			if n == 0 {
				t.Fatalf("go list -deps %s listed no package of the module", r.pkgs)
			}
		})
	}
}

package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// Each apprentice of a multi-apprentice config has its own sources,
// decoded strictly by their type's decoder, collected with the top-level
// ones.
func TestApprenticeSources(t *testing.T) {
	yml := `apprentices:
  - id: jan
    emails: [jan@example.com]
    sources:
      - {name: jan-repo, type: git, path: repos/jan}
  - id: jane
    emails: [jane@example.com]
    sources:
      - {name: own, type: git, path: repos/jane}
sources:
  - {name: shared, type: git, path: repos/shared}
`
	c, err := config.Parse("t.yaml", []byte(yml), testDir, registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"jan": "shared jan-repo", "jane": "shared own"} {
		a, _ := c.FindApprentice(id)
		var names []string
		for _, s := range c.SourcesFor(a) {
			names = append(names, s.Name)
			if _, ok := s.Config.(*gitlog.SourceConfig); !ok {
				t.Errorf("%s: source %s decoded as %T", id, s.Name, s.Config)
			}
		}
		if got := strings.Join(names, " "); got != want {
			t.Errorf("%s: sources %q, want %q", id, got, want)
		}
	}
	a, _ := c.FindApprentice("jane")
	if p := a.Sources[0].Config.(*gitlog.SourceConfig).Path; p != "/cfg/repos/jane" {
		t.Errorf("path not resolved against the config folder: %q", p)
	}
}

func TestApprenticeSourcesProblems(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key in own source", `apprentices:
  - id: jan
    emails: [jan@example.com]
    sources:
      - {name: r, type: git, path: x, brnch: main}
`, "t.yaml:5: apprentices[0].sources[0].brnch"},
		{"clash with a top-level source", `apprentices:
  - id: jan
    emails: [jan@example.com]
    sources:
      - {name: shared, type: git, path: x}
sources:
  - {name: shared, type: git, path: y}
`, `apprentices[0].sources[0].name: duplicate source name "shared"`},
		{"unknown type", `apprentice:
  id: jan
  emails: [jan@example.com]
  sources:
    - {name: r, type: svn, path: x}
`, "t.yaml:5: apprentice.sources[0].type: unknown type"},
		{"unknown key in an apprentice", `apprentices:
  - id: jan
    emails: [jan@example.com]
    sourcs: []
`, "apprentices[0].sourcs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("t.yaml", []byte(tc.yaml), testDir, registry.Default())
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a problem containing %q", err, tc.want)
			}
		})
	}
	// The same name under two apprentices is fine: each has its own ledger.
	ok := `apprentices:
  - {id: jan, emails: [jan@example.com], sources: [{name: repo, type: git, path: a}]}
  - {id: jane, emails: [jane@example.com], sources: [{name: repo, type: git, path: b}]}
`
	if _, err := config.Parse("t.yaml", []byte(ok), testDir, registry.Default()); err != nil {
		t.Fatal(err)
	}
}

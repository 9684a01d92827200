// Package configtest helps the tests of collectors check their config
// against the real config file loader.
package configtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// SampleConfig reads the sample config of a collector's README: the first
// ```yaml block after its "## Config" heading, a `sources:` list. It
// parses it with types, under an apprentice, as if the README's folder
// held the config file, fails the test on any problem, and returns the
// sources of type typ (at least one).
func SampleConfig(t testing.TB, readme, typ string, types config.SourceTypes) []config.Source {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	text := string(b)
	head, after, ok := strings.Cut(text, "\n## Config\n")
	if !ok {
		t.Fatalf("%s has no \"## Config\" section", readme)
	}
	before, block, ok := strings.Cut(after, "```yaml\n")
	if ok {
		block, _, ok = strings.Cut(block, "\n```")
	}
	if !ok {
		t.Fatalf("%s: the Config section has no ```yaml block", readme)
	}
	// Blank lines before the block keep problems on the README's lines;
	// the apprentice every config needs goes after it.
	pad := strings.Repeat("\n", strings.Count(head, "\n")+2+strings.Count(before, "\n")+1)
	const apprentice = "\napprentice: {id: jdoe, emails: [jane@corp.example]}\n"
	cfg, err := config.Parse(readme, []byte(pad+block+apprentice), filepath.Dir(readme), types)
	if err != nil {
		t.Fatalf("the README's sample config does not load:\n%v", err)
	}
	var out []config.Source
	for _, s := range cfg.Sources {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		t.Fatalf("the README's sample config has no %s source", typ)
	}
	return out
}

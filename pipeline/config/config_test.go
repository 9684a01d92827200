package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/internal/golden"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testDir is the folder every case pretends to live in, so that resolved
// paths in the golden files do not depend on the machine.
var testDir = filepath.FromSlash("/cfg")

// gitSource returns the git settings of a source.
func gitSource(t *testing.T, s config.Source) *gitlog.SourceConfig {
	t.Helper()
	sc, ok := s.Config.(*gitlog.SourceConfig)
	if !ok {
		t.Fatalf("source %s: config is %T, want *gitlog.SourceConfig", s.Name, s.Config)
	}
	return sc
}

// checkProblems asserts what every error of an invalid config must
// satisfy: a *yamlstrict.Error of Kind config.ErrInvalid, its problems
// complete and sorted, one a line.
func checkProblems(t *testing.T, file string, err error) *yamlstrict.Error {
	t.Helper()
	var ce *yamlstrict.Error
	if !errors.As(err, &ce) || !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("error is %T (Is ErrInvalid: %t), want a *yamlstrict.Error of Kind config.ErrInvalid: %v", err, errors.Is(err, config.ErrInvalid), err)
	}
	if len(ce.Problems) == 0 {
		t.Fatal("*yamlstrict.Error with no problems")
	}
	for i, p := range ce.Problems {
		if p.File != file || p.Line < 0 || p.Path == "" || p.Msg == "" {
			t.Errorf("problem %d incomplete: %#v", i, p)
		}
		if i > 0 && ce.Problems[i-1].Line > p.Line {
			t.Errorf("problems not sorted by line: %d before %d", ce.Problems[i-1].Line, p.Line)
		}
	}
	if n := strings.Count(ce.Error(), "\n") + 1; n != len(ce.Problems) {
		t.Errorf("Error() has %d lines for %d problems", n, len(ce.Problems))
	}
	return ce
}

// runCase parses one case and compares it with its golden files:
// <case>.err always (empty when valid) and <case>.json for valid cases.
func runCase(t *testing.T, name string, data []byte) {
	file := name + ".yaml"
	cfg, err := config.Parse(file, data, testDir, gitOnly())
	var errText []byte
	if err != nil {
		checkProblems(t, file, err)
		errText = []byte(err.Error() + "\n")
	}
	golden.Check(t, filepath.Join("testdata", name+".err"), errText, *update)
	if !strings.HasPrefix(name, "valid") {
		if err == nil {
			t.Fatal("parsed without problems; want some")
		}
		return
	}
	if err != nil {
		t.Fatalf("valid case: %v", err)
	}
	if cfg.Dir != testDir || cfg.File != file {
		t.Errorf("Dir, File = %q, %q; want %q, %q", cfg.Dir, cfg.File, testDir, file)
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", name+".json"), js.Bytes(), *update)
}

func TestParseCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("found %d cases (%v)", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			runCase(t, name, data)
		})
	}
	// A 1 MB line is built here rather than stored: a valid 1 MB value
	// is kept whole, and a 1 MB bad value is shortened in its message.
	t.Run("long_line", func(t *testing.T) {
		long := strings.Repeat("x", 1<<20)
		data := []byte("apprentice:\n  id: jdoe\n  emails: [jane@corp.example]\n  employer: Corp\n  start: " + long + "\n")
		runCase(t, "long_line", data)
		data = []byte("apprentice:\n  id: jdoe\n  emails: [jane@corp.example]\n  employer: " + long + "\n")
		cfg, err := config.Parse("long.yaml", data, testDir, registry.Default())
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Apprentice.Employer != long {
			t.Errorf("employer has %d bytes, want %d", len(cfg.Apprentice.Employer), len(long))
		}
	})
}

func TestParseProblems(t *testing.T) {
	// Spot checks of the examples in the brief, independent of golden files.
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"typo", "apprentice: {id: a, emails: [a@b]}\nsources:\n  - {name: r, type: git, pth: ./r}\n",
			[]string{`t.yaml:3: sources[0].pth: unknown key (did you mean "path"?)`, `t.yaml:3: sources[0].path: required`}},
		{"missing emails", "store: ./x\n\napprentice:\n  id: a\n",
			[]string{`t.yaml:3: apprentice.emails: required (at least one address)`}},
		{"refs mapping", "apprentice: {id: a, emails: [a@b]}\nsources:\n  - name: r\n    type: git\n    path: .\n    refs: {main: 1}\n",
			[]string{`t.yaml:6: sources[0].refs: want a list of strings, got a mapping`}},
		{"planned type", "apprentice: {id: a, emails: [a@b]}\nsources:\n  - {name: m, type: prometheus, url: x}\n",
			[]string{`t.yaml:3: sources[0].type: "prometheus" is not supported by this version (supported: git)`}},
		{"uri on git", "apprentice: {id: a, emails: [a@b]}\nsources:\n  - {name: r, type: git, path: ., uri: x}\n",
			[]string{`t.yaml:3: sources[0].uri: unknown key (did you mean "url"?)`}},
		{"queries on git", "apprentice: {id: a, emails: [a@b]}\nsources:\n  - {name: r, type: git, path: ., queries: x}\n",
			[]string{`t.yaml:3: sources[0].queries: not a key of git sources (keys: name, type, path, paths, urls, url, auth, known_hosts, ca_file, cache_dir, refs, exclude_refs, web_url, web_kind, mailmap_file)`}},
		{"bad ref", "apprentice: {id: a, emails: [a@b]}\nsources:\n  - {name: r, type: git, path: ., refs: [main, 'a b', 'refs/heads/[x']}\n",
			[]string{`t.yaml:3: sources[0].refs[1]: "a b" is not a ref name or pattern`, `t.yaml:3: sources[0].refs[2]: pattern "refs/heads/[x": unclosed [`}},
		{"url with credentials", "apprentice: {id: a, emails: [a@b]}\nsources:\n  - {name: r, type: git, url: 'https://u:pw@h/r.git'}\n",
			[]string{`t.yaml:3: sources[0].url: must not hold credentials (user or token before @); use auth.token`}},
		{"literal", "apprentice: {id: a, emails: [a@b]}\nsources:\n  - {name: r, type: git, url: 'https://h/r', auth: {username: u, password: pw}}\n",
			[]string{`t.yaml:3: sources[0].auth.password: secrets must be a reference like ${env:NAME} or ${file:PATH}, not the value`}},
		{"gateway", "apprentice: {id: a, emails: [a@b], start: 2025-01-06, gateway: 2025-01-06}\n",
			[]string{`t.yaml:1: apprentice.gateway: 2025-01-06 is not after start 2025-01-06`}},
		{"empty", "", []string{`t.yaml:1: (file): the file is empty`}},
		{"neither", "store: ./x\n", []string{`t.yaml:1: apprentice: required (or a list under apprentices)`}},
		// ".." is refused here, not later by the ledger (issue 7.9).
		{"dot-dot id", "apprentice: {id: x..y, emails: [a@b]}\n", []string{`t.yaml:1: apprentice.id: "x..y" is not a slug`}},
		{"empty match", "apprentice: {id: a, emails: [a@b]}\nredact:\n  patterns:\n    - {name: p, regex: 'x*'}\n",
			[]string{`t.yaml:4: redact.patterns[0].regex: can match the empty string`}},
		{"emails", "apprentice: {id: a, emails: [a@b]}\nredact: {emails: hide}\n",
			[]string{`t.yaml:2: redact.emails: want "mask" (the default) or "keep", not "hide"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("t.yaml", []byte(tc.yaml), testDir, gitOnly())
			if err == nil {
				t.Fatal("no error")
			}
			checkProblems(t, "t.yaml", err)
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) }) {
					t.Errorf("no problem starting %q in:\n%s", w, err)
				}
			}
		})
	}
}

func TestLiteralSecretNeverShown(t *testing.T) {
	for _, literal := range []string{"hunter2-Sup3r-s3cret", "ghp_0123456789abcdefghijklmnopqrstuvwxyz", "1234567890"} {
		data, err := os.ReadFile(filepath.Join("testdata", "literal_secret.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(literal)) {
			t.Fatalf("fixture lost %q", literal)
		}
		_, err = config.Parse("literal_secret.yaml", data, testDir, registry.Default())
		if err == nil {
			t.Fatal("literal secret accepted")
		}
		if strings.Contains(err.Error(), literal) {
			t.Errorf("error shows the literal %q:\n%s", literal, err)
		}
		if !strings.Contains(err.Error(), "sources[0].auth.password: secrets must be a reference") {
			t.Errorf("error does not name the password:\n%s", err)
		}
	}
}

func TestSecretsInConfig(t *testing.T) {
	t.Setenv("KSBFOLIO_TEST_TOKEN", "tok-value-123")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw.txt"), []byte("  pw-value-456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The references are accepted and kept as references; ParseSecret
	// resolves them as the git collector does when it fetches.
	yml := "apprentice: {id: a, emails: [a@b]}\nsources:\n" +
		"  - {name: r, type: git, url: https://h/r.git, auth: {username: u, password: '${file:pw.txt}'}}\n" +
		"  - {name: s, type: git, url: https://h/s.git, auth: {token: '${env:KSBFOLIO_TEST_TOKEN}'}}\n"
	if _, err := config.Parse("t.yaml", []byte(yml), dir, registry.Default()); err != nil {
		t.Fatalf("remote sources with secret references: %v", err)
	}

	pw, err := sourceconfig.ParseSecret("${file:pw.txt}", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pw.Ref(), "${file:"+filepath.Join(dir, "pw.txt")+"}"; got != want {
		t.Errorf("Ref() = %q, want %q", got, want)
	}
	if v, err := pw.Resolve(); err != nil || v != "pw-value-456" {
		t.Errorf("Resolve() = %q, %v", v, err)
	}
	tok, err := sourceconfig.ParseSecret("${env:KSBFOLIO_TEST_TOKEN}", dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tok.Resolve(); err != nil || v != "tok-value-123" {
		t.Errorf("Resolve() = %q, %v", v, err)
	}
}

func TestEnvNotExpandedOutsideSecrets(t *testing.T) {
	t.Setenv("KSBFOLIO_TEST_NAME", "expanded")
	yml := "apprentice: {id: a, name: '${env:KSBFOLIO_TEST_NAME}', employer: '$KSBFOLIO_TEST_NAME', emails: [a@b]}\n" +
		"standard: '${env:KSBFOLIO_TEST_NAME}'\n"
	cfg, err := config.Parse("t.yaml", []byte(yml), testDir, registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Apprentice
	if a.Name != "${env:KSBFOLIO_TEST_NAME}" || a.Employer != "$KSBFOLIO_TEST_NAME" || cfg.Standard != "${env:KSBFOLIO_TEST_NAME}" {
		t.Errorf("expanded outside a secret: %+v, standard %q", a, cfg.Standard)
	}
}

func TestDefaultsAndPaths(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(t *testing.T, c *config.Config)
	}{
		{"defaults", "apprentice: {id: a, emails: [A@B.example, a@b.example]}\n", func(t *testing.T, c *config.Config) {
			if c.Standard != config.DefaultStandard || c.StandardFile() != "" {
				t.Errorf("standard %q, file %q", c.Standard, c.StandardFile())
			}
			if want := filepath.Join(testDir, ".ksbfolio"); c.Store != want || c.StoreIsS3() {
				t.Errorf("store %q, want %q", c.Store, want)
			}
			if got := c.Apprentice.Emails; !slices.Equal(got, []string{"a@b.example"}) {
				t.Errorf("emails %q, want lower-cased and deduplicated", got)
			}
			if c.Sources != nil || c.Rules != "" || c.Pack.MaxItems != 0 {
				t.Errorf("unexpected non-zero: %+v", c)
			}
		}},
		{"relative paths", "apprentice: {id: a, emails: [a@b]}\nstandard: cat/st.yaml\nstore: ../ledger\nrules: rules.yaml\n" +
			"sources: [{name: r, type: git, path: ../repo}]\n", func(t *testing.T, c *config.Config) {
			if want := filepath.Join(testDir, "cat", "st.yaml"); c.Standard != want || c.StandardFile() != want {
				t.Errorf("standard %q, want %q", c.Standard, want)
			}
			if want := filepath.Join(testDir, "..", "ledger"); c.Store != want {
				t.Errorf("store %q, want %q", c.Store, want)
			}
			if want := filepath.Join(testDir, "rules.yaml"); c.Rules != want {
				t.Errorf("rules %q, want %q", c.Rules, want)
			}
			if s, ok := c.FindSource("r"); !ok || gitSource(t, s).Path != filepath.Join(testDir, "..", "repo") {
				t.Errorf("source %+v, %v", s, ok)
			}
		}},
		{"s3 store kept", "apprentice: {id: a, emails: [a@b]}\nstore: s3://bkt/pre?region=eu-west-2\n", func(t *testing.T, c *config.Config) {
			if c.Store != "s3://bkt/pre?region=eu-west-2" || !c.StoreIsS3() {
				t.Errorf("store %q", c.Store)
			}
		}},
		{"many", "apprentices: [{id: a, emails: [a@b]}, {id: b, emails: [b@b]}]\n", func(t *testing.T, c *config.Config) {
			all := c.All()
			if len(all) != 2 || all[0].ID != "a" || all[1].ID != "b" {
				t.Errorf("All() = %+v", all)
			}
			if b, ok := c.FindApprentice("b"); !ok || b.Emails[0] != "b@b" {
				t.Errorf("FindApprentice(b) = %+v, %v", b, ok)
			}
			if _, ok := c.FindApprentice("z"); ok {
				t.Error("found z")
			}
		}},
		{"one", "apprentice: {id: a, emails: [a@b]}\n", func(t *testing.T, c *config.Config) {
			if all := c.All(); len(all) != 1 || all[0].ID != "a" {
				t.Errorf("All() = %+v", all)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse("t.yaml", []byte(tc.yaml), testDir, registry.Default())
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ksbfolio.yaml")
	yml := "apprentice: {id: jdoe, emails: [jane@corp.example]}\nsources: [{name: r, type: git, path: repo}]\n"
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != dir || c.File != path {
		t.Errorf("Dir, File = %q, %q", c.Dir, c.File)
	}
	if p := gitSource(t, c.Sources[0]).Path; p != filepath.Join(dir, "repo") || c.Store != filepath.Join(dir, ".ksbfolio") {
		t.Errorf("paths not resolved against the file's folder: %q, %q", p, c.Store)
	}

	_, err = config.Load(filepath.Join(dir, "missing.yaml"), registry.Default())
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, config.ErrInvalid) {
		t.Errorf("missing file: %v, want fs.ErrNotExist and not ErrInvalid", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apprentice: {id: jdoe}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = config.Load(bad, registry.Default())
	ce := checkProblems(t, bad, err)
	if !strings.HasPrefix(ce.Error(), bad+":1: apprentice.emails: required") {
		t.Errorf("got %v", err)
	}
}

// A file too large to be a config is one problem of the file as a whole,
// reported like any other.
func TestLoadTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, config.MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path, registry.Default())
	ce := checkProblems(t, path, err)
	want := fmt.Sprintf("%s: (file): larger than %d bytes; this is not a config file", path, config.MaxFileSize)
	if len(ce.Problems) != 1 || ce.Problems[0].Line != 0 || err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

func TestManyProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("apprentice: {id: a, emails: [a@b]}\n")
	for i := range 500 {
		b.WriteString("k")
		b.WriteString(strings.Repeat("z", i%7+1))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(strings.Repeat("q", i/26))
		b.WriteString(": 1\n")
	}
	_, err := config.Parse("t.yaml", []byte(b.String()), testDir, registry.Default())
	ce := checkProblems(t, "t.yaml", err)
	if len(ce.Problems) != 101 || !strings.Contains(ce.Problems[100].Msg, "400 more problems not shown") {
		t.Errorf("%d problems, last %v", len(ce.Problems), ce.Problems[len(ce.Problems)-1])
	}
}

func TestAliasBomb(t *testing.T) {
	// Each source's refs list aliases a long list; decoding must stop at
	// the budget instead of expanding it thousands of times.
	var b strings.Builder
	b.WriteString("apprentice: {id: a, emails: [a@b]}\nx: &r [")
	for i := range 5000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("m")
	}
	b.WriteString("]\nsources:\n")
	for range 5000 {
		b.WriteString("  - {name: s, type: git, path: ., refs: *r}\n")
	}
	_, err := config.Parse("t.yaml", []byte(b.String()), testDir, registry.Default())
	ce := checkProblems(t, "t.yaml", err)
	if !strings.Contains(ce.Error(), "too many values") {
		t.Errorf("no budget problem in:\n%.2000s", ce.Error())
	}
}

func TestDateJSONRoundTrip(t *testing.T) {
	in := "apprentice: {id: a, emails: [a@b], start: 2025-01-06, gateway: 2027-01-05}\n"
	c, err := config.Parse("t.yaml", []byte(in), testDir, registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back config.Config
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", js, err)
	}
	if !back.Apprentice.Start.Equal(c.Apprentice.Start.Time) || back.Apprentice.Gateway.String() != "2027-01-05" {
		t.Errorf("round trip: %+v", back.Apprentice)
	}
	var d sourceconfig.Date
	if err := json.Unmarshal([]byte(`"2025-02-30"`), &d); err == nil {
		t.Errorf("accepted 2025-02-30 as %v", d)
	}
}

// gitOnly is a build with the git collector only, so that the golden
// problems ("supported: git") do not change as collectors are added.
func gitOnly() registry.List { return registry.List{gitlog.NewFactory()} }

package config_test

import (
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

var templateCases = []struct {
	name string
	data config.TemplateData
}{
	{"one repo", config.TemplateData{ApprenticeID: "jdoe", Name: "Jane Doe", Emails: []string{"jane@corp.example"},
		Repos: []config.Repo{{Name: "fraud-model", Path: "../fraud-model"}}}},
	{"no repos", config.TemplateData{ApprenticeID: "jdoe", Emails: []string{"jane@corp.example"},
		Found: []string{"mlruns/ (MLflow, supported in a later version)", "runs/ (TensorBoard logs)\nsecond line"}}},
	{"awkward values", config.TemplateData{ApprenticeID: "007", Name: "O'Brien: \"Jo\" #1 – Zoë\nnext line",
		Emails: []string{"jo@corp.example", "jo.obrien+ml@users.noreply.github.com"},
		Repos: []config.Repo{{Name: "here", Path: ""}, {Name: "yes", Path: "true"},
			{Name: "spaced", Path: "../my repos/a: b #c"}, {Name: "n2", Path: "null"}}}},
	{"other addresses", config.TemplateData{ApprenticeID: "jdoe", Name: "Jane Doe", Emails: []string{"jane@corp.example"},
		OtherEmails: []config.OtherEmail{{Email: "jane@home.example", Commits: 12}, {Email: "jd@old.example", Commits: 1}},
		Repos:       []config.Repo{{Name: "r", Path: "."}}}},
	{"long name", config.TemplateData{ApprenticeID: "a", Name: strings.Repeat("Long Name ", 40),
		Emails: []string{"a@b.example"}, Repos: []config.Repo{{Name: "r", Path: "r"}}}},
}

func TestTemplateParses(t *testing.T) {
	dir := filepath.FromSlash("/work/project")
	for _, tc := range templateCases {
		t.Run(tc.name, func(t *testing.T) {
			out := config.Template(tc.data)
			c, err := config.Parse("ksbfolio.yaml", out, dir, registry.Default())
			if err != nil {
				t.Fatalf("template does not parse: %v\n%s", err, out)
			}
			a := c.Apprentice
			wantName := strings.Join(strings.Split(tc.data.Name, "\n"), " ")
			if a == nil || a.ID != tc.data.ApprenticeID || a.Name != wantName || !slices.Equal(a.Emails, tc.data.Emails) {
				t.Errorf("apprentice = %+v, want %+v", a, tc.data)
			}
			if len(c.Sources) != len(tc.data.Repos) {
				t.Fatalf("%d sources, want %d", len(c.Sources), len(tc.data.Repos))
			}
			for i, r := range tc.data.Repos {
				s := c.Sources[i]
				want := filepath.Join(dir, r.Path)
				if s.Name != r.Name || s.Type != "git" || gitSource(t, s).Path != want {
					t.Errorf("source %d = %+v, want %s at %s", i, s, r.Name, want)
				}
			}
			if c.Store != filepath.Join(dir, ".ksbfolio") || c.Standard != config.DefaultStandard {
				t.Errorf("store %q, standard %q", c.Store, c.Standard)
			}
			for _, f := range tc.data.Found {
				if !strings.Contains(string(out), "#   "+strings.ReplaceAll(f, "\n", " ")) {
					t.Errorf("found %q is not mentioned", f)
				}
			}
		})
	}
}

// yamlKeys lists every yaml key of a struct type, recursively.
func yamlKeys(t reflect.Type, into map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[sourceconfig.Date]() || t == reflect.TypeFor[sourceconfig.Secret]() {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || name == "" {
			continue
		}
		into[name] = true
		yamlKeys(f.Type, into)
	}
}

func TestTemplateShowsEveryKey(t *testing.T) {
	keys := map[string]bool{}
	yamlKeys(reflect.TypeFor[config.Config](), keys)
	// The keys of each source type's own settings.
	yamlKeys(reflect.TypeFor[gitlog.SourceConfig](), keys)
	if len(keys) < 28 {
		t.Fatalf("only %d keys found", len(keys))
	}
	out := string(config.Template(templateCases[0].data))
	for k := range keys {
		if !regexp.MustCompile(`[\s{,]` + regexp.QuoteMeta(k) + `:`).MatchString(out) {
			t.Errorf("key %q is not shown in the template", k)
		}
	}
}

// uncomment turns "<indent># key: …" and the deeper commented lines that
// follow it into live YAML.
func uncomment(text string, keys ...string) string {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		for _, k := range keys {
			indent, rest, ok := strings.Cut(lines[i], "# "+k+":")
			if !ok || strings.TrimSpace(indent) != "" {
				continue
			}
			lines[i] = indent + k + ":" + rest
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], indent+"#  ") {
				i++
				lines[i] = indent + lines[i][len(indent)+2:]
			}
		}
	}
	return strings.Join(lines, "\n")
}

func TestTemplateExamplesAreValid(t *testing.T) {
	out := string(config.Template(templateCases[0].data))
	on := uncomment(out, "employer", "start", "gateway", "standard", "rules", "refs", "redact", "pack", "metrics")
	if on == out {
		t.Fatal("nothing uncommented")
	}
	c, err := config.Parse("ksbfolio.yaml", []byte(on), "/p", registry.Default())
	if err != nil {
		t.Fatalf("uncommented examples do not parse: %v\n%s", err, on)
	}
	a := c.Apprentice
	if a.Employer != "Corp Ltd" || a.Start.String() != "2025-01-06" || a.Gateway.String() != "2027-01-05" ||
		c.Rules != filepath.FromSlash("/p/ksb-rules.yaml") || !slices.Equal(gitSource(t, c.Sources[0]).Refs, []string{"main", "refs/heads/release/*"}) ||
		len(c.Redact.Patterns) != 1 || c.Pack.MaxItems != 12 || c.Metrics.Pushgateway != "http://pushgateway:9091" {
		t.Errorf("uncommented values not read: %+v %+v", a, c)
	}
	// The s3 example replaces the folder.
	s3 := strings.Replace(on, "\nstore: ./.ksbfolio\n", "\n", 1)
	s3 = uncomment(s3, "store")
	c, err = config.Parse("ksbfolio.yaml", []byte(s3), "/p", registry.Default())
	if err != nil || !c.StoreIsS3() {
		t.Fatalf("s3 example: %v", err)
	}
}

// The template's comments say what the code does: every local branch is
// read, and no command-line flag is named (none of the config's keys has
// one; naming flags that do not exist misled users).
func TestTemplateCommentsAreTrue(t *testing.T) {
	for _, tc := range templateCases {
		out := string(config.Template(tc.data))
		if strings.Contains(out, "checked-out branch") || !strings.Contains(out, "every local branch") && len(tc.data.Repos) > 0 {
			t.Errorf("%s: the refs comment does not say every local branch is read", tc.name)
		}
		if m := regexp.MustCompile(`\s--[a-z][a-z-]*`).FindString(out); m != "" {
			t.Errorf("%s: the template names a flag: %q", tc.name, m)
		}
	}
}

// Other addresses in history are offered commented out; uncommented, they
// are read as the apprentice's.
func TestTemplateOffersOtherEmails(t *testing.T) {
	d := templateCases[3].data
	out := string(config.Template(d))
	if !strings.Contains(out, "# - jane@home.example   # 12 commits") || !strings.Contains(out, "# - jd@old.example   # 1 commit\n") {
		t.Fatalf("other addresses not offered:\n%s", out)
	}
	on := strings.ReplaceAll(out, "    # - ", "    - ")
	c, err := config.Parse("ksbfolio.yaml", []byte(on), "/p", registry.Default())
	if err != nil {
		t.Fatalf("uncommented: %v\n%s", err, on)
	}
	if want := []string{"jane@corp.example", "jane@home.example", "jd@old.example"}; !slices.Equal(c.Apprentice.Emails, want) {
		t.Fatalf("emails %v, want %v", c.Apprentice.Emails, want)
	}
}

package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// FuzzParse checks that no input crashes Parse, that every problem is
// placed (a line ≥ 0 and a path), and that what parses is complete.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(config.Template(config.TemplateData{ApprenticeID: "jdoe", Emails: []string{"a@b"},
		Repos: []config.Repo{{Name: "r", Path: "."}}}))
	f.Add([]byte("a: &a [*a]\napprentice: *a\n"))
	f.Add([]byte("apprentice: {id: a, emails: [a@b]}\nsources: [{name: x, type: git, path: ., auth: {token: '${env:X}'}}]\n"))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte("? !!binary aGk=\n: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("f.yaml", data, "/cfg", registry.Default())
		if err != nil {
			var ce *yamlstrict.Error
			if !errors.As(err, &ce) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error %T is not a *yamlstrict.Error of Kind ErrInvalid: %v", err, err)
			}
			if len(ce.Problems) == 0 {
				t.Fatal("no problems in *yamlstrict.Error")
			}
			for _, p := range ce.Problems {
				if p.Line < 0 || p.Path == "" || p.File != "f.yaml" || p.Msg == "" {
					t.Fatalf("problem without a place: %#v", p)
				}
			}
			_ = ce.Error()
			return
		}
		if c == nil || len(c.All()) == 0 || c.Standard == "" || c.Store == "" {
			t.Fatalf("incomplete config without error: %+v", c)
		}
		for _, a := range c.All() {
			if !config.IsSlug(a.ID) || len(a.Emails) == 0 {
				t.Fatalf("bad apprentice accepted: %+v", a)
			}
		}
		for _, s := range c.Sources {
			sc, ok := s.Config.(*gitlog.SourceConfig)
			if !config.IsSlug(s.Name) || s.Type != "git" || !ok || !filepath.IsAbs(sc.Path) {
				t.Fatalf("bad source accepted: %+v", s)
			}
		}
	})
}

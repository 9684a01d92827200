package gitlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/config/configtest"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// TestREADMESampleConfig loads the README's sample config with the
// collectors of this build.
func TestREADMESampleConfig(t *testing.T) {
	srcs := configtest.SampleConfig(t, "README.md", gitlog.SourceType, registry.Default())
	sc, ok := srcs[0].Config.(*gitlog.SourceConfig)
	if !ok {
		t.Fatalf("config is %T", srcs[0].Config)
	}
	abs, err := filepath.Abs("../fraud-model")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Path != abs || !slices.Equal(sc.Refs, []string{"main", "refs/heads/release/*"}) {
		t.Errorf("sample read as %+v", sc)
	}
}

// TestFactoryBuildsWithSettings builds a git collector the way the
// pipeline does: from the config file's source and the shared settings,
// whose logger names the source once.
func TestFactoryBuildsWithSettings(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "a\n")
	sha := r.commit(jane, "Add a\n\nKSB: S10")
	yml := "apprentice: {id: jdoe, emails: [jane@corp.example]}\nsources: [{name: model-repo, type: git, path: ./repo}]\n"
	cfg, err := config.Parse("ksbfolio.yaml", []byte(yml), filepath.Dir(r.dir), registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	c, err := gitlog.NewFactory().New(cfg.Sources[0].Config, collectors.Settings{
		Name:       "model-repo",
		Logger:     slog.New(slog.NewJSONHandler(&logs, nil)).With("source", "model-repo"),
		Now:        func() time.Time { return fixedNow },
		Apprentice: collectors.Apprentice{ID: "jdoe", Emails: []string{janeE}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), nil, s); err != nil {
		t.Fatal(err)
	}
	items := s.Items()
	if len(items) != 1 || items[0].Origin.NativeID != sha || items[0].Source != "model-repo" || items[0].Apprentice != "jdoe" ||
		!items[0].CollectedAt.Equal(fixedNow) {
		t.Fatalf("items %+v", items)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if logs.Len() == 0 {
		t.Fatal("nothing logged")
	}
	for _, l := range lines {
		if n := strings.Count(l, `"source":"model-repo"`); n != 1 {
			t.Errorf("log line names the source %d times: %s", n, l)
		}
	}
	if _, err := gitlog.NewFactory().New(&struct{}{}, collectors.Settings{Name: "x"}); err == nil {
		t.Error("New accepted a config of another type")
	}
}

// TestRemoteConfigKeys: the keys of a remote git source decode (paths made
// absolute, the token kept as a reference) and their mistakes are refused
// with the key named.
func TestRemoteConfigKeys(t *testing.T) {
	dir := t.TempDir()
	parse := func(src string) (*gitlog.SourceConfig, error) {
		yml := "apprentice: {id: jdoe, emails: [jane@corp.example]}\nsources:\n  - " + src + "\n"
		cfg, err := config.Parse("ksbfolio.yaml", []byte(yml), dir, registry.Default())
		if err != nil {
			return nil, err
		}
		return cfg.Sources[0].Config.(*gitlog.SourceConfig), nil
	}
	sc, err := parse(`{name: r, type: git, url: "https://github.com/corp/fraud-model.git", auth: {token: "${env:GH_TOKEN}"}, cache_dir: cache, ca_file: ca.pem, exclude_refs: ["refs/heads/dependabot/*"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if sc.CacheDir != filepath.Join(dir, "cache") || sc.CAFile != filepath.Join(dir, "ca.pem") || sc.Auth.Token.Ref() != "${env:GH_TOKEN}" ||
		!slices.Equal(sc.ExcludeRefs, []string{"refs/heads/dependabot/*"}) {
		t.Errorf("decoded %+v", sc)
	}
	sc, err = parse(`{name: r, type: git, url: "git@github.com:corp/fraud-model.git", auth: {ssh_key: keys/id_ed25519}, known_hosts: keys/known_hosts}`)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Auth.SSHKey != filepath.Join(dir, "keys", "id_ed25519") || sc.KnownHosts != filepath.Join(dir, "keys", "known_hosts") {
		t.Errorf("ssh decoded %+v", sc)
	}
	bad := []struct{ src, key string }{
		{`{name: r, type: git, url: "https://jane:ghp_x@github.com/corp/r.git"}`, "url"},
		{`{name: r, type: git, url: "https://github.com/corp/r.git", path: ./r}`, "url"},
		{`{name: r, type: git, url: "ftp://host/r.git"}`, "url"},
		{`{name: r, type: git, path: ./r, known_hosts: kh}`, "known_hosts"},
		{`{name: r, type: git, path: ./r, cache_dir: c}`, "cache_dir"},
		{`{name: r, type: git, path: ./r, exclude_refs: ["a b"]}`, "exclude_refs[0]"},
		{`{name: r, type: git, path: ./r, web_url: "https://u:p@github.com/o/r"}`, "web_url"},
		{`{name: r, type: git, path: ./r, web_kind: sourceforge}`, "web_kind"},
		{`{name: r, type: git, url: "https://github.com/o/r", auth: {token: ghp_plainvalue}}`, "auth.token"},
	}
	for _, b := range bad {
		_, err := parse(b.src)
		if err == nil || !strings.Contains(err.Error(), b.key) {
			t.Errorf("%s: err %v, want one naming %s", b.src, err, b.key)
		}
		if err != nil && strings.Contains(err.Error(), "ghp_") {
			t.Errorf("%s: the error repeats the secret: %v", b.src, err)
		}
	}
}

// TestSeveralRepositories: paths: collects each repository, a commit
// found in two of them (a clone) once; a repository that is missing is
// skipped with its reason and the others still count; the next run finds
// nothing new.
func TestSeveralRepositories(t *testing.T) {
	r1 := newRepo(t)
	r1.write("a.py", "1\n")
	shared := r1.commit(jane, "Shared")
	r2dir := filepath.Join(t.TempDir(), "clone")
	if _, err := demorepo.Git(context.Background(), r1.dir, "clone", "-q", r1.dir, r2dir); err != nil {
		t.Fatal(err)
	}
	r1.write("a.py", "2\n")
	only1 := r1.commit(jane, "Only in the first")
	r2 := &repo{t: t, dir: r2dir, when: r1.when.Add(time.Hour)}
	r2.write("b.py", "1\n")
	only2 := r2.commit(jane, "Only in the clone")
	dir := t.TempDir()
	yml := fmt.Sprintf("apprentice: {id: jdoe, emails: [jane@corp.example]}\nsources: [{name: team, type: git, paths: [%q, %q, ./missing]}]\n", r1.dir, r2dir)
	cfg, err := config.Parse("ksbfolio.yaml", []byte(yml), dir, registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	c, err := gitlog.NewFactory().New(cfg.Sources[0].Config, collectors.Settings{Name: "team",
		Apprentice: collectors.Apprentice{ID: "jdoe", Emails: []string{janeE}}})
	if err != nil {
		t.Fatal(err)
	}
	s := &collectortest.Sink{}
	cur, err := c.Collect(context.Background(), nil, s)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) || cur == nil {
		t.Fatalf("err %v (want a PartialError for the missing repository), cursor %s", err, cur)
	}
	var got []string
	for _, it := range s.Items() {
		got = append(got, it.Origin.NativeID)
	}
	if !sameSet(got, []string{shared, only1, only2}) {
		t.Errorf("items %v, want each commit once: %s %s %s", got, shared, only1, only2)
	}
	s = &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), cur, s); !errors.As(err, &pe) || len(s.Items()) != 0 {
		t.Errorf("second run: err %v, %d items", err, len(s.Items()))
	}
}

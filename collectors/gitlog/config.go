package gitlog

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// SourceConfig is a git source as the user writes it in ksbfolio.yaml,
// besides its name and type. It is checked by check, the one place git
// settings are validated: when the config file is loaded (NewFactory) and
// again by New.
type SourceConfig struct {
	// Path is the repository: its worktree root (the folder holding .git)
	// or a bare repository; relative to the config file, absolute once
	// loaded. Parent folders are not searched.
	Path string `yaml:"path" json:"path,omitempty"`
	// Paths and URLs name several repositories collected as one source,
	// instead of Path or URL (see Multi).
	Paths []string `yaml:"paths,omitempty" json:"paths,omitempty"`
	URLs  []string `yaml:"urls,omitempty" json:"urls,omitempty"`
	// URL is a remote repository instead of Path: cloned (bare) into
	// CacheDir on the first run, fetched on the next ones (see Remote).
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Auth holds the credentials of URL.
	Auth *sourceconfig.Auth `yaml:"auth,omitempty" json:"auth,omitempty"`
	// KnownHosts, CAFile and CacheDir: see Remote; relative to the config
	// file, absolute once loaded.
	KnownHosts string `yaml:"known_hosts,omitempty" json:"known_hosts,omitempty"`
	CAFile     string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	CacheDir   string `yaml:"cache_dir,omitempty" json:"cache_dir,omitempty"`
	// Refs selects the commits to walk (see Config.Refs); ExcludeRefs
	// drops refs from them (see Config.ExcludeRefs).
	Refs        []string `yaml:"refs,omitempty" json:"refs,omitempty"`
	ExcludeRefs []string `yaml:"exclude_refs,omitempty" json:"exclude_refs,omitempty"`
	// WebURL and WebKind: see Config.
	WebURL  string `yaml:"web_url,omitempty" json:"web_url,omitempty"`
	WebKind string `yaml:"web_kind,omitempty" json:"web_kind,omitempty"`
	// MailmapFile: see Config; relative to the config file.
	MailmapFile string `yaml:"mailmap_file,omitempty" json:"mailmap_file,omitempty"`
}

// Config is one git collector as the code builds it: the user's settings
// and what the apprentice's entry gives.
type Config struct {
	// Name is the configured source name, written into every item's
	// "source" field.
	Name string `yaml:"name" json:"name"`
	// Path is the repository: its worktree root (the folder holding .git)
	// or a bare repository. Parent folders are not searched.
	Path string `yaml:"path" json:"path"`
	// Refs selects the commits to walk: the commits reachable from these
	// refs. Each entry is a full ref name ("refs/heads/main",
	// "refs/tags/v1.0"), a branch name ("main" means refs/heads/main), "HEAD",
	// or a pattern with * ? [ ] matched against full ref names
	// ("refs/heads/release/*"). Empty: every local branch (refs/heads/*),
	// or HEAD when there is none.
	Refs []string `yaml:"refs" json:"refs"`
	// ExcludeRefs are refs not to walk, in the same forms as Refs
	// ("refs/heads/dependabot/*"): applied after Refs.
	ExcludeRefs []string `yaml:"exclude_refs" json:"exclude_refs"`
	// Remote, when set, is the repository instead of Path.
	Remote *Remote `yaml:"-" json:"-"`
	// Emails are the apprentice's author emails, matched
	// case-insensitively against each commit's author email after the
	// repository's .mailmap is applied.
	Emails []string `yaml:"emails" json:"emails"`
	// Apprentice is the apprentice ID written into every item.
	Apprentice string `yaml:"apprentice" json:"apprentice"`
	// WebURL is the repository's page on its code host
	// (https://github.com/corp/fraud-model), for the links items carry;
	// empty: derived from the "origin" remote. WebKind names the host's
	// URL shapes (github, gitlab, bitbucket, azure, gitea) when its name
	// does not tell (a self-hosted GitLab at git.corp.example).
	WebURL  string `yaml:"web_url" json:"web_url"`
	WebKind string `yaml:"web_kind" json:"web_kind"`
	// MailmapFile is a .mailmap kept outside the repository (git's
	// mailmap.file), applied after the repository's own; its lines win.
	MailmapFile string `yaml:"mailmap_file" json:"mailmap_file"`
}

// problem is one thing wrong with a git source: the key (relative to the
// source, "refs[1]") and what is wrong.
type problem struct{ key, msg string }

// check validates what the user writes, without touching the repository.
// It is the only validation of git settings.
func (sc SourceConfig) check() []problem {
	var ps []problem
	add := func(key, format string, args ...any) { ps = append(ps, problem{key, fmt.Sprintf(format, args...)}) }
	given := 0
	for _, set := range []bool{sc.Path != "", sc.URL != "", len(sc.Paths) > 0, len(sc.URLs) > 0} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		add("path", "give one of path, url, paths or urls")
	case sc.URL != "":
		if msg := checkRemoteURL(sc.URL); msg != "" {
			add("url", "%s", msg)
		}
	case len(sc.URLs) > 0:
		for i, u := range sc.URLs {
			if msg := checkRemoteURL(u); msg != "" {
				add(fmt.Sprintf("urls[%d]", i), "%s", msg)
			}
		}
	case len(sc.Paths) > 0:
		for i, p := range sc.Paths {
			if strings.TrimSpace(p) == "" {
				add(fmt.Sprintf("paths[%d]", i), "empty; name the folder of a git repository")
			}
		}
	case strings.TrimSpace(sc.Path) == "":
		add("path", "required (the folder of a git repository, relative to this file), or url")
	}
	remote := sc.URL != "" || len(sc.URLs) > 0
	if !remote {
		for _, kv := range [][2]string{{"known_hosts", sc.KnownHosts}, {"ca_file", sc.CAFile}, {"cache_dir", sc.CacheDir}} {
			if kv[1] != "" {
				add(kv[0], "only used with url")
			}
		}
	}
	refKeys := func(name string, refs []string) {
		for i, r := range refs {
			checkRef(add, fmt.Sprintf("%s[%d]", name, i), r)
		}
	}
	refKeys("refs", sc.Refs)
	refKeys("exclude_refs", sc.ExcludeRefs)
	if sc.WebURL != "" {
		u, err := url.Parse(sc.WebURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			add("web_url", "must be the https:// address of the repository's web page")
		case u.User != nil:
			add("web_url", "must not hold credentials (user or token before @)")
		}
	}
	if sc.WebKind != "" {
		if err := checkWebKind(sc.WebKind); err != nil {
			add("web_kind", "%v", err)
		}
	}
	if a := sc.Auth; a != nil {
		if !remote {
			add("auth", "only used with url; a local path needs no credentials")
		}
		if !a.Password.IsZero() && a.Username == "" {
			add("auth.username", "required with password")
		}
		if !a.Token.IsZero() && !a.Password.IsZero() {
			add("auth.token", "give either token or password, not both")
		}
	}
	return ps
}

// checkRef checks one refs or exclude_refs entry.
func checkRef(add func(key, format string, args ...any), key, r string) {
	switch {
	case strings.TrimSpace(r) == "":
		add(key, "empty; name a branch, tag or commit")
	case strings.ContainsAny(r, " \t\r\n~^:\\"):
		add(key, "%q is not a ref name or pattern (no spaces, ~, ^, : or \\)", r)
	case isGlob(r):
		if _, err := globRegexp(r); err != nil {
			add(key, "%v", err)
		}
	}
}

// Validate checks cfg without touching the repository, and reports every
// problem at once.
func (cfg Config) Validate() error {
	var errs []error
	if strings.TrimSpace(cfg.Name) == "" {
		errs = append(errs, errors.New("name: must be set"))
	}
	sc := SourceConfig{Path: cfg.Path, Refs: cfg.Refs, ExcludeRefs: cfg.ExcludeRefs, WebURL: cfg.WebURL, WebKind: cfg.WebKind}
	if rm := cfg.Remote; rm != nil {
		sc.URL, sc.Auth, sc.KnownHosts, sc.CAFile, sc.CacheDir = rm.URL, rm.Auth, rm.KnownHosts, rm.CAFile, rm.CacheDir
		if sc.URL == "" {
			sc.URL = " " // "url: empty"
		}
	}
	for _, p := range sc.check() {
		errs = append(errs, fmt.Errorf("%s: %s", p.key, p.msg))
	}
	if strings.TrimSpace(cfg.Apprentice) == "" {
		errs = append(errs, errors.New("apprentice: must be set"))
	}
	if len(cfg.Emails) == 0 {
		errs = append(errs, errors.New("emails: at least one author email is needed to pick the apprentice's commits"))
	}
	for i, e := range cfg.Emails {
		if strings.TrimSpace(e) == "" || strings.ContainsAny(e, "<>\n") {
			errs = append(errs, fmt.Errorf("emails[%d] %q: must be an address without <, > or line breaks", i, e))
		}
	}
	return errors.Join(errs...)
}

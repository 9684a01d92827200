package gitlog

import (
	"errors"
	"fmt"
	"strings"
)

// Config is one git source as the user configures it.
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
	// Emails are the apprentice's author emails, matched
	// case-insensitively against each commit's author email after the
	// repository's .mailmap is applied.
	Emails []string `yaml:"emails" json:"emails"`
	// Apprentice is the apprentice ID written into every item.
	Apprentice string `yaml:"apprentice" json:"apprentice"`
}

// Validate checks cfg without touching the repository, and reports every
// problem at once.
func (cfg Config) Validate() error {
	var errs []error
	if strings.TrimSpace(cfg.Name) == "" {
		errs = append(errs, errors.New("name: must be set"))
	}
	if strings.TrimSpace(cfg.Path) == "" {
		errs = append(errs, errors.New("path: must be set"))
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
	for i, r := range cfg.Refs {
		if strings.TrimSpace(r) == "" || strings.ContainsAny(r, " \t\n~^:\\") {
			errs = append(errs, fmt.Errorf("refs[%d] %q: not a ref name or pattern", i, r))
			continue
		}
		if isGlob(r) {
			if _, err := globRegexp(r); err != nil {
				errs = append(errs, fmt.Errorf("refs[%d]: %w", i, err))
			}
		}
	}
	return errors.Join(errs...)
}

package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/ksbfolio/ksbfolio/pipeline/redact"
)

var (
	slugPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

const slugRule = `lower-case letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64`

// IsSlug reports whether s may name an apprentice, a source or a redact
// pattern: ^[a-z0-9][a-z0-9._-]{0,63}$.
func IsSlug(s string) bool { return slugPattern.MatchString(s) }

// check records a validation problem at the line of path (or of its
// nearest ancestor that was written), unless the walk already reported
// path or an ancestor of it.
func (d *decoder) check(path, format string, args ...any) {
	for p := path; ; p = parent(p) {
		if d.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	d.problem(d.lineOf(path), path, format, args...)
}

// present reports whether path was written in the file.
func (d *decoder) present(path string) bool {
	_, ok := d.lines[path]
	return ok
}

// lineOf returns the line of path, or of its nearest written ancestor.
func (d *decoder) lineOf(path string) int {
	for p := path; ; p = parent(p) {
		if l, ok := d.lines[p]; ok {
			return l
		}
		if p == "" {
			return 0
		}
	}
}

// parent strips the last key or index from a path.
func parent(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// validate checks what the types cannot say, fills defaults and resolves
// paths. It runs even when the walk found problems, so that everything
// is reported at once.
func (d *decoder) validate(c *Config) {
	d.apprentices(c)

	if d.present("standard") && strings.TrimSpace(c.Standard) == "" {
		d.check("standard", "empty; name a catalogue (default %s) or a catalogue file", DefaultStandard)
	} else if c.Standard == "" {
		c.Standard = DefaultStandard
	} else if looksLikePath(c.Standard) {
		c.Standard = d.resolvePath("standard", c.Standard)
	} else if strings.ContainsAny(c.Standard, " \t\r\n") {
		d.check("standard", "%s: a catalogue ID has no spaces", quote(c.Standard))
	}

	if d.present("store") && strings.TrimSpace(c.Store) == "" {
		d.check("store", "empty; remove it for the default %s, or give a folder or s3://bucket/prefix", DefaultStore)
	} else {
		if c.Store == "" {
			c.Store = DefaultStore
		}
		c.Store = d.store(c.Store)
	}

	d.sources(c)

	if d.present("rules") && strings.TrimSpace(c.Rules) == "" {
		d.check("rules", "empty; remove it or give the path of a rules file")
	} else if c.Rules != "" {
		c.Rules = d.resolvePath("rules", c.Rules)
	}

	d.redact(c)

	if c.Pack.MaxItems < 0 {
		d.check("pack.max_items", "%d: must be 0 or more (0: every evidenced item)", c.Pack.MaxItems)
	}
	if c.Metrics.Pushgateway != "" {
		if !httpURL(c.Metrics.Pushgateway) {
			d.check("metrics.pushgateway", "want an http:// or https:// URL with a host, like http://pushgateway:9091")
		}
	}
}

func (d *decoder) apprentices(c *Config) {
	switch {
	case c.Apprentice != nil && d.present("apprentices"):
		d.check("apprentices", "give either apprentice or apprentices, not both")
	case c.Apprentice == nil && len(c.Apprentices) == 0:
		if d.present("apprentices") {
			d.check("apprentices", "empty; list at least one apprentice")
		} else {
			d.check("apprentice", "required (or a list under apprentices)")
		}
	}
	if c.Apprentice != nil {
		d.apprentice(c.Apprentice, "apprentice")
	}
	ids := map[string]string{}
	for i := range c.Apprentices {
		p := fmt.Sprintf("apprentices[%d]", i)
		a := &c.Apprentices[i]
		d.apprentice(a, p)
		if a.ID == "" {
			continue
		}
		if first, dup := ids[a.ID]; dup {
			d.check(p+".id", "duplicate apprentice id %q (first at line %d)", a.ID, d.lineOf(first))
			continue
		}
		ids[a.ID] = p + ".id"
	}
}

func (d *decoder) apprentice(a *Apprentice, p string) {
	switch {
	case a.ID == "":
		d.check(p+".id", "required")
	case !IsSlug(a.ID):
		d.check(p+".id", "%s is not a slug (%s)", quote(a.ID), slugRule)
	}
	if len(a.Emails) == 0 {
		d.check(p+".emails", "required (at least one address)")
	}
	var emails []string
	for i, e := range a.Emails {
		e = strings.ToLower(strings.TrimSpace(e))
		if !validEmail(e) {
			d.check(fmt.Sprintf("%s.emails[%d]", p, i), "%s is not an email address", quote(a.Emails[i]))
			continue
		}
		if !slices.Contains(emails, e) {
			emails = append(emails, e)
		}
	}
	if a.Emails != nil {
		a.Emails = emails
	}
	if !a.Start.IsZero() && !a.Gateway.IsZero() && !a.Gateway.After(a.Start.Time) {
		d.check(p+".gateway", "%s is not after start %s", a.Gateway, a.Start)
	}
}

// validEmail is deliberately loose: one @ with text on both sides and no
// white space. Whether the address exists is the user's business.
func validEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	return ok && local != "" && domain != "" && !strings.Contains(domain, "@") &&
		!strings.ContainsAny(e, " \t\r\n,;<>")
}

func (d *decoder) sources(c *Config) {
	names := map[string]string{}
	for i := range c.Sources {
		s := &c.Sources[i]
		p := fmt.Sprintf("sources[%d]", i)
		d.uniqueName(p+".name", s.Name, "source", names)
		switch {
		case s.Type == "":
			d.check(p+".type", "required (one of %s)", strings.Join(Types(), ", "))
		case SourceKeys(s.Type) == nil:
			d.check(p+".type", "unknown type %s (types: %s)", quote(s.Type), strings.Join(Types(), ", "))
		case !slices.Contains(Supported(), s.Type):
			d.check(p+".type", "%q is not supported by this version (supported: %s)", s.Type, strings.Join(Supported(), ", "))
		case s.Type == TypeGit:
			d.git(s, p)
		}
	}
}

// uniqueName checks that name, at path, is a slug not used before in seen
// (name → path of its first use); what names the kind in the message.
func (d *decoder) uniqueName(path, name, what string, seen map[string]string) {
	switch {
	case name == "":
		d.check(path, "required")
	case !IsSlug(name):
		d.check(path, "%s is not a slug (%s)", quote(name), slugRule)
	default:
		if first, dup := seen[name]; dup {
			d.check(path, "duplicate %s name %q (first at line %d)", what, name, d.lineOf(first))
		} else {
			seen[name] = path
		}
	}
}

func (d *decoder) git(s *Source, p string) {
	hasURL := d.present(p+".url") && s.URL != ""
	switch {
	case hasURL:
		d.check(p+".url", "remote repositories are not supported yet; clone it and use path")
	case strings.TrimSpace(s.Path) == "":
		d.check(p+".path", "required (the folder of a git repository, relative to this file)")
	default:
		s.Path = d.resolvePath(p+".path", s.Path)
	}
	for i, r := range s.Refs {
		if strings.TrimSpace(r) == "" {
			d.check(fmt.Sprintf("%s.refs[%d]", p, i), "empty; name a branch, tag or commit")
		}
	}
	if s.Auth == nil {
		return
	}
	if !hasURL {
		d.check(p+".auth", "only used with url; a local path needs no credentials")
	}
	if !s.Auth.Password.IsZero() && s.Auth.Username == "" {
		d.check(p+".auth.username", "required with password")
	}
	if !s.Auth.Token.IsZero() && !s.Auth.Password.IsZero() {
		d.check(p+".auth.token", "give either token or password, not both")
	}
	if s.Auth.SSHKey != "" {
		s.Auth.SSHKey = d.resolvePath(p+".auth.ssh_key", s.Auth.SSHKey)
	}
}

func (d *decoder) redact(c *Config) {
	names := map[string]string{}
	for i, pt := range c.Redact.Patterns {
		p := fmt.Sprintf("redact.patterns[%d]", i)
		d.uniqueName(p+".name", pt.Name, "pattern", names)
		if pt.Regex == "" {
			d.check(p+".regex", "required (an RE2 regular expression)")
		} else if _, err := regexp.Compile(pt.Regex); err != nil {
			d.check(p+".regex", "does not compile: %v", err)
		} else if redact.CanMatchEmpty(pt.Regex) {
			d.check(p+".regex", "can match the empty string, so it would match everywhere; make it match at least one character")
		}
	}
	switch c.Redact.Emails {
	case "", redact.EmailsMask, redact.EmailsKeep:
	default:
		d.check("redact.emails", "want %q (the default) or %q, not %q", redact.EmailsMask, redact.EmailsKeep, c.Redact.Emails)
	}
}

// store checks a store location's syntax and resolves a local one.
func (d *decoder) store(s string) string {
	const path = "store"
	switch {
	case strings.HasPrefix(s, "s3://"):
		rest := s[len("s3://"):]
		bucket := rest
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			bucket = rest[:i]
		}
		if !bucketPattern.MatchString(bucket) {
			d.check(path, "s3:// needs a bucket name (3 to 63 lower-case letters, digits, \".\" and \"-\"), as in s3://bucket/prefix")
			return s
		}
		if _, err := url.Parse(s); err != nil {
			// url.Error repeats the URL, which may carry credentials in
			// its query: report only the reason.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			d.check(path, "not a valid s3:// URL: %v", err)
		}
		return s
	case strings.Contains(s, "://"):
		scheme, _, _ := strings.Cut(s, "://")
		d.check(path, "scheme %s is not supported (want ./folder, an absolute path or s3://bucket/prefix)", quote(scheme))
		return s
	case s == "." || s == ".." || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || filepath.IsAbs(s):
		return d.resolvePath(path, s)
	default:
		d.check(path, "%s: want ./folder, an absolute path or s3://bucket/prefix", quote(s))
		return s
	}
}

// resolvePath makes p absolute against the config's folder.
func (d *decoder) resolvePath(path, p string) string {
	if strings.HasPrefix(p, "~") {
		d.check(path, "%s: ~ is not expanded; write the full path or one relative to this file", quote(p))
		return p
	}
	if strings.ContainsRune(p, 0) {
		d.check(path, "contains a NUL byte")
		return p
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(d.dir, p)
}

// looksLikePath tells a catalogue file from a catalogue ID.
func looksLikePath(s string) bool {
	if strings.ContainsAny(s, `/\`) || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~") {
		return true
	}
	switch strings.ToLower(filepath.Ext(s)) {
	case ".yaml", ".yml", ".json", ".txt":
		return true
	}
	return false
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

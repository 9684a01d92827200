package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/ksbfolio/ksbfolio/internal/resyntax"
	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

var (
	slugPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

const slugRule = `lower-case letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64, no ".."`

// IsSlug reports whether s may name an apprentice, a source or a redact
// pattern: ^[a-z0-9][a-z0-9._-]{0,63}$ without "..", which the ledger
// refuses in a key.
func IsSlug(s string) bool { return slugPattern.MatchString(s) && !strings.Contains(s, "..") }

// validate checks what the types cannot say, fills defaults and resolves
// paths. It runs even when the walk found problems, so that everything
// is reported at once.
func (d *decoder) validate(c *Config) {
	d.apprentices(c)

	if d.Present("standard") && strings.TrimSpace(c.Standard) == "" {
		d.Check("standard", "empty; name a catalogue (default %s) or a catalogue file", DefaultStandard)
	} else if c.Standard == "" {
		c.Standard = DefaultStandard
	} else if looksLikePath(c.Standard) {
		c.Standard = d.resolvePath("standard", c.Standard)
	} else if strings.ContainsAny(c.Standard, " \t\r\n") {
		d.Check("standard", "%s: a catalogue ID has no spaces", yamlstrict.Quote(c.Standard))
	}

	if d.Present("store") && strings.TrimSpace(c.Store) == "" {
		d.Check("store", "empty; remove it for the default %s, or give a folder or s3://bucket/prefix", DefaultStore)
	} else {
		if c.Store == "" {
			c.Store = DefaultStore
		}
		c.Store = d.store(c.Store)
	}

	d.sources(c)

	if d.Present("rules") && strings.TrimSpace(c.Rules) == "" {
		d.Check("rules", "empty; remove it or give the path of a rules file")
	} else if c.Rules != "" {
		c.Rules = d.resolvePath("rules", c.Rules)
	}

	d.redact(c)
	d.reviewers(c)

	if c.Pack.MaxItems < 0 {
		d.Check("pack.max_items", "%d: must be 0 or more (0: every evidenced item)", c.Pack.MaxItems)
	}
	if c.Metrics.Pushgateway != "" {
		if !httpURL(c.Metrics.Pushgateway) {
			d.Check("metrics.pushgateway", "want an http:// or https:// URL with a host, like http://pushgateway:9091")
		}
	}
}

func (d *decoder) apprentices(c *Config) {
	switch {
	case c.Apprentice != nil && d.Present("apprentices"):
		d.Check("apprentices", "give either apprentice or apprentices, not both")
	case c.Apprentice == nil && len(c.Apprentices) == 0:
		if d.Present("apprentices") {
			d.Check("apprentices", "empty; list at least one apprentice")
		} else {
			d.Check("apprentice", "required (or a list under apprentices)")
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
			d.Check(p+".id", "duplicate apprentice id %q (first at line %d)", a.ID, d.LineOf(first))
			continue
		}
		ids[a.ID] = p + ".id"
	}
}

func (d *decoder) apprentice(a *Apprentice, p string) {
	switch {
	case a.ID == "":
		d.Check(p+".id", "required")
	case !IsSlug(a.ID):
		d.Check(p+".id", "%s is not a slug (%s)", yamlstrict.Quote(a.ID), slugRule)
	}
	if len(a.Emails) == 0 {
		d.Check(p+".emails", "required (at least one address)")
	}
	var emails []string
	for i, e := range a.Emails {
		e = strings.ToLower(strings.TrimSpace(e))
		if !validEmail(e) {
			d.Check(fmt.Sprintf("%s.emails[%d]", p, i), "%s is not an email address", yamlstrict.Quote(a.Emails[i]))
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
		d.Check(p+".gateway", "%s is not after start %s", a.Gateway, a.Start)
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
	var supported []string
	if d.types != nil {
		supported = d.types.SourceTypeNames()
	}
	list := strings.Join(supported, ", ")
	if list == "" {
		list = "none"
	}
	names := map[string]string{}
	for i := range c.Sources {
		d.checkSource(&c.Sources[i], fmt.Sprintf("sources[%d]", i), names, supported, list)
	}
	// An apprentice's own sources share the names of the top-level ones
	// (they are collected together into one ledger), but not another
	// apprentice's.
	apprentices, prefix := c.Apprentices, "apprentices[%d]"
	if c.Apprentice != nil {
		apprentices, prefix = []Apprentice{*c.Apprentice}, "apprentice"
	}
	for ai, a := range apprentices {
		own := maps.Clone(names)
		p := prefix
		if c.Apprentice == nil {
			p = fmt.Sprintf(prefix, ai)
		}
		for i := range a.Sources {
			d.checkSource(&a.Sources[i], fmt.Sprintf("%s.sources[%d]", p, i), own, supported, list)
		}
	}
}

// checkSource checks one source at path p: its name unique in names, its type
// one this build supports.
func (d *decoder) checkSource(s *Source, p string, names map[string]string, supported []string, list string) {
	d.uniqueName(p+".name", s.Name, "source", names)
	switch {
	case s.Type == "":
		d.Check(p+".type", "required (one of %s)", list)
	case slices.Contains(supported, s.Type):
	case slices.Contains(plannedTypes(), s.Type):
		d.Check(p+".type", "%q is not supported by this version (supported: %s)", s.Type, list)
	default:
		d.Check(p+".type", "unknown type %s (supported: %s)", yamlstrict.Quote(s.Type), list)
	}
}

// uniqueName checks that name, at path, is a slug not used before in seen
// (name → path of its first use); what names the kind in the message.
func (d *decoder) uniqueName(path, name, what string, seen map[string]string) {
	switch {
	case name == "":
		d.Check(path, "required")
	case !IsSlug(name):
		d.Check(path, "%s is not a slug (%s)", yamlstrict.Quote(name), slugRule)
	default:
		if first, dup := seen[name]; dup {
			d.Check(path, "duplicate %s name %q (first at line %d)", what, name, d.LineOf(first))
		} else {
			seen[name] = path
		}
	}
}

func (d *decoder) redact(c *Config) {
	names := map[string]string{}
	for i, pt := range c.Redact.Patterns {
		p := fmt.Sprintf("redact.patterns[%d]", i)
		d.uniqueName(p+".name", pt.Name, "pattern", names)
		if pt.Regex == "" {
			d.Check(p+".regex", "required (an RE2 regular expression)")
		} else if _, err := regexp.Compile(pt.Regex); err != nil {
			d.Check(p+".regex", "does not compile: %v", err)
		} else if resyntax.CanMatchEmpty(pt.Regex) {
			d.Check(p+".regex", "can match the empty string, so it would match everywhere; make it match at least one character")
		}
	}
	switch c.Redact.Emails {
	case "", EmailsMask, EmailsKeep:
	default:
		d.Check("redact.emails", "want %q (the default) or %q, not %q", EmailsMask, EmailsKeep, c.Redact.Emails)
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
			d.Check(path, "s3:// needs a bucket name (3 to 63 lower-case letters, digits, \".\" and \"-\"), as in s3://bucket/prefix")
			return s
		}
		if _, err := url.Parse(s); err != nil {
			// url.Error repeats the URL, which may carry credentials in
			// its query: report only the reason.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			d.Check(path, "not a valid s3:// URL: %v", err)
		}
		return s
	case strings.Contains(s, "://"):
		scheme, _, _ := strings.Cut(s, "://")
		d.Check(path, "scheme %s is not supported (want ./folder, an absolute path or s3://bucket/prefix)", yamlstrict.Quote(scheme))
		return s
	case s == "." || s == ".." || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || filepath.IsAbs(s):
		return d.resolvePath(path, s)
	default:
		d.Check(path, "%s: want ./folder, an absolute path or s3://bucket/prefix", yamlstrict.Quote(s))
		return s
	}
}

// resolvePath makes p absolute against the config's folder.
func (d *decoder) resolvePath(path, p string) string {
	if strings.HasPrefix(p, "~") {
		d.Check(path, "%s: ~ is not expanded; write the full path or one relative to this file", yamlstrict.Quote(p))
		return p
	}
	if strings.ContainsRune(p, 0) {
		d.Check(path, "contains a NUL byte")
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

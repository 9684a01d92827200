package redact

import (
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/resyntax"
)

// Pattern is one configured detector (config key redact.patterns): a rule
// name and an RE2 regular expression. See the package documentation for
// which part of a match is masked.
type Pattern struct {
	Name  string `yaml:"name" json:"name"`
	Regex string `yaml:"regex" json:"regex"`
}

// SecretGroup is the name of the capture group a configured pattern may use
// to say which part of its match is the secret.
const SecretGroup = "secret"

var (
	// namePattern is what a rule name must look like: it appears inside
	// masks and redaction records.
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,40}$`)
)

// Mask returns the text that replaces a secret found by rule.
func Mask(rule string) string { return "[REDACTED:" + rule + "]" }

// Counts says how many secrets each rule masked.
type Counts map[string]int

// Add adds every count of o to c.
func (c Counts) Add(o Counts) {
	for k, v := range o {
		c[k] += v
	}
}

// Total is the number of secrets masked, whatever the rule.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Redactions returns one record per rule with a non-zero count, sorted by
// rule name. It is empty, never nil.
func (c Counts) Redactions() []evidence.Redaction {
	out := make([]evidence.Redaction, 0, len(c))
	for k, v := range c {
		if v > 0 {
			out = append(out, evidence.Redaction{Rule: k, Count: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule < out[j].Rule })
	return out
}

// Redactor masks secrets. It is immutable once built and safe for
// concurrent use.
type Redactor struct {
	rules []rule
	// kw finds every keyword of every detector in one scan; detKw[ri][di]
	// says which keywords (by index) rules[ri].dets[di] uses.
	kw    keywordIndex
	detKw [][][]bool
	// dets lists every detector, rule by rule; whole holds those without
	// keywords (which run on every text) and byKw[k] those using keyword
	// k, by index in dets.
	dets  []detRef
	whole []int
	byKw  [][]int
}

// detRef is detector rules[ri].dets[di].
type detRef struct{ ri, di int }

// Options configure a Redactor.
type Options struct {
	// Patterns are the configured extra detectors (redact.patterns).
	Patterns []Pattern
	// Emails says what happens to e-mail addresses in stored text:
	// EmailsMask (the default, also for "") or EmailsKeep.
	Emails string
	// AllowedEmails are never masked (the apprentice's own addresses);
	// compared without regard to ASCII case.
	AllowedEmails []string
}

// E-mail policies (config key redact.emails).
const (
	EmailsMask = "mask"
	EmailsKeep = "keep"
)

// EmailRule is the rule that masks e-mail addresses. It is not a secret
// format: a binary artefact holding an address is still stored.
const EmailRule = "email"

// New compiles the built-in rules and the configured extra patterns, which
// come after them. A pattern with an invalid or duplicate name (names are
// ^[a-z0-9][a-z0-9-]{0,40}$ and must not repeat a built-in's), whose
// regular expression does not compile, or that can match the empty string
// (see resyntax.CanMatchEmpty), is an error naming it, as is an unknown e-mail
// policy; every such problem is reported, joined.
func New(opts Options) (*Redactor, error) {
	r := &Redactor{rules: builtins()}
	var errs []error
	switch opts.Emails {
	case "", EmailsMask:
		r.rules = append(r.rules, emailRule(opts.AllowedEmails))
	case EmailsKeep:
	default:
		errs = append(errs, fmt.Errorf("redact emails %q: want %q or %q", opts.Emails, EmailsMask, EmailsKeep))
	}
	seen := map[string]bool{EmailRule: true}
	for _, b := range r.rules {
		seen[b.name] = true
	}
	for i, p := range opts.Patterns {
		where := fmt.Sprintf("redact pattern %d (%q)", i+1, p.Name)
		if !namePattern.MatchString(p.Name) {
			errs = append(errs, fmt.Errorf("%s: name must match %s", where, namePattern))
			continue
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("%s: name already used by another rule", where))
			continue
		}
		seen[p.Name] = true
		if p.Regex == "" {
			errs = append(errs, fmt.Errorf("%s: regex is empty", where))
			continue
		}
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: compile regex: %w", where, err))
			continue
		}
		if resyntax.CanMatchEmpty(p.Regex) {
			errs = append(errs, fmt.Errorf("%s: regex can match the empty string (it would match everywhere)", where))
			continue
		}
		d := detector{re: re, configured: true}
		if g := re.SubexpIndex(SecretGroup); g > 0 {
			d.groups = []int{g}
		} else if re.NumSubexp() > 0 {
			d.groups = []int{1}
		}
		r.rules = append(r.rules, rule{name: p.Name, doc: "configured pattern", dets: []detector{d}})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	r.index()
	return r, nil
}

// index builds the keyword index of r.rules.
func (r *Redactor) index() {
	for _, ru := range r.rules {
		for _, d := range ru.dets {
			for _, k := range d.keywords {
				r.kw.add(k, d.fold)
			}
			if d.context != "" {
				r.kw.add(d.context, true)
			}
		}
	}
	r.kw.sortBuckets()
	r.detKw = make([][][]bool, len(r.rules))
	for ri, ru := range r.rules {
		r.detKw[ri] = make([][]bool, len(ru.dets))
		for di, d := range ru.dets {
			uses := make([]bool, len(r.kw.words))
			for _, k := range d.keywords {
				uses[r.kw.add(k, d.fold)] = true
			}
			r.detKw[ri][di] = uses
		}
	}
	r.byKw = make([][]int, len(r.kw.words))
	for ri, ru := range r.rules {
		for di, d := range ru.dets {
			f := len(r.dets)
			r.dets = append(r.dets, detRef{ri, di})
			if len(d.keywords) == 0 {
				r.whole = append(r.whole, f)
				continue
			}
			for k, uses := range r.detKw[ri][di] {
				if uses {
					r.byKw[k] = append(r.byKw[k], f)
				}
			}
		}
	}
}

// Rules returns the rule names, built-in first, in priority order.
func (r *Redactor) Rules() []string {
	out := make([]string, len(r.rules))
	for i, ru := range r.rules {
		out[i] = ru.name
	}
	return out
}

// String masks every secret in s and counts them per rule. The result is
// a fixed point: String of it returns it unchanged, with no counts.
func (r *Redactor) String(s string) (string, Counts) {
	counts := Counts{}
	s, _ = r.mask(s, counts)
	return s, counts
}

// mask is String adding to counts (which may be nil: not counted); it
// reports whether s changed, and returns s itself when it did not.
func (r *Redactor) mask(s string, counts Counts) (string, bool) {
	changed := false
	for range maxPasses {
		out, ok := r.pass(s, counts)
		if !ok {
			return s, changed
		}
		// Masking can bring a new match into being (a key next to a
		// mask, say); go again until nothing changes. Masks are opaque
		// to every detector, so this ends after a pass or two; the
		// bound keeps the work linear whatever the patterns.
		s, changed = out, true
	}
	return s, changed
}

// maxPasses bounds how many times String goes over a text.
const maxPasses = 4

// Bytes is String for text artefacts. When nothing is masked it returns b
// itself, otherwise a new slice.
func (r *Redactor) Bytes(b []byte) ([]byte, Counts) {
	out, c := r.String(string(b))
	if len(c) == 0 { // every change is counted
		return b, c
	}
	return []byte(out), c
}

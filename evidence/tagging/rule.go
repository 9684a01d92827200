// Package tagging suggests which KSBs an evidence item shows, by applying
// declarative rules, and keeps what the apprentice declared.
//
// # Rules
//
// A rule says: when an item matches these conditions, suggest these KSBs,
// for this reason, with this confidence. Rules are YAML:
//
//	rules:
//	  - id: live-monitoring          # ^[a-z0-9][a-z0-9-]{0,63}$, unique
//	    ksbs: [S10]                   # at least one
//	    reason: "Changes monitoring or alerting of a live model"
//	    confidence: 0.6               # (0,1], default 0.5
//	    match:                        # every condition given must hold (AND)
//	      kinds: [commit, merge]      # any of (OR)
//	      source_types: [git]         # any of
//	      paths: ["monitoring/**"]    # doublestar globs; any changed file matching any glob
//	      text: '(?i)\bdrift\b'       # RE2 against title + "\n" + summary
//	      facts: {status: "^FINISHED$"}   # dotted path into facts → RE2 against its text
//
// The package embeds a set of default rules (Builtin). A user rules file
// (ParseRules) adds to them: a rule with the id of a built-in rule replaces
// it, and `{id: …, disable: true}` removes it (Merge).
//
// # Tagging
//
// Compile checks the rules against a KSB catalogue and gives a Tagger.
// Tagger.Tag replaces an item's rule tags ("rule:<id>") with fresh ones and
// keeps every declared tag ("declared:…"), even one naming a KSB the
// catalogue lacks. Rule tags are suggestions: coverage never counts a KSB as
// evidenced on the strength of one until a person accepts it.
package tagging

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// DefaultConfidence is a rule's confidence when the rule does not give one.
const DefaultConfidence = 0.5

// Rule is one tagging rule, as written in a rules file.
type Rule struct {
	// ID names the rule; tags it makes have By "rule:<ID>".
	ID string `yaml:"id" json:"id"`
	// KSBs are the KSB IDs the rule suggests, normalised ("S10").
	KSBs []string `yaml:"ksbs,omitempty" json:"ksbs,omitempty"`
	// Reason is the one line shown to the apprentice and the assessor.
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
	// Confidence is in (0,1]. Zero means DefaultConfidence.
	Confidence float64 `yaml:"confidence,omitempty" json:"confidence,omitempty"`
	// Disable removes the built-in rule with the same ID (and this rule).
	Disable bool `yaml:"disable,omitempty" json:"disable,omitempty"`
	// Match holds the conditions; all those given must hold.
	Match Match `yaml:"match,omitempty" json:"match,omitempty"`

	// Origin is where the rule was read ("rules.yaml:7"), for messages;
	// empty for rules built in code.
	Origin string `yaml:"-" json:"-"`
	// Builtin marks a rule from Builtin. Compile drops a KSB that the
	// catalogue lacks from a built-in rule with a warning, where for any
	// other rule it is an error.
	Builtin bool `yaml:"-" json:"-"`
}

// Match holds a rule's conditions. Every condition that is set must hold;
// within a list, any element may match. A Match with no condition set is
// invalid (it would tag everything).
type Match struct {
	// Kinds: the item's kind is one of these.
	Kinds []evidence.Kind `yaml:"kinds,omitempty" json:"kinds,omitempty"`
	// SourceTypes: the item's source type is one of these ("git", "mlflow").
	SourceTypes []string `yaml:"source_types,omitempty" json:"source_types,omitempty"`
	// Paths: doublestar globs; some entry of facts.files has a "path" that
	// matches one of them.
	Paths []string `yaml:"paths,omitempty" json:"paths,omitempty"`
	// Text: an RE2 expression that matches title + "\n" + summary.
	Text string `yaml:"text,omitempty" json:"text,omitempty"`
	// Facts: dotted path into the item's facts → an RE2 expression that
	// matches the value rendered as text (a string as it is, anything else
	// as JSON). The fact must exist.
	Facts map[string]string `yaml:"facts,omitempty" json:"facts,omitempty"`
}

// empty reports whether no condition is set.
func (m Match) empty() bool {
	return len(m.Kinds) == 0 && len(m.SourceTypes) == 0 && len(m.Paths) == 0 &&
		m.Text == "" && len(m.Facts) == 0
}

// RuleSet is the top level of a rules file.
type RuleSet struct {
	Rules []Rule `yaml:"rules" json:"rules"`
}

// where names a rule in messages: its ID and, when known, its origin.
func (r Rule) where() string {
	kind := "rule"
	if r.Builtin {
		kind = "built-in rule"
	}
	if r.Origin != "" {
		return fmt.Sprintf("%s %q (%s)", kind, r.ID, r.Origin)
	}
	return fmt.Sprintf("%s %q", kind, r.ID)
}

var ruleIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// The checks below are shared by the YAML parser, which attaches a line and
// path to each message, and by Compile, which checks rules built in code.

func checkID(id string) error {
	if id == "" {
		return errors.New("required")
	}
	if !ruleIDPattern.MatchString(id) {
		return fmt.Errorf("%q: want lower-case letters, digits and '-', starting with a letter or digit, at most 64 characters", id)
	}
	return nil
}

func checkKSB(raw string) (string, error) {
	k := evidence.NormalizeKSB(raw)
	if !evidence.LooksLikeKSB(k) {
		return "", fmt.Errorf("%q: not a KSB ID (want K, S or B and a number, e.g. S10)", raw)
	}
	return k, nil
}

func checkReason(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("required")
	}
	if strings.ContainsAny(s, "\r\n") {
		return errors.New("must be one line")
	}
	return nil
}

func checkConfidence(c float64) error {
	if !(c > 0 && c <= 1) { // also rejects NaN
		return fmt.Errorf("%v: want a number in (0,1]", c)
	}
	return nil
}

func checkKind(k string) error {
	if !evidence.Kind(k).Valid() {
		names := make([]string, len(evidence.Kinds))
		for i, x := range evidence.Kinds {
			names[i] = string(x)
		}
		return fmt.Errorf("%q: unknown kind (want one of %s)", k, strings.Join(names, ", "))
	}
	return nil
}

func checkSourceType(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty source type")
	}
	return nil
}

func checkGlob(g string) error {
	if g == "" {
		return errors.New("empty glob")
	}
	if !doublestar.ValidatePattern(g) {
		return fmt.Errorf("%q: invalid glob", g)
	}
	return nil
}

func checkRegexp(s string) (*regexp.Regexp, error) {
	if s == "" {
		return nil, errors.New("empty expression")
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("invalid RE2 expression: %w", err)
	}
	return re, nil
}

func checkFactKey(k string) error {
	if k == "" {
		return errors.New("empty fact key")
	}
	for _, seg := range strings.Split(k, ".") {
		if seg == "" {
			return fmt.Errorf("%q: empty segment in dotted fact path", k)
		}
	}
	return nil
}

// check validates a rule built in code (or re-validates a parsed one) and
// returns one "field: message" string per problem.
func (r Rule) check() []string {
	var out []string
	add := func(path string, err error) {
		if err != nil {
			out = append(out, path+": "+err.Error())
		}
	}
	add("id", checkID(r.ID))
	if r.Disable {
		return out
	}
	if len(r.KSBs) == 0 {
		out = append(out, "ksbs: at least one KSB required")
	}
	for i, k := range r.KSBs {
		_, err := checkKSB(k)
		add(fmt.Sprintf("ksbs[%d]", i), err)
	}
	add("reason", checkReason(r.Reason))
	if r.Confidence != 0 {
		add("confidence", checkConfidence(r.Confidence))
	}
	if r.Match.empty() {
		out = append(out, "match: at least one condition required")
	}
	for i, k := range r.Match.Kinds {
		add(fmt.Sprintf("match.kinds[%d]", i), checkKind(string(k)))
	}
	for i, s := range r.Match.SourceTypes {
		add(fmt.Sprintf("match.source_types[%d]", i), checkSourceType(s))
	}
	for i, g := range r.Match.Paths {
		add(fmt.Sprintf("match.paths[%d]", i), checkGlob(g))
	}
	if r.Match.Text != "" {
		_, err := checkRegexp(r.Match.Text)
		add("match.text", err)
	}
	for _, k := range sortedKeys(r.Match.Facts) {
		add("match.facts."+k, checkFactKey(k))
		_, err := checkRegexp(r.Match.Facts[k])
		add("match.facts."+k, err)
	}
	return out
}

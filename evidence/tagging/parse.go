package tagging

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

// maxNodes bounds the work of walking a rules file whose aliases expand a
// small text into a huge tree.
const maxNodes = 200_000

// ParseRules reads a rules file. name is used in messages only. Decoding is
// strict: unknown keys, wrong types, missing fields, duplicate keys or IDs,
// unknown kinds, bad expressions and bad globs are all reported at once, as
// a *yamlstrict.Error whose lines read "name:line: path: message" (a
// problem's Line is 1-based, or 0 when unknown; its Path names the key,
// "rules[1].match.paths[0]", and is empty for the file as a whole), in
// file order. KSB IDs are normalised, and a missing confidence becomes
// DefaultConfidence. Every rule's Origin is "name:line". An empty file
// holds no rules.
//
// The file is walked with the strict YAML walker shared with the config
// file (internal/yamlstrict): it reads the document, checks every
// mapping's keys and follows aliases within a budget; this file says what
// each key means.
func ParseRules(name string, data []byte) ([]Rule, error) {
	d := yamlstrict.New(name)
	d.MaxNodes = maxNodes
	p := &parser{d: d, name: name}
	var rules []Rule
	if root := d.Read(data); root != nil {
		rules = p.document(root)
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return rules, nil
}

// parser says what each key of a rules file means; its problems are
// recorded with the walker's, in the order found.
type parser struct {
	d    *yamlstrict.Decoder
	name string
}

// resolve follows aliases and counts the node against the walker's
// budget. It returns nil once the budget is spent (that is reported once).
func (p *parser) resolve(n *yaml.Node, path string) *yaml.Node {
	if n == nil {
		return nil
	}
	r, ok := p.d.Resolve(n, path, n.Line)
	if !ok {
		return nil
	}
	return r
}

// describe names a node's type for "want X, got Y" messages. Unlike the
// config file's, it shows the value: rules hold no secrets.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!bool":
			return "boolean " + n.Value
		case "!!int", "!!float":
			return "number " + n.Value
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		}
		return fmt.Sprintf("%s %q", n.Tag, n.Value)
	}
	return "something else"
}

// entry is one key/value pair of a mapping, its value resolved.
type entry struct {
	key   string
	path  string
	kline int
	val   *yaml.Node
}

// mapping returns the pairs of a mapping node; the walker reports keys
// that are not plain strings, merge keys, duplicate keys and keys not in
// known (any key when known is empty).
func (p *parser) mapping(n *yaml.Node, path string, known ...string) []entry {
	var out []entry
	for _, e := range p.d.Keys(n, path, known, "") {
		v := p.resolve(e.Value, e.Path)
		if v == nil {
			return out
		}
		out = append(out, entry{key: e.Key, path: e.Path, kline: e.Line, val: v})
	}
	return out
}

func (p *parser) document(root *yaml.Node) []Rule {
	root = p.resolve(root, "")
	if root == nil || yamlstrict.IsNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.d.Problemf(root.Line, "", "want a mapping with a `rules:` list, got %s", describe(root))
		return nil
	}
	var rules []Rule
	for _, e := range p.mapping(root, "", "rules") {
		rules = p.ruleList(e.val, "rules")
	}
	return rules
}

func (p *parser) ruleList(n *yaml.Node, path string) []Rule {
	if yamlstrict.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.d.Problemf(n.Line, path, "want a list of rules, got %s", describe(n))
		return nil
	}
	var rules []Rule
	ids := map[string]int{}
	for i, c := range n.Content {
		rp := fmt.Sprintf("%s[%d]", path, i)
		c = p.resolve(c, rp)
		if c == nil {
			break
		}
		r, idLine, ok := p.rule(c, rp)
		if r.ID != "" {
			if first, dup := ids[r.ID]; dup {
				p.d.Problemf(idLine, rp+".id", "duplicate rule id %q (first at line %d)", r.ID, first)
				continue
			}
			ids[r.ID] = idLine
		}
		if ok {
			rules = append(rules, r)
		}
	}
	return rules
}

// rule parses one rule. ok is false when the rule has problems (they are
// recorded) or no usable ID.
func (p *parser) rule(n *yaml.Node, path string) (r Rule, idLine int, ok bool) {
	if n.Kind != yaml.MappingNode {
		p.d.Problemf(n.Line, path, "want a rule (a mapping), got %s", describe(n))
		return r, 0, false
	}
	before := len(p.d.Problems())
	r.Origin = fmt.Sprintf("%s:%d", p.name, n.Line)
	idLine = n.Line
	var haveID, haveKSBs, haveReason, haveMatch bool
	var ksbsGiven, conditionsGiven int // raw entries, valid or not
	for _, e := range p.mapping(n, path, "id", "ksbs", "reason", "confidence", "match", "disable") {
		fp := e.path
		switch e.key {
		case "id":
			haveID = true
			idLine = e.val.Line
			if s, good := p.str(e.val, fp); good {
				r.ID = s
				if err := checkID(s); err != nil {
					p.d.Problemf(e.val.Line, fp, "%v", err)
				}
			}
		case "ksbs":
			haveKSBs = true
			list := p.strList(e.val, fp)
			ksbsGiven = len(list)
			if e.val.Kind != yaml.SequenceNode {
				ksbsGiven = -1 // already reported
			}
			for i, s := range list {
				if s.ok {
					if k, err := checkKSB(s.val); err != nil {
						p.d.Problemf(s.line, fmt.Sprintf("%s[%d]", fp, i), "%v", err)
					} else if !slices.Contains(r.KSBs, k) {
						r.KSBs = append(r.KSBs, k)
					}
				}
			}
		case "reason":
			haveReason = true
			if s, good := p.str(e.val, fp); good {
				r.Reason = strings.TrimSpace(s)
				if err := checkReason(s); err != nil {
					p.d.Problemf(e.val.Line, fp, "%v", err)
				}
			}
		case "confidence":
			if e.val.Kind != yaml.ScalarNode || (e.val.Tag != "!!float" && e.val.Tag != "!!int") {
				p.d.Problemf(e.val.Line, fp, "want a number in (0,1], got %s", describe(e.val))
				break
			}
			var c float64
			if err := e.val.Decode(&c); err != nil {
				p.d.Problemf(e.val.Line, fp, "want a number in (0,1], got %q", e.val.Value)
				break
			}
			if err := checkConfidence(c); err != nil {
				p.d.Problemf(e.val.Line, fp, "%v", err)
			}
			r.Confidence = c
		case "disable":
			if e.val.Kind != yaml.ScalarNode || e.val.Tag != "!!bool" {
				p.d.Problemf(e.val.Line, fp, "want true or false, got %s", describe(e.val))
				break
			}
			if err := e.val.Decode(&r.Disable); err != nil {
				p.d.Problemf(e.val.Line, fp, "want true or false, got %q", e.val.Value)
			}
		case "match":
			haveMatch = true
			r.Match, conditionsGiven = p.match(e.val, fp)
		}
	}
	if !haveID {
		p.d.Problemf(n.Line, yamlstrict.KeyPath(path, "id"), "required")
	}
	if !r.Disable {
		if !haveKSBs {
			p.d.Problemf(n.Line, yamlstrict.KeyPath(path, "ksbs"), "required (at least one KSB)")
		} else if ksbsGiven == 0 {
			p.d.Problemf(n.Line, yamlstrict.KeyPath(path, "ksbs"), "at least one KSB required")
		}
		if !haveReason {
			p.d.Problemf(n.Line, yamlstrict.KeyPath(path, "reason"), "required")
		}
		if !haveMatch {
			p.d.Problemf(n.Line, yamlstrict.KeyPath(path, "match"), "required (at least one condition)")
		} else if conditionsGiven == 0 {
			p.d.Problemf(n.Line, yamlstrict.KeyPath(path, "match"), "at least one condition required")
		}
	}
	if r.Confidence == 0 {
		r.Confidence = DefaultConfidence
	}
	return r, idLine, len(p.d.Problems()) == before
}

// match parses a rule's conditions; given counts the conditions written,
// valid or not (-1 when match is not a mapping, already reported).
func (p *parser) match(n *yaml.Node, path string) (m Match, given int) {
	if yamlstrict.IsNull(n) {
		return m, 0
	}
	if n.Kind != yaml.MappingNode {
		p.d.Problemf(n.Line, path, "want a mapping of conditions, got %s", describe(n))
		return m, -1
	}
	given = len(n.Content) / 2
	for _, e := range p.mapping(n, path, "kinds", "source_types", "paths", "text", "facts") {
		fp := e.path
		if yamlstrict.IsNull(e.val) || ((e.val.Kind == yaml.SequenceNode || e.val.Kind == yaml.MappingNode) && len(e.val.Content) == 0) {
			p.d.Problemf(e.val.Line, fp, "empty: give at least one, or leave the condition out")
			continue
		}
		switch e.key {
		case "kinds":
			for i, s := range p.strList(e.val, fp) {
				if s.ok {
					if err := checkKind(s.val); err != nil {
						p.d.Problemf(s.line, fmt.Sprintf("%s[%d]", fp, i), "%v", err)
						continue
					}
					m.Kinds = append(m.Kinds, evidence.Kind(s.val))
				}
			}
		case "source_types":
			for i, s := range p.strList(e.val, fp) {
				if s.ok {
					if err := checkSourceType(s.val); err != nil {
						p.d.Problemf(s.line, fmt.Sprintf("%s[%d]", fp, i), "%v", err)
						continue
					}
					m.SourceTypes = append(m.SourceTypes, s.val)
				}
			}
		case "paths":
			for i, s := range p.strList(e.val, fp) {
				if s.ok {
					if err := checkGlob(s.val); err != nil {
						p.d.Problemf(s.line, fmt.Sprintf("%s[%d]", fp, i), "%v", err)
						continue
					}
					m.Paths = append(m.Paths, s.val)
				}
			}
		case "text":
			if s, good := p.str(e.val, fp); good {
				if _, err := checkRegexp(s); err != nil {
					p.d.Problemf(e.val.Line, fp, "%v", err)
				}
				m.Text = s
			}
		case "facts":
			m.Facts = p.facts(e.val, fp)
		}
	}
	return m, given
}

func (p *parser) facts(n *yaml.Node, path string) map[string]string {
	if n.Kind != yaml.MappingNode {
		p.d.Problemf(n.Line, path, "want a mapping of fact path to expression, got %s", describe(n))
		return nil
	}
	out := map[string]string{}
	for _, e := range p.mapping(n, path) {
		fp := e.path
		if err := checkFactKey(e.key); err != nil {
			p.d.Problemf(e.kline, fp, "%v", err)
			continue
		}
		if s, good := p.str(e.val, fp); good {
			if _, err := checkRegexp(s); err != nil {
				p.d.Problemf(e.val.Line, fp, "%v", err)
				continue
			}
			out[e.key] = s
		}
	}
	return out
}

// str reads a string scalar.
func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.d.Problemf(n.Line, path, "want a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

type listItem struct {
	val  string
	line int
	ok   bool
}

// strList reads a list of string scalars; bad elements are reported and
// come back with ok false.
func (p *parser) strList(n *yaml.Node, path string) []listItem {
	if n.Kind != yaml.SequenceNode {
		p.d.Problemf(n.Line, path, "want a list, got %s", describe(n))
		return nil
	}
	out := make([]listItem, 0, len(n.Content))
	for i, c := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		c = p.resolve(c, ip)
		if c == nil {
			break
		}
		s, ok := p.str(c, ip)
		out = append(out, listItem{val: s, line: c.Line, ok: ok})
	}
	return out
}

// contains reports whether list holds s.
func contains(list []string, s string) bool { return slices.Contains(list, s) }

package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

// Portfolio says what the portfolio must cover.
type Portfolio struct {
	// Covers is the set of KSBs that coverage counts and gateway
	// readiness is judged on. Default: those the professional discussion
	// assesses.
	Covers Covers `yaml:"covers,omitempty" json:"covers,omitzero"`
}

// Covers is portfolio.covers: the ID of an assessment method
// ("professional_discussion", the default; "project"), "all", or a list of
// KSB IDs. The zero Covers is the default. Whether the method or the KSBs
// exist is checked where the catalogue is loaded, not here.
type Covers struct {
	Set  string   // a method ID or "all"; "" when KSBs are listed or for the default
	KSBs []string // the listed KSB IDs, upper-cased, in the file's order
}

// IsZero reports whether c is the default.
func (c Covers) IsZero() bool { return c.Set == "" && len(c.KSBs) == 0 }

// MarshalYAML writes the set's name or the list.
func (c Covers) MarshalYAML() (any, error) {
	if len(c.KSBs) > 0 {
		return c.KSBs, nil
	}
	return c.Set, nil
}

// MarshalJSON writes the set's name or the list.
func (c Covers) MarshalJSON() ([]byte, error) {
	if len(c.KSBs) > 0 {
		return json.Marshal(c.KSBs)
	}
	return json.Marshal(c.Set)
}

var (
	methodPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	ksbPattern    = regexp.MustCompile(`^[KSB][1-9][0-9]{0,2}$`)
)

// covers decodes portfolio.covers: a method name or "all", or a list of
// KSB IDs (at least one, no duplicates). Each bad list item is its own
// problem.
func (d *decoder) covers(n *yaml.Node, path string, line int) (any, error) {
	const want = "want professional_discussion, project (an assessment method), all, or a list of KSB IDs"
	var c Covers
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() != "!!str" || !methodPattern.MatchString(n.Value) {
			return nil, fmt.Errorf("%s: %s", yamlstrict.Quote(n.Value), want)
		}
		c.Set = n.Value
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, errors.New("an empty list covers nothing; remove it for the default (professional_discussion)")
		}
		first := map[string]int{}
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
				d.Problemf(item.Line, path, "want KSB IDs such as K1 or S24, got %s", yamlstrict.Describe(item))
				continue
			}
			id := strings.ToUpper(strings.TrimSpace(item.Value))
			if !ksbPattern.MatchString(id) {
				d.Problemf(item.Line, path, "%s is not a KSB ID (K, S or B and a number, such as S24)", yamlstrict.Quote(item.Value))
				continue
			}
			if l, dup := first[id]; dup {
				d.Problemf(item.Line, path, "%s is listed twice (first at line %d)", id, l)
				continue
			}
			first[id] = item.Line
			c.KSBs = append(c.KSBs, id)
		}
	default:
		return nil, yamlstrict.ErrWrongType
	}
	return c, nil
}

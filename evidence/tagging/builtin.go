package tagging

import (
	_ "embed"
)

//go:embed builtin.yaml
var builtinYAML []byte

// BuiltinName is the name built-in rules carry in messages and origins.
const BuiltinName = "builtin.yaml"

// Builtin returns the default rules embedded in the binary, marked Builtin,
// as a fresh slice the caller may change. The package tests check that the
// embedded file parses and that its rules name only KSBs of the built-in
// ST1398 catalogue; were it ever unreadable, Builtin would return no rules.
func Builtin() []Rule {
	rules, err := ParseRules(BuiltinName, builtinYAML)
	if err != nil {
		return nil
	}
	for i := range rules {
		rules[i].Builtin = true
	}
	return rules
}

// Merge applies user rules to the built-in ones and returns the rules to
// compile, built-in first in their order, then the user's new rules in
// theirs:
//   - a user rule with the ID of a built-in rule replaces it in place;
//   - a user rule with Disable set removes the rule with its ID (built-in
//     or user) and is not itself kept;
//   - of several user rules with one ID, the last wins.
//
// Neither input is changed.
func Merge(builtin, user []Rule) []Rule {
	last := map[string]int{}
	for i, r := range user {
		last[r.ID] = i
	}
	used := map[string]bool{}
	out := make([]Rule, 0, len(builtin)+len(user))
	for _, b := range builtin {
		if b.Disable {
			continue
		}
		if i, ok := last[b.ID]; ok {
			used[b.ID] = true
			if !user[i].Disable {
				out = append(out, cloneRule(user[i]))
			}
			continue
		}
		out = append(out, cloneRule(b))
	}
	for i, r := range user {
		if used[r.ID] || last[r.ID] != i || r.Disable {
			continue
		}
		out = append(out, cloneRule(r))
	}
	return out
}

func cloneRule(r Rule) Rule {
	r.KSBs = append([]string(nil), r.KSBs...)
	r.Match.Kinds = append(r.Match.Kinds[:0:0], r.Match.Kinds...)
	r.Match.SourceTypes = append([]string(nil), r.Match.SourceTypes...)
	r.Match.Paths = append([]string(nil), r.Match.Paths...)
	if r.Match.Facts != nil {
		f := make(map[string]string, len(r.Match.Facts))
		for k, v := range r.Match.Facts {
			f[k] = v
		}
		r.Match.Facts = f
	}
	return r
}

package gitlog

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// isGlob reports whether a Refs entry is a pattern.
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// globRegexp compiles a ref pattern the way git's --glob matches refs: '*'
// matches any run of characters, '/' included; '?' one character; [...] a
// class ([!...] or [^...] negated).
func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(pattern[i+1:], ']')
			if j < 0 {
				return nil, fmt.Errorf("pattern %q: unclosed [", pattern)
			}
			class := pattern[i+1 : i+1+j]
			if class == "" {
				return nil, fmt.Errorf("pattern %q: empty []", pattern)
			}
			neg := class[0] == '!' || class[0] == '^'
			if neg {
				class = class[1:]
			}
			b.WriteString("[")
			if neg {
				b.WriteString("^")
			}
			for _, r := range class {
				if r == '-' {
					b.WriteRune(r)
					continue
				}
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
			b.WriteString("]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// resolveRefs finds the commits to start from: full ref name (or "HEAD")
// → the commit it points at (annotated tags peeled, except the hashes in
// known, which are commits). Entries that match
// nothing are returned in unmatched.
func resolveRefs(repo *git.Repository, objs objectSource, patterns, excludes []string, known map[plumbing.Hash]bool) (tips map[string]plumbing.Hash, unmatched []string, err error) {
	all := map[string]plumbing.Hash{}
	iter, err := repo.References()
	if err != nil {
		return nil, nil, fmt.Errorf("list refs: %w", err)
	}
	err = iter.ForEach(func(r *plumbing.Reference) error {
		name := r.Name().String()
		if name == "HEAD" {
			return nil
		}
		h := r.Hash()
		if r.Type() == plumbing.SymbolicReference {
			rr, err := repo.Reference(r.Name(), true)
			if err != nil {
				return nil // dangling symbolic ref
			}
			h = rr.Hash()
		}
		all[name] = h
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list refs: %w", err)
	}
	head := func() (plumbing.Hash, bool, error) {
		h, err := repo.Head()
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return plumbing.ZeroHash, false, nil // unborn branch: no commits yet
		}
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("resolve HEAD: %w", err)
		}
		return h.Hash(), true, nil
	}

	tips = map[string]plumbing.Hash{}
	if len(patterns) == 0 {
		for name, h := range all {
			if strings.HasPrefix(name, "refs/heads/") {
				tips[name] = h
			}
		}
		if len(tips) == 0 {
			h, ok, err := head()
			if err != nil {
				return nil, nil, err
			}
			if ok {
				tips["HEAD"] = h
			}
		}
	}
	for _, p := range patterns {
		n := len(tips)
		switch {
		case p == "HEAD":
			h, ok, err := head()
			if err != nil {
				return nil, nil, err
			}
			if ok {
				tips["HEAD"] = h
			}
		case isGlob(p):
			re, err := globRegexp(p)
			if err != nil {
				return nil, nil, err
			}
			for name, h := range all {
				if re.MatchString(name) {
					tips[name] = h
				}
			}
		case strings.HasPrefix(p, "refs/"):
			if h, ok := all[p]; ok {
				tips[p] = h
			}
		default:
			for _, prefix := range []string{"refs/heads/", "refs/tags/", "refs/remotes/"} {
				if h, ok := all[prefix+p]; ok {
					tips[prefix+p] = h
					break
				}
			}
		}
		if len(tips) == n {
			unmatched = append(unmatched, p)
		}
	}
	for name := range tips {
		if excluded(name, excludes) {
			delete(tips, name)
		}
	}
	for name, h := range tips {
		if !known[h] {
			tips[name] = peel(objs, h)
		}
	}
	return tips, unmatched, nil
}

// excluded reports whether ref name (full, or HEAD) matches one of the
// exclude_refs entries: a pattern, a full name, or a branch or tag name.
func excluded(name string, excludes []string) bool {
	for _, x := range excludes {
		if isGlob(x) {
			if re, err := globRegexp(x); err == nil && re.MatchString(name) {
				return true
			}
			continue
		}
		if name == x || name == "refs/heads/"+x || name == "refs/tags/"+x || name == "refs/remotes/"+x {
			return true
		}
	}
	return false
}

// peel follows annotated tags to what they point at. A missing or odd
// object is returned as it is; the walk reports it.
func peel(s objectSource, h plumbing.Hash) plumbing.Hash {
	for range 10 {
		o, err := s.EncodedObject(plumbing.AnyObject, h)
		if err != nil || o.Type() != plumbing.TagObject {
			return h
		}
		t, err := object.DecodeTag(nil, o)
		if err != nil {
			return h
		}
		h = t.Target
	}
	return h
}

// sortedRefNames returns the keys of tips in order, for stable output.
func sortedRefNames(tips map[string]plumbing.Hash) []string {
	names := make([]string, 0, len(tips))
	for n := range tips {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

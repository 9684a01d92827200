package gitlog

import (
	"bytes"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// coAuthor is one Co-authored-by trailer.
type coAuthor struct{ name, email string }

var coAuthoredKey = []byte("co-authored-by:")

// coAuthors reads the Co-authored-by trailers of a raw commit object or a
// message: lines "Co-authored-by: Name <email>" (key case-insensitive)
// after the headers. At most 50 are read.
func coAuthors(raw []byte) []coAuthor {
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 && bytes.HasPrefix(raw, []byte("tree ")) {
		raw = raw[i+2:] // a raw commit: the message only
	}
	if !mayHaveCoAuthors(raw) {
		return nil
	}
	var out []coAuthor
	for _, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) < len(coAuthoredKey) || !bytes.EqualFold(line[:len(coAuthoredKey)], coAuthoredKey) {
			continue
		}
		v := line[len(coAuthoredKey):]
		open, closeAt := bytes.LastIndexByte(v, '<'), bytes.LastIndexByte(v, '>')
		if open < 0 || closeAt < open {
			continue
		}
		email := strings.TrimSpace(string(v[open+1 : closeAt]))
		if email == "" {
			continue
		}
		out = append(out, coAuthor{name: strings.TrimSpace(string(v[:open])), email: email})
		if len(out) == 50 {
			break
		}
	}
	return out
}

// mayHaveCoAuthors is a quick test before the line scan: the trailer key
// as people and tools spell it (Co-authored-by, Co-Authored-By, CO-AUTHORED-BY).
func mayHaveCoAuthors(b []byte) bool {
	return bytes.Contains(b, []byte("uthored-by:")) || bytes.Contains(b, []byte("uthored-By:")) ||
		bytes.Contains(b, []byte("UTHORED-BY:"))
}

// attributes are the diff attributes of a repository's root
// .gitattributes (read from HEAD's tree, as .mailmap is): a path whose
// last matching line sets "binary" or "-diff" is counted as binary (0/0),
// as git's numstat does.
type attributes struct {
	rules []attrRule
}

type attrRule struct {
	pattern string // doublestar, against the full path (anchored) or the base name
	base    bool   // the pattern has no slash: it matches the base name
	binary  bool   // true: binary or -diff; false: diff (text again)
}

// maxAttributesBytes: a larger .gitattributes is not read.
const maxAttributesBytes = 1 << 20

// parseAttributes reads the diff settings of a .gitattributes file.
// Macros other than binary, negative patterns and quoted patterns are
// ignored, as git ignores what it cannot parse.
func parseAttributes(b []byte) *attributes {
	a := &attributes{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], "!") || strings.HasPrefix(f[0], `"`) {
			continue
		}
		state := 0 // 1 binary, -1 text
		for _, at := range f[1:] {
			switch at {
			case "binary", "-diff":
				state = 1
			case "diff":
				state = -1
			}
		}
		if state == 0 {
			continue
		}
		p := f[0]
		r := attrRule{binary: state == 1}
		if strings.HasSuffix(p, "/") {
			continue // a folder pattern matches nothing in .gitattributes
		}
		if strings.Contains(p, "/") {
			r.pattern = strings.TrimPrefix(p, "/")
		} else {
			r.pattern, r.base = p, true
		}
		if !doublestar.ValidatePattern(r.pattern) {
			continue
		}
		a.rules = append(a.rules, r)
	}
	return a
}

// binary reports whether the attributes mark path as binary.
func (a *attributes) binary(path string) bool {
	if a == nil {
		return false
	}
	bin := false
	base := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		base = path[i+1:]
	}
	for _, r := range a.rules {
		subject := path
		if r.base {
			subject = base
		}
		if ok, _ := doublestar.Match(r.pattern, subject); ok {
			bin = r.binary
		}
	}
	return bin
}

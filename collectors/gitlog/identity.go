package gitlog

import (
	"bytes"
	"strings"
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

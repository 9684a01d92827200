package gitlog

import (
	"bufio"
	"bytes"
	"strings"
)

// mailmap maps the identities written in commits to canonical ones, as
// git's .mailmap does (gitmailmap(5)). The four line forms are:
//
//	Proper Name <commit@email>
//	<proper@email> <commit@email>
//	Proper Name <proper@email> <commit@email>
//	Proper Name <proper@email> Commit Name <commit@email>
//
// Emails and names are matched case-insensitively; '#' starts a comment
// line. A later line for the same commit identity wins, field by field for
// the email-only forms, as in git's mailmap.c.
type mailmap struct {
	byEmail map[string]*mailmapEntry // lower-cased commit email
}

type mailmapEntry struct {
	name, email string                // replacements for any name (empty: keep)
	byName      map[string]mailmapHit // lower-cased commit name → replacement
}

type mailmapHit struct{ name, email string }

// parseMailmap reads a .mailmap. It never fails: lines it cannot read are
// ignored, as git ignores them.
func parseMailmap(b []byte) *mailmap {
	m := &mailmap{byEmail: map[string]*mailmapEntry{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		m.addLine(sc.Text())
	}
	// A line longer than 1 MiB stops the scanner; what was read stands.
	return m
}

// parseNameEmail reads "Name <email>" from the start of s, as git's
// parse_name_and_email: name is the trimmed text before '<' (empty: none),
// email the text up to the next '>'. rest is what follows the '>'. ok is
// false when there is no <...> pair, or when it is empty and !allowEmpty.
func parseNameEmail(s string, allowEmpty bool) (name, email, rest string, ok bool) {
	l := strings.IndexByte(s, '<')
	if l < 0 {
		return "", "", "", false
	}
	r := strings.IndexByte(s[l+1:], '>')
	if r < 0 {
		return "", "", "", false
	}
	r += l + 1
	if !allowEmpty && r == l+1 {
		return "", "", "", false
	}
	return strings.TrimSpace(s[:l]), s[l+1 : r], s[r+1:], true
}

func (m *mailmap) addLine(line string) {
	if strings.HasPrefix(line, "#") {
		return
	}
	name1, email1, rest, ok := parseNameEmail(line, false)
	if !ok {
		return
	}
	var name2, email2 string
	if rest != "" {
		name2, email2, _, _ = parseNameEmail(rest, true)
	}
	// git: add_mapping(new_name=name1, new_email=email1, old_name=name2, old_email=email2)
	newName, newEmail, oldName, oldEmail := name1, email1, name2, email2
	if oldEmail == "" {
		oldEmail, newEmail = newEmail, ""
	}
	key := strings.ToLower(oldEmail)
	e := m.byEmail[key]
	if e == nil {
		e = &mailmapEntry{}
		m.byEmail[key] = e
	}
	if oldName == "" {
		if newName != "" {
			e.name = newName
		}
		if newEmail != "" {
			e.email = newEmail
		}
		return
	}
	if e.byName == nil {
		e.byName = map[string]mailmapHit{}
	}
	e.byName[strings.ToLower(oldName)] = mailmapHit{name: newName, email: newEmail}
}

// Map returns the canonical name and email for an identity written in a
// commit; unmapped parts come back unchanged.
func (m *mailmap) Map(name, email string) (string, string) {
	if m == nil {
		return name, email
	}
	e := m.byEmail[strings.ToLower(email)]
	if e == nil {
		return name, email
	}
	hit := mailmapHit{name: e.name, email: e.email}
	if h, ok := e.byName[strings.ToLower(name)]; ok {
		hit = h
	}
	if hit.name != "" {
		name = hit.name
	}
	if hit.email != "" {
		email = hit.email
	}
	return name, email
}

package ksb

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// errNoKSBs is wrapped by the text parser's error when it finds no KSB line.
var errNoKSBs = errors.New("no KSB lines found (expected lines such as \"K1: statement\")")

var (
	// bulletPattern matches one list marker before a code: "-", "*", "•",
	// "1.", "2)".
	bulletPattern = regexp.MustCompile(`^(?:[-*•·‣▪◦]|[0-9]{1,3}[.)])\s+`)
	// codePattern matches a line that starts with a KSB code. The code must
	// end at a word boundary, so "B2B sales" or "K12a" are not codes.
	codePattern = regexp.MustCompile(`^([KSB])([0-9]{1,4})\b(.*)$`)
	// dutyPattern matches "D1 …" or "Duty 1 …".
	dutyPattern = regexp.MustCompile(`^(?:D|(?i:duty)\s*)([0-9]{1,4})\b(.*)$`)
	// headingPattern matches a section heading on a line of its own.
	headingPattern = regexp.MustCompile(`(?i)^#*\s*(knowledge|skills?|behaviou?rs?|duties|ksbs?|knowledge,?\s+skills,?\s+(?:and\s+)?behaviou?rs?)\s*(?:\([^)]*\))?\s*:?$`)
	// mappingPattern matches a line holding only KSB codes (a duty's
	// mapping, "K1 K2 S5"), optionally after "KSBs".
	mappingPattern = regexp.MustCompile(`^(?i:ksbs?\s*:?\s*)?(?:[KSB][0-9]{1,4}[\s,;]*)+$`)
	// idParts splits a catalogue ID of the usual form "st1398-v2.0" into
	// the standard's reference and version.
	idParts = regexp.MustCompile(`^([a-z]{1,4}[0-9]{1,6})-v([0-9]+(?:\.[0-9]+)*)$`)
	// backToDuty is the link text the official KSB page puts by each KSB.
	backToDuty = regexp.MustCompile(`(?i)\s*back to (?:duty|duties)\s*$`)
)

// textEntry is a KSB or duty being read, with where it started.
type textEntry struct {
	id   string
	line int
	text strings.Builder
}

// parseText reads the official list pasted as text: one KSB a line ("K1:
// statement", "S1 statement", "B1 - statement", "K1. statement", "K1 –
// statement"), optionally after a bullet; blank lines, headings
// ("Knowledge", "Skills", "Behaviours", "Duties") and "Back to Duty" links
// are ignored; a line that does not start with a code continues the
// previous statement. Duty lines ("D1: …", "Duty 1 …") become Duties, and
// lines of bare codes (a duty's KSB mapping) are skipped. Every problem is
// reported with its line number.
func parseText(name string, data []byte, opts ImportOptions) (*Catalogue, error) {
	var (
		errs       []error
		ksbs       []*textEntry
		duties     []*textEntry
		cur        *textEntry // the entry a continuation line joins
		inDuties   bool
		firstKSB   = map[string]int{}
		firstDuty  = map[string]int{}
		statements = 0
	)
	text := cleanText(string(trimBOM(data)))
	for i, raw := range strings.Split(text, "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		if mentionsBackToDuty(line) {
			line = strings.TrimSpace(backToDuty.ReplaceAllString(line, ""))
			if line == "" {
				continue
			}
		}
		if m := headingPattern.FindStringSubmatch(line); m != nil {
			inDuties = strings.EqualFold(m[1], "duties")
			cur = nil
			continue
		}
		body := stripBullets(line)
		if startsWithCode(body) && mappingPattern.MatchString(body) && (inDuties || len(strings.Fields(body)) > 1 || !codePattern.MatchString(body)) {
			continue
		}
		if m := codePattern.FindStringSubmatch(body); m != nil {
			num, _ := strconv.Atoi(m[2])
			id := m[1] + strconv.Itoa(num)
			rest := statementAfterCode(m[3])
			switch {
			case num == 0:
				errs = append(errs, fmt.Errorf("line %d: %s%s: KSB numbers start at 1", n, m[1], m[2]))
				cur = nil
				continue
			case num > 999:
				errs = append(errs, fmt.Errorf("line %d: %s%s: KSB number too large", n, m[1], m[2]))
				cur = nil
				continue
			case rest == "":
				errs = append(errs, fmt.Errorf("line %d: %s has no statement", n, id))
				cur = nil
				continue
			}
			inDuties = false
			statements++
			if first, dup := firstKSB[id]; dup {
				errs = append(errs, fmt.Errorf("line %d: %s appears again (first on line %d)", n, id, first))
				cur = nil
				continue
			}
			firstKSB[id] = n
			cur = &textEntry{id: id, line: n}
			cur.text.WriteString(rest)
			ksbs = append(ksbs, cur)
			continue
		}
		if m := dutyPattern.FindStringSubmatch(body); m != nil {
			num, _ := strconv.Atoi(m[1])
			id := "D" + strconv.Itoa(num)
			rest := statementAfterCode(m[2])
			inDuties = true
			if num == 0 {
				errs = append(errs, fmt.Errorf("line %d: duty %s: duty numbers start at 1", n, id))
				cur = nil
				continue
			}
			if rest == "" {
				errs = append(errs, fmt.Errorf("line %d: duty %s has no text", n, id))
				cur = nil
				continue
			}
			if first, dup := firstDuty[id]; dup {
				errs = append(errs, fmt.Errorf("line %d: duty %s appears again (first on line %d)", n, id, first))
				cur = nil
				continue
			}
			firstDuty[id] = n
			cur = &textEntry{id: id, line: n}
			cur.text.WriteString(rest)
			duties = append(duties, cur)
			continue
		}
		if cur != nil {
			// A wrapped line: it continues the previous statement.
			cur.text.WriteByte(' ')
			cur.text.WriteString(line)
		}
		// Otherwise it is a title or an introduction before the first
		// code: nothing to keep.
	}
	if statements == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("parse %s as pasted text: %w", name, errNoKSBs)
	}
	if opts.ID == "" {
		errs = append(errs, errors.New("no catalogue ID: pasted text carries none, so one must be given (e.g. st1398-v1.0)"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("parse %s as pasted text: %w", name, errors.Join(errs...))
	}
	c := &Catalogue{
		Provenance: fmt.Sprintf("Imported from pasted text (%s): statements as given by the importer, who holds the official list.", name),
	}
	for _, e := range ksbs {
		c.KSBs = append(c.KSBs, KSB{
			ID:         e.id,
			Kind:       KindOf(e.id),
			Statement:  collapseSpace(e.text.String()),
			Source:     name,
			Confidence: confidenceImported,
		})
	}
	for _, e := range duties {
		c.Duties = append(c.Duties, Duty{ID: e.id, Text: collapseSpace(e.text.String()), Source: name, Confidence: confidenceImported})
	}
	applyOptions(c, opts)
	if m := idParts.FindStringSubmatch(c.ID); m != nil {
		// "st1398-v2.0" names the standard and version when the importer
		// gave neither.
		if c.Reference == "" {
			c.Reference = strings.ToUpper(m[1])
		}
		if c.Version == "" {
			c.Version = m[2]
		}
	}
	if c.Complete {
		c.TotalKSBs = len(c.KSBs)
	} else {
		c.Notes = append(c.Notes, "Not marked complete: the importer did not assert that this list holds every KSB of the standard.")
	}
	return c, nil
}

// stripBullets removes up to three list markers from the start of a line.
func stripBullets(s string) string {
	for range 3 {
		loc := bulletPattern.FindStringIndex(s)
		if loc == nil {
			break
		}
		s = s[loc[1]:]
	}
	return strings.TrimPrefix(strings.TrimPrefix(s, "**"), "__")
}

// statementAfterCode strips the separator between a code and its
// statement (":", ".", ")", "-", "–", "—", "|", markdown bold) and returns
// the statement.
func statementAfterCode(s string) string {
	s = strings.TrimSpace(s)
	s = trimBold(s)
	for _, sep := range []string{":", ".", ")", "-", "–", "—", "|"} {
		if strings.HasPrefix(s, sep) {
			s = strings.TrimSpace(s[len(sep):])
			break
		}
	}
	s = trimBold(s)
	if mentionsBackToDuty(s) {
		s = backToDuty.ReplaceAllString(s, "")
	}
	return strings.TrimSpace(s)
}

// mentionsBackToDuty is a cheap test before the backToDuty regexp.
func mentionsBackToDuty(s string) bool {
	return strings.Contains(strings.ToLower(s), "back to dut")
}

// startsWithCode is a cheap test before mappingPattern: a KSB letter, or
// "KSB".
func startsWithCode(s string) bool {
	return s != "" && (s[0] == 'K' || s[0] == 'S' || s[0] == 'B' || s[0] == 'k')
}

func trimBold(s string) string {
	for _, b := range []string{"**", "__"} {
		if strings.HasPrefix(s, b) {
			return strings.TrimSpace(s[len(b):])
		}
	}
	return s
}

// cleanText makes pasted text uniform: valid UTF-8, "\n" line ends, no BOM
// or zero-width characters, and other control characters turned into
// spaces.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\uFEFF' || r == '\u200B' || r == '\u200C' || r == '\u200D' || r == '\u2060':
			return -1
		case r == '\u2028' || r == '\u2029':
			return '\n'
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
}

// collapseSpace trims s and turns every run of white space into one space.
func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

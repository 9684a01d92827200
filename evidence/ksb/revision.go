package ksb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Revision is a hash of what the catalogue says that tagging and coverage
// depend on: its ID, reference, version, completeness, every KSB (ID, kind,
// statement, methods, grade theme), every duty (ID, text, KSBs) and the
// methods' grade themes. Provenance, notes, facts and the version log are
// left out, so rewording them does not make every tag out of date. Tags
// record the revision they were made against (evidence.Tag.Revision); a
// different revision means the catalogue changed since. It is 16 hex
// digits.
func (c *Catalogue) Revision() string {
	type ksbContent struct {
		ID, Kind, Statement string
		Methods             []string
		GradeTheme          string
	}
	type dutyContent struct {
		ID, Text string
		KSBs     []string
	}
	type methodContent struct {
		ID     string
		Themes []string
	}
	content := struct {
		ID, Reference, Version string
		Complete               bool
		TotalKSBs              int
		KSBs                   []ksbContent
		Duties                 []dutyContent
		Methods                []methodContent
	}{ID: c.ID, Reference: c.Reference, Version: c.Version, Complete: c.Complete, TotalKSBs: c.TotalKSBs}
	for _, k := range c.KSBs {
		content.KSBs = append(content.KSBs, ksbContent{k.ID, k.Kind, k.Statement, k.Methods, k.GradeTheme})
	}
	for _, d := range c.Duties {
		content.Duties = append(content.Duties, dutyContent{d.ID, d.Text, d.KSBs})
	}
	for _, m := range c.Methods {
		content.Methods = append(content.Methods, methodContent{m.ID, m.Themes})
	}
	b, err := json.Marshal(content)
	if err != nil {
		// Strings, bools and ints always marshal.
		panic(fmt.Sprintf("ksb: marshal catalogue content: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// VersionFor returns the version log entry that applies to an
// apprenticeship started on start: the entry whose earliest start is on
// or before it and whose latest start is on or after it (an entry without
// a date at one end is open at that end). ok is false when the log is
// empty or no entry covers the date.
func (c *Catalogue) VersionFor(start time.Time) (e VersionEntry, ok bool) {
	i := VersionIndex(c.VersionLog, start)
	if i < 0 {
		return VersionEntry{}, false
	}
	return c.VersionLog[i], true
}

// VersionIndex is the index of the entry of log that applies to a start
// on start (see VersionFor), or -1.
func VersionIndex(log []VersionEntry, start time.Time) int {
	day := start.UTC().Truncate(24 * time.Hour)
	for i, v := range log {
		if from, isDate := logDate(v.EarliestStart); isDate && day.Before(from) {
			continue
		}
		if to, isDate := logDate(v.LatestStart); isDate && day.After(to) {
			continue
		}
		return i
	}
	return -1
}

// logDate reads a version log date; ok is false for words such as "Not
// set".
func logDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// IsCurrent reports whether the entry is this catalogue's own version
// ("1.0" and "1" are the same).
func (c *Catalogue) IsCurrent(e VersionEntry) bool {
	return normVersion(e.Version) == normVersion(c.Version)
}

// MatchVersion returns the index of the log entry that is version v: the
// entry with that version ("1" and "1.0" match), or, when no entry has it,
// the first entry whose version is not a number ("revised (number not
// shown)": a version announced before its number was). It returns -1 when
// neither exists.
func MatchVersion(log []VersionEntry, v string) int {
	for i, e := range log {
		if normVersion(e.Version) == normVersion(v) {
			return i
		}
	}
	for i, e := range log {
		if e.Version == "" || e.Version[0] < '0' || e.Version[0] > '9' {
			return i
		}
	}
	return -1
}

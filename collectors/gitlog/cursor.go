package gitlog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// cursorVersion is the cursor's JSON layout version. Version 1 keyed the
// tips by ref name; decodeCursor migrates it.
const cursorVersion = 2

// itemsVersion is folded into the fingerprint: bump it when the items this
// collector makes change shape, so that the next run re-collects everything.
const itemsVersion = 2

// maxRetry bounds each retry list of the cursor (Missing, NoStats,
// Shallow). A run that would record more keeps no tips instead, so that
// the next run walks everything again: nothing skipped is forgotten.
const maxRetry = 10_000

// cursorState is the incremental cursor: the ref tips seen by the last run
// and what that run could not collect, valid only while the fingerprint
// (emails, refs, .mailmap) is unchanged.
//
// No ref name is stored (a branch name can hold anything): tips are keyed
// by refKey, the SHA-256 of the ref name.
type cursorState struct {
	Version     int    `json:"version"`
	Fingerprint string `json:"fingerprint"`
	// Config is configKey of the emails and refs; MailmapFrom the HEAD
	// commit whose tree's .mailmap went into the fingerprint. With both
	// unchanged the fingerprint is too, without reading .mailmap.
	Config      string            `json:"config,omitempty"`
	MailmapFrom string            `json:"mailmap_from,omitempty"`
	Tips        map[string]string `json:"tips"` // refKey(full ref name or HEAD) → commit SHA
	// Missing are commit objects that could not be read (a parent of a
	// commit walked): the next run walks from each, through its history.
	Missing []string `json:"missing,omitempty"`
	// NoStats are the apprentice's commits emitted without file stats
	// because an object was missing: the next run emits each again once
	// its stats can be computed.
	NoStats []string `json:"no_stats,omitempty"`
	// Shallow is the repository's shallow boundary (.git/shallow): a
	// commit on it that is no longer shallow is walked again, with its
	// history, by the next run.
	Shallow []string `json:"shallow,omitempty"`
	// Tags are the annotated tag objects already looked at for releases
	// (the apprentice's became release items).
	Tags []string `json:"tags,omitempty"`
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// refKey is the key of a ref's tip in the cursor: the hex SHA-256 of its
// full name.
func refKey(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// decodeCursor reads a stored cursor. ok is false (with why) when the cursor
// is absent or unusable, which means: walk everything. A version 1 cursor
// (tips keyed by ref name) is migrated.
func decodeCursor(b []byte) (st cursorState, ok bool, why string) {
	if len(strings.TrimSpace(string(b))) == 0 || string(b) == "null" {
		return st, false, "no cursor"
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return cursorState{}, false, fmt.Sprintf("cursor unreadable: %v", err)
	}
	switch st.Version {
	case cursorVersion:
	case 1:
		tips := make(map[string]string, len(st.Tips))
		for name, sha := range st.Tips {
			tips[refKey(name)] = sha
		}
		st.Tips, st.Version = tips, cursorVersion
	default:
		return cursorState{}, false, fmt.Sprintf("cursor version %d, this build writes %d", st.Version, cursorVersion)
	}
	lists := map[string][]string{"missing": st.Missing, "no_stats": st.NoStats, "shallow": st.Shallow, "tags": st.Tags,
		"tips": slices.Collect(maps.Values(st.Tips))}
	if st.MailmapFrom != "" {
		lists["mailmap_from"] = []string{st.MailmapFrom}
	}
	for what, shas := range lists {
		for _, sha := range shas {
			if !shaPattern.MatchString(sha) {
				// The value is not quoted: a tampered cursor could hold anything.
				return cursorState{}, false, fmt.Sprintf("cursor %s: a value is not a commit SHA", what)
			}
		}
	}
	return st, true, ""
}

// encode returns the cursor's JSON, lists sorted and without duplicates.
// A list longer than maxRetry drops the tips: the next run walks everything.
func (st cursorState) encode() []byte {
	if st.Tips == nil {
		st.Tips = map[string]string{}
	}
	slices.Sort(st.Tags)
	st.Tags = slices.Compact(st.Tags)
	if len(st.Tags) > maxTagsSeen {
		st.Tags = st.Tags[:maxTagsSeen] // the rest are looked at again next run
	}
	for _, l := range []*[]string{&st.Missing, &st.NoStats, &st.Shallow} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
		if len(*l) > maxRetry {
			st.Tips, st.Missing, st.NoStats, st.Shallow = map[string]string{}, nil, nil, nil
			break
		}
	}
	b, err := json.Marshal(st)
	if err != nil { // a struct of strings always marshals
		return nil
	}
	return b
}

// pending reports whether the cursor holds anything to retry against the
// repository's current shallow boundary.
func (st cursorState) pending(shallow map[string]bool) bool {
	if len(st.Missing) > 0 || len(st.NoStats) > 0 {
		return true
	}
	for _, sha := range st.Shallow {
		if !shallow[sha] {
			return true
		}
	}
	return false
}

// sameTips reports whether the two runs saw exactly the same refs at the
// same commits.
func sameTips(a, b map[string]string) bool { return maps.Equal(a, b) }

// configKey hashes the emails (case-folded, as a set), the refs as
// configured and the item layout version.
func configKey(emails, refs []string, mailmapFile []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "gitlog config items v%d\x00", itemsVersion)
	fmt.Fprintf(h, "emails\x00%s\x00", strings.Join(normEmails(emails), "\n"))
	fmt.Fprintf(h, "refs\x00%s\x00", strings.Join(refs, "\n"))
	if len(mailmapFile) > 0 {
		fmt.Fprintf(h, "mailmap_file\x00%d\x00", len(mailmapFile))
		h.Write(mailmapFile)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// identityFiles is what the fingerprint hashes of the files that decide
// identities and stats: the .mailmap content (with mailmap_file's), and
// .gitattributes when there is one (so that a repository without one keeps
// its fingerprint).
func identityFiles(mailmap, attributes []byte) []byte {
	if len(attributes) == 0 {
		return mailmap
	}
	out := append([]byte{}, mailmap...)
	out = append(out, "\x00gitattributes\x00"...)
	return append(out, attributes...)
}

func normEmails(emails []string) []string {
	es := make([]string, 0, len(emails))
	for _, e := range emails {
		es = append(es, strings.ToLower(strings.TrimSpace(e)))
	}
	slices.Sort(es)
	return slices.Compact(es)
}

// fingerprint hashes what decides which commits are collected and how:
// the emails (case-folded, as a set), the refs as configured, the
// .mailmap's content and the item layout version.
func fingerprint(emails, refs []string, mailmapContent []byte) string {
	es := make([]string, 0, len(emails))
	for _, e := range emails {
		es = append(es, strings.ToLower(strings.TrimSpace(e)))
	}
	slices.Sort(es)
	es = slices.Compact(es)
	h := sha256.New()
	fmt.Fprintf(h, "gitlog items v%d\x00", itemsVersion)
	fmt.Fprintf(h, "emails\x00%s\x00", strings.Join(es, "\n"))
	fmt.Fprintf(h, "refs\x00%s\x00", strings.Join(refs, "\n"))
	fmt.Fprintf(h, "mailmap\x00%d\x00", len(mailmapContent))
	h.Write(mailmapContent)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

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

// cursorVersion is the cursor's JSON layout version.
const cursorVersion = 1

// itemsVersion is folded into the fingerprint: bump it when the items this
// collector makes change shape, so that the next run re-collects everything.
const itemsVersion = 1

// cursorState is the incremental cursor: the ref tips seen by the last run,
// valid only while the fingerprint (emails, refs, .mailmap) is unchanged.
type cursorState struct {
	Version     int               `json:"version"`
	Fingerprint string            `json:"fingerprint"`
	Tips        map[string]string `json:"tips"` // full ref name (or HEAD) → commit SHA
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// decodeCursor reads a stored cursor. ok is false (with why) when the cursor
// is absent or unusable, which means: walk everything.
func decodeCursor(b []byte) (st cursorState, ok bool, why string) {
	if len(strings.TrimSpace(string(b))) == 0 || string(b) == "null" {
		return st, false, "no cursor"
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, fmt.Sprintf("cursor unreadable: %v", err)
	}
	if st.Version != cursorVersion {
		return st, false, fmt.Sprintf("cursor version %d, this build writes %d", st.Version, cursorVersion)
	}
	for ref, sha := range st.Tips {
		if !shaPattern.MatchString(sha) {
			return st, false, fmt.Sprintf("cursor tip %q of %s: not a commit SHA", sha, ref)
		}
	}
	return st, true, ""
}

func (st cursorState) encode() []byte {
	if st.Tips == nil {
		st.Tips = map[string]string{}
	}
	b, err := json.Marshal(st)
	if err != nil { // a struct of strings always marshals
		return nil
	}
	return b
}

// sameTips reports whether the two runs saw exactly the same refs at the
// same commits.
func sameTips(a, b map[string]string) bool { return maps.Equal(a, b) }

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

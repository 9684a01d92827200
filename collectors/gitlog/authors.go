package gitlog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// maxAuthorsCounted bounds the distinct identities authorCounts keeps.
const maxAuthorsCounted = 10000

// authorCounts counts the commits of authors who are not the apprentice,
// to say whose commits a walk saw when none was the apprentice's.
type authorCounts map[string]int // "Name <email>" → commits

func (a authorCounts) add(name, email string) {
	id := fmt.Sprintf("%s <%s>", strings.TrimSpace(name), strings.ToLower(strings.TrimSpace(email)))
	if _, ok := a[id]; ok || len(a) < maxAuthorsCounted {
		a[id]++
	}
}

// top returns up to n identities, most commits first, as "Name <email>
// (N commits)".
func (a authorCounts) top(n int) []string {
	ids := make([]string, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(x, y string) int {
		if c := cmp.Compare(a[y], a[x]); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	})
	if len(ids) > n {
		ids = ids[:n]
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		unit := "commits"
		if a[id] == 1 {
			unit = "commit"
		}
		out[i] = fmt.Sprintf("%s (%d %s)", id, a[id], unit)
	}
	return out
}

// noneMatched is the warning of a full walk that read commits but found
// none by the apprentice: it names the most frequent authors, so that a
// wrong or missing address in the config is plain to see.
func noneMatched(source string, emails []string, read int, others authorCounts) string {
	return fmt.Sprintf("git source %s: none of the %d commits read is authored by %s (after .mailmap); the most frequent authors are %s; if one of them is the apprentice, add the address to apprentice.emails",
		source, read, strings.Join(emails, ", "), strings.Join(others.top(5), ", "))
}

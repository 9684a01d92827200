package gitlog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestAuthorCountsTop(t *testing.T) {
	a := authorCounts{}
	for range 3 {
		a.add("Sam Patel", "Sam.Patel@corp.example")
	}
	a.add("Alex Kim", "alex@corp.example")
	a.add("CI Bot", "ci@corp.example")
	a.add("CI Bot", "ci@corp.example")
	want := []string{"Sam Patel <sam.patel@corp.example> (3 commits)", "CI Bot <ci@corp.example> (2 commits)"}
	if got := a.top(2); !slices.Equal(got, want) {
		t.Fatalf("top(2) = %q, want %q", got, want)
	}
	if got := a.top(5); len(got) != 3 || got[2] != "Alex Kim <alex@corp.example> (1 commit)" {
		t.Fatalf("top(5) = %q", got)
	}
	msg := noneMatched("repo", []string{"jane@crop.example"}, 6, a)
	for _, w := range []string{"none of the 6 commits", "jane@crop.example", "Sam Patel", "apprentice.emails"} {
		if !strings.Contains(msg, w) {
			t.Errorf("warning lacks %q: %s", w, msg)
		}
	}
	// Memory is bounded whatever the history holds.
	many := authorCounts{}
	for i := range maxAuthorsCounted + 500 {
		many.add("x", fmt.Sprintf("x%d@example", i))
	}
	if len(many) != maxAuthorsCounted {
		t.Fatalf("%d identities kept, want at most %d", len(many), maxAuthorsCounted)
	}
}

// Package corpustest finds the project's shared test corpus for tests.
package corpustest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// Dir returns the folder or file rel of the read-only shared test corpus
// (rel "" for the corpus root):
//
//   - if $KSBFOLIO_CORPUS is set, $KSBFOLIO_CORPUS/rel, and the test fails
//     if that does not exist;
//   - else the first shared/corpus/rel that exists in the working directory
//     or a folder above it (the checkout sits beside shared/, or a worktree
//     further down);
//   - else storetest.RequireOrSkip(t, "corpus", …): the test is skipped,
//     but fails when CI is set or KSBFOLIO_TEST_REQUIRE names corpus.
func Dir(t testing.TB, rel string) string {
	t.Helper()
	if root := os.Getenv("KSBFOLIO_CORPUS"); root != "" {
		p := filepath.Join(root, rel)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("find the corpus under KSBFOLIO_CORPUS: %v", err)
		}
		return p
	}
	wd, err := filepath.Abs(".")
	if err != nil {
		t.Fatalf("find the corpus: %v", err)
	}
	for dir := wd; ; {
		p := filepath.Join(dir, "shared", "corpus", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	storetest.RequireOrSkip(t, "corpus", "a folder "+filepath.Join("shared", "corpus", rel)+" above "+wd+
		" (clone beside the project's shared folder), or KSBFOLIO_CORPUS=<the corpus folder>")
	return ""
}

package gitlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/internal/golden"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenItems pins the items of a small generated history, one JSON
// line per item, with the repository path replaced by /REPO. Rewrite with
// `go test ./collectors/gitlog -run TestGoldenItems -update`.
func TestGoldenItems(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "repo")
	if _, err := demorepo.Build(context.Background(), dir, demorepo.Options{Commits: 30, Seed: 42, Branches: 2, TrailerEvery: 2, Mailmap: true}); err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, gitlog.Config{Path: dir, Emails: []string{janeE}})
	s, cursor, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A cursor written by the previous version (tips keyed by ref name)
	// still works: nothing moved, so nothing is collected, and it comes back
	// in the current layout, with no ref name in it.
	v1, err := os.ReadFile(filepath.Join("testdata", "cursor-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	s1, migrated, err := collect(t, c, bytes.TrimSpace(v1))
	if err != nil || len(s1.items) != 0 || string(migrated) != string(cursor) {
		t.Errorf("version 1 cursor: err %v, %d items, cursor %s, want %s", err, len(s1.items), migrated, cursor)
	}
	if strings.Contains(string(cursor), "refs/") || strings.Contains(string(cursor), "main") {
		t.Errorf("cursor names refs: %s", cursor)
	}

	var buf bytes.Buffer
	for _, it := range s.items {
		b, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	got := strings.ReplaceAll(buf.String(), dir, "/REPO")
	got += "cursor " + string(cursor) + "\n"
	golden.Check(t, filepath.Join("testdata", "generated.golden.jsonl"), []byte(got), *update)
}

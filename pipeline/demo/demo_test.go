package demo

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// tree reads every file under dir but the git repository's object store,
// by path relative to dir.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel == filepath.Join("fraud-model", ".git") {
				return fs.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		m[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The same Options build the same workspace: the same files with the same
// bytes, and a repository with the same head commit.
func TestBuildDeterministic(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	var trees []map[string][]byte
	var heads []string
	for i := 0; i < 2; i++ {
		res, err := Build(ctx, filepath.Join(t.TempDir(), "demo"), Options{Commits: 120})
		if err != nil {
			t.Fatal(err)
		}
		head, err := demorepo.Git(ctx, res.RepoPath, "rev-parse", "HEAD")
		if err != nil {
			t.Fatal(err)
		}
		trees = append(trees, tree(t, res.Dir))
		heads = append(heads, strings.TrimSpace(head))
		if res.Runs < 10 {
			t.Errorf("%d MLflow runs, want a grid search's worth", res.Runs)
		}
	}
	if heads[0] != heads[1] {
		t.Errorf("repository heads differ: %s, %s", heads[0], heads[1])
	}
	for _, want := range []string{"ksbfolio.yaml", "logs/deployment.log", "monitoring/p95_latency.json", "mlruns/1/meta.yaml"} {
		if trees[0][want] == nil {
			t.Errorf("workspace lacks %s", want)
		}
	}
	if len(trees[0]) != len(trees[1]) {
		t.Errorf("%d files, then %d", len(trees[0]), len(trees[1]))
	}
	for p, b := range trees[0] {
		if !bytes.Equal(b, trees[1][p]) {
			t.Errorf("%s differs between two builds", p)
		}
	}
}

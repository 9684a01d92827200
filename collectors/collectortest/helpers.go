package collectortest

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
)

// Collect runs one collection of c from cursor into a new Sink, failing
// the test (without stopping it) for every invalid item emitted.
func Collect(t testing.TB, c collectors.Collector, cursor collectors.Cursor) (*Sink, collectors.Cursor, error) {
	t.Helper()
	s := &Sink{}
	next, err := c.Collect(context.Background(), cursor, s)
	for _, msg := range s.Invalid() {
		t.Errorf("invalid: %s", msg)
	}
	return s, next, err
}

// CopyDir copies the folder tree src to dst (made if missing), symlinks
// as symlinks, so that a test can change a fixture without touching it.
func CopyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// Golden compares got with the golden file at path, or with update
// rewrites the file (a test's -update flag). A difference fails the test,
// naming the first line that differs.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b || i >= len(g) || i >= len(w) {
			t.Errorf("%s differs (run with -update to accept): line %d:\n  got  %s\n  want %s", path, i+1, a, b)
			return
		}
	}
}

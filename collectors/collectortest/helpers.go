package collectortest

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
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

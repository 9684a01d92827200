package fsstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

var _ store.Cleaner = (*Store)(nil)

// CleanTemp implements store.Cleaner: it removes the temporary files
// (".ksbfolio-tmp-…", regular files anywhere under the root, found without
// following symbolic links) last modified more than olderThan ago, and the
// directories that leaves empty. It returns how many files it removed; on
// an error it stops and returns the count so far.
func (s *Store) CleanTemp(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	dirs := map[string]bool{} // directories a file was removed from
	err := fs.WalkDir(s.root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err != nil {
			if notFound(err) {
				return nil // removed while we walked
			}
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tmpPrefix) || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info() // lstat: a link is not followed
		if notFound(err) {
			return nil // committed or removed meanwhile
		}
		if err != nil {
			return err
		}
		if olderThan > 0 && !fi.ModTime().Before(cutoff) {
			return nil // a Put may still be writing it
		}
		if err := s.root.Remove(name); err != nil && !notFound(err) {
			return err
		}
		removed++
		dirs[path.Dir(name)] = true
		return nil
	})
	// As Delete does: an empty directory would be in the way of a key of
	// its name.
	for dir := range dirs {
		s.dirs.removeEmpty(s.root, dir)
	}
	if err != nil {
		return removed, fmt.Errorf("clean temporary files in %s: %w", s.path, err)
	}
	return removed, nil
}

package s3store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

var _ store.Cleaner = (*Store)(nil)

// CleanTemp implements store.Cleaner. The bucket holds no debris (every
// object is written by one PUT, atomic on the server), but a process killed
// during a Put of more than 8 MiB leaves its spool file in this host's
// os.TempDir(); CleanTemp removes those of them last modified more than
// olderThan ago that this user may remove.
func (s *Store) CleanTemp(ctx context.Context, olderThan time.Duration) (int, error) {
	dir := os.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("clean temporary files in %s: %w", dir, err)
	}
	prefix := strings.TrimSuffix(spoolPattern, "*")
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, fmt.Errorf("clean temporary files in %s: %w", dir, err)
		}
		if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || (olderThan > 0 && !fi.ModTime().Before(cutoff)) {
			continue // gone meanwhile, or a Put may still be writing it
		}
		err = os.Remove(filepath.Join(dir, e.Name()))
		switch {
		case err == nil:
			removed++
		case os.IsPermission(err), os.IsNotExist(err):
			// another user's, or gone meanwhile
		default:
			return removed, fmt.Errorf("clean temporary files in %s: %w", dir, err)
		}
	}
	return removed, nil
}

package s3store_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// TestCleanTemp: the spool files a killed Put left in the temporary folder
// go once older than the grace period; nothing else there is touched.
func TestCleanTemp(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	s := open(t, config(t, srv, "clean"))
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{"ksbfolio-s3-spool-old", "ksbfolio-s3-spool-young", "other-tool-file", "ksbfolio-s3-spool-dir"} {
		p := filepath.Join(tmp, name)
		var err error
		if name == "ksbfolio-s3-spool-dir" {
			err = os.Mkdir(p, 0o755)
		} else {
			err = os.WriteFile(p, []byte("x"), 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		if name != "ksbfolio-s3-spool-young" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	var c store.Cleaner = s
	n, err := c.CleanTemp(context.Background(), time.Hour)
	if err != nil || n != 1 {
		t.Errorf("CleanTemp(1h) = %d, %v; want 1, nil", n, err)
	}
	entries, _ := os.ReadDir(tmp)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{"ksbfolio-s3-spool-dir", "ksbfolio-s3-spool-young", "other-tool-file"}; !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
}

package fsstore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

func put(t *testing.T, s store.Store, key, body string, opts store.PutOptions) error {
	t.Helper()
	_, err := s.Put(context.Background(), key, bytes.NewReader([]byte(body)), int64(len(body)), opts)
	return err
}

func get(t *testing.T, s store.Store, key string) string {
	t.Helper()
	rc, _, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

// The directories a batch of Puts keeps open (one open per directory, not
// per Put) never make a Put land anywhere but at its key: after a Delete
// removed the directory, after the directory was moved away between
// batches, and after it was replaced by a link leading out of the folder
// (refused, nothing written outside).
func TestOpenDirectoriesFollowTheKey(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "store")
	s := newStore(t, root)
	nosync := store.PutOptions{NoSync: true}

	t.Run("directory removed by Delete", func(t *testing.T) {
		if err := put(t, s, "a/b/x", "1", nosync); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "a/b/x"); err != nil { // removes a/b and a, now empty
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "a")); !os.IsNotExist(err) {
			t.Fatalf("Delete left the empty directory: %v", err)
		}
		if err := put(t, s, "a/b/y", "2", nosync); err != nil {
			t.Fatalf("put into the removed directory: %v", err)
		}
		if b, err := os.ReadFile(filepath.Join(root, "a", "b", "y")); err != nil || string(b) != "2" {
			t.Fatalf("a/b/y on disk: %q, %v", b, err)
		}
	})

	t.Run("directory moved between batches", func(t *testing.T) {
		if err := put(t, s, "m/n/x", "1", nosync); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(root, "m", "n"), filepath.Join(root, "m", "moved")); err != nil {
			t.Fatal(err)
		}
		if err := put(t, s, "m/n/y", "2", nosync); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "m", "moved", "y")); !os.IsNotExist(err) {
			t.Errorf("the Put after Sync went into the moved directory (%v)", err)
		}
		if got := get(t, s, "m/n/y"); got != "2" {
			t.Errorf("m/n/y = %q", got)
		}
	})

	t.Run("directory replaced by a link out of the folder", func(t *testing.T) {
		outside := t.TempDir()
		if err := put(t, s, "l/x", "1", nosync); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(root, "l")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(root, "l")); err != nil {
			t.Fatal(err)
		}
		if err := put(t, s, "l/y", "2", nosync); err == nil {
			t.Error("put through a link out of the folder succeeded")
		}
		if names, _ := os.ReadDir(outside); len(names) != 0 {
			t.Errorf("written outside the folder: %v", names)
		}
	})
}

// Many Puts into a few directories while Deletes empty and remove them:
// every Put lands whole at its key (run with -race).
func TestOpenDirectoriesConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filepath.Join(t.TempDir(), "store"))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				key := fmt.Sprintf("d%d/sub/k%d-%d", i%3, w, i)
				body := key + " body"
				if _, err := s.Put(ctx, key, bytes.NewReader([]byte(body)), int64(len(body)), store.PutOptions{NoSync: i%2 == 0}); err != nil {
					errs <- err
					return
				}
				rc, _, err := s.Get(ctx, key)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				if string(b) != body {
					errs <- fmt.Errorf("%s holds %q", key, b)
					return
				}
				if err := s.Delete(ctx, key); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					if err := s.Sync(ctx); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

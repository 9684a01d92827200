package fsstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

func newStore(t *testing.T, root string) *fsstore.Store {
	t.Helper()
	s, err := fsstore.New(root)
	if err != nil {
		t.Fatalf("New(%s): %v", root, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tree lists every file and directory under dir, relative, with "/" after
// directories.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNew(t *testing.T) {
	t.Run("creates a missing root and makes it absolute", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		s := newStore(t, "a/b/ledger")
		want := filepath.Join(dir, "a", "b", "ledger")
		if s.String() != want {
			t.Errorf("String() = %q, want %q", s.String(), want)
		}
		if fi, err := os.Stat(want); err != nil || !fi.IsDir() {
			t.Errorf("root not created: %v", err)
		}
	})
	t.Run("root is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := fsstore.New(file)
		if err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("New on a file = %v, want an error naming %s", err, file)
		}
	})
}

func TestLayoutOnDisk(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	s := newStore(t, root)
	key := "apprentices/jdoe/items/git-abc.json"
	data := []byte(`{"id":"git-abc"}`)
	if _, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "apprentices", "jdoe", "items", "git-abc.json"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("object file = %q, %v; want %q", got, err, data)
	}
	// Files placed by hand are objects too.
	if err := os.WriteFile(filepath.Join(root, "apprentices", "jdoe", "coverage.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _, err := store.ReadAll(context.Background(), s, "apprentices/jdoe/coverage.json", 0)
	if err != nil || string(b) != "{}" {
		t.Fatalf("ReadAll of a hand-placed file = %q, %v", b, err)
	}
	// Delete removes directories it leaves empty, but not the root.
	for _, k := range []string{key, "apprentices/jdoe/coverage.json"} {
		if err := s.Delete(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	if got := tree(t, root); !slices.Equal(got, []string{".ksbfolio-lock"}) {
		t.Errorf("after deleting everything the root holds %q, want only the lock file", got)
	}
}

func TestTempFilesInvisible(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	s := newStore(t, root)
	ctx := context.Background()
	if _, err := s.Put(ctx, "d/obj", strings.NewReader("x"), 1, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// What a crash mid-Put leaves behind.
	for _, name := range []string{"d/.ksbfolio-tmp-0123456789abcdef01234567", ".ksbfolio-tmp-feed"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	if err := s.List(ctx, "", func(i store.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"d/obj"}) {
		t.Errorf("List = %q, want [d/obj]: temporary and lock files must not show", keys)
	}
	for _, key := range []string{".ksbfolio-lock", "d/.ksbfolio-tmp-0123456789abcdef01234567", "x/.ksbfolio-y/z"} {
		if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey (reserved name)", key, err)
		}
		if _, err := s.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{}); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey (reserved name)", key, err)
		}
	}
	// A failed Put leaves no temporary file behind.
	_, err := s.Put(ctx, "d/failed", io.MultiReader(strings.NewReader("half"), errReader{}), -1, store.PutOptions{})
	if err == nil {
		t.Fatal("Put from a failing reader: no error")
	}
	if got := tree(t, filepath.Join(root, "d")); !slices.Equal(got, []string{".ksbfolio-tmp-0123456789abcdef01234567", "obj"}) {
		t.Errorf("after a failed Put d/ holds %q", got)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read failed") }

func TestSymlinkEscapeRefused(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "store")
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside data"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, root)
	if err := os.MkdirAll(filepath.Join(root, "apprentices"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A directory link and a file link leading out, a relative link that
	// stays inside.
	links := map[string]string{
		"apprentices/evil": outside,
		"escape":           "../outside",
		"file-link":        filepath.Join(outside, "secret"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "apprentices", "real"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(root, "apprentices", "alias")); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	for _, key := range []string{"apprentices/evil/secret", "escape/secret", "file-link", "apprentices/evil/new", "escape/new/deeper"} {
		t.Run(key, func(t *testing.T) {
			if rc, _, err := s.Get(ctx, key); err == nil {
				b, _ := io.ReadAll(rc)
				rc.Close()
				t.Errorf("Get(%q) read %q from outside the root", key, b)
			} else if errors.Is(err, store.ErrNotFound) && strings.HasSuffix(key, "secret") {
				t.Errorf("Get(%q) = %v; want an error saying the path leaves the store, not ErrNotFound", key, err)
			}
			if _, err := s.Stat(ctx, key); err == nil {
				t.Errorf("Stat(%q) succeeded through a link out of the root", key)
			}
			// Put of the link itself may replace the link with an object
			// (rename does not follow it); through it, it must fail.
			_, err := s.Put(ctx, key, strings.NewReader("pwned"), 5, store.PutOptions{})
			if fi, lerr := os.Lstat(filepath.Join(root, key)); err == nil && (lerr != nil || !fi.Mode().IsRegular()) {
				t.Errorf("Put(%q) succeeded through a link out of the root", key)
			}
			if err := s.Delete(ctx, key); err == nil && strings.HasSuffix(key, "secret") {
				if _, serr := os.Stat(filepath.Join(outside, "secret")); serr != nil {
					t.Errorf("Delete(%q) removed a file outside the root", key)
				}
			}
		})
	}
	if got := tree(t, outside); !slices.Equal(got, []string{"secret"}) {
		t.Errorf("outside the root now holds %q, want only [secret]", got)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "outside data" {
		t.Errorf("outside file changed to %q", b)
	}
	// Links that stay inside the root work; List does not wander out.
	b, _, err := store.ReadAll(ctx, s, "apprentices/alias", 0)
	if err != nil || string(b) != "inside" {
		t.Errorf("ReadAll through an inside link = %q, %v", b, err)
	}
	var keys []string
	if err := s.List(ctx, "", func(i store.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"apprentices/alias", "apprentices/real"}; !slices.Equal(keys, want) {
		t.Errorf("List = %q, want %q", keys, want)
	}
}

func TestSymlinkCycle(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	s := newStore(t, root)
	ctx := context.Background()
	if _, err := s.Put(ctx, "a/x", strings.NewReader("x"), 1, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(root, "a", "up")); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := s.List(ctx, "", func(i store.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"a/x"}) {
		t.Errorf("List with a link cycle = %q, want [a/x]", keys)
	}
}

func TestNothingWrittenOutside(t *testing.T) {
	base := t.TempDir()
	s := newStore(t, filepath.Join(base, "store"))
	for _, key := range storetest.InvalidKeys() {
		_, _ = s.Put(context.Background(), key, strings.NewReader("x"), 1, store.PutOptions{})
	}
	if got := tree(t, base); !slices.Equal(got, []string{"store/", "store/.ksbfolio-lock"}) {
		t.Errorf("after refused Puts the parent holds %q", got)
	}
}

func TestFileInTheWay(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "store"))
	ctx := context.Background()
	put := func(key string, opts store.PutOptions) error {
		_, err := s.Put(ctx, key, strings.NewReader("x"), 1, opts)
		return err
	}
	if err := put("a/b", store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// On a filesystem "a/b" cannot be both an object and a directory.
	if err := put("a/b/c", store.PutOptions{}); err == nil || !strings.Contains(err.Error(), "a/b/c") {
		t.Errorf("Put under an object = %v, want an error naming the key", err)
	}
	if err := put("a", store.PutOptions{}); err == nil || !strings.Contains(err.Error(), "put a") {
		t.Errorf("Put over a directory = %v, want an error naming the key", err)
	}
	if err := put("a", store.PutOptions{IfAbsent: true}); err == nil || errors.Is(err, store.ErrPrecondition) {
		t.Errorf("Put(IfAbsent) over a directory = %v, want an error that is not ErrPrecondition", err)
	}
	b, _, err := store.ReadAll(ctx, s, "a/b", 0)
	if err != nil || string(b) != "x" {
		t.Errorf("a/b = %q, %v after refused puts", b, err)
	}
}

// Two Store values on one folder behave as two processes would: the lock
// is the file's, not the value's.
func TestTwoStoresOneFolder(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	a, b := newStore(t, root), newStore(t, root)
	ctx := context.Background()
	if _, err := a.Put(ctx, "k", strings.NewReader("0"), 1, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := b.Stat(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Put(ctx, "k", strings.NewReader("1"), 1, store.PutOptions{IfMatch: info.ETag}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("2"), 1, store.PutOptions{IfMatch: info.ETag}); !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("second store's stale IfMatch = %v, want ErrPrecondition", err)
	}
}

// FuzzKey: for any key, Put either refuses it with ErrInvalidKey or the
// object lands inside the root, readable at that key.
func FuzzKey(f *testing.F) {
	for _, k := range append(storetest.InvalidKeys(),
		"a", "a/b", "..a", "a/.b", "ä", "a b/c", ".ksbfolio-lock", "x/.ksbfolio-tmp-1", "a/b/../c", "C:\\x", "~/x", "$HOME") {
		f.Add(k)
	}
	base := f.TempDir()
	root := filepath.Join(base, "store")
	s, err := fsstore.New(root)
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, key string) {
		data := []byte(key)
		_, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{})
		if err != nil {
			if errors.Is(err, store.ErrInvalidKey) {
				if store.ValidKey(key) == nil && !strings.Contains(key, ".ksbfolio-") {
					t.Fatalf("Put(%q) refused a valid key: %v", key, err)
				}
				return
			}
			// A valid key may still fail on this filesystem (a name too
			// long, a file in the way); it must not have landed anywhere.
			if store.ValidKey(key) != nil {
				t.Fatalf("Put(%q) of an invalid key: %v, want ErrInvalidKey", key, err)
			}
			return
		}
		if store.ValidKey(key) != nil {
			t.Fatalf("Put(%q) accepted an invalid key", key)
		}
		p := filepath.Join(root, filepath.FromSlash(key))
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Fatalf("Put(%q) wrote %s, outside %s", key, p, root)
		}
		got, rerr := os.ReadFile(p)
		if rerr != nil || !bytes.Equal(got, data) {
			t.Fatalf("Put(%q): file %s holds %q, %v", key, p, got, rerr)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
		entries, _ := os.ReadDir(base)
		if len(entries) != 1 || entries[0].Name() != "store" {
			t.Fatalf("after Put(%q) the store's parent holds %v", key, entries)
		}
	})
}

func BenchmarkPut1KiB(b *testing.B) {
	s, err := fsstore.New(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 1024)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		key := "apprentices/jdoe/items/" + strconv.Itoa(i%100) + ".json"
		if _, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkList1000(b *testing.B) {
	s, err := fsstore.New(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range 1000 {
		key := "apprentices/jdoe/blobs/sha256/" + strconv.Itoa(i%16) + "/" + strconv.Itoa(i)
		if _, err := s.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		n := 0
		if err := s.List(ctx, "apprentices/jdoe/", func(store.Info) error { n++; return nil }); err != nil || n != 1000 {
			b.Fatalf("List: %d, %v", n, err)
		}
	}
}

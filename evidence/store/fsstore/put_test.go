package fsstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// The conformance suite passes on every way of writing: unnamed files
// (O_TMPFILE, where the filesystem has it: here), linked on their
// descriptor (AT_EMPTY_PATH, where the kernel allows it: Linux 6.10 and
// later, or with CAP_DAC_READ_SEARCH) or from /proc, and named temporary
// files (the fallback).
func TestConformanceBothPaths(t *testing.T) {
	for _, viaProc := range []bool{false, true} {
		t.Run(map[bool]string{false: "unnamed", true: "unnamed via proc"}[viaProc], func(t *testing.T) {
			var stores []*fsstore.Store
			storetest.Run(t, func(t *testing.T) store.Store {
				s := newStore(t, filepath.Join(t.TempDir(), "store"))
				if viaProc {
					fsstore.LinkViaProc(s)
				}
				stores = append(stores, s)
				return s
			})
			unnamed, links := 0, map[string]int{}
			for _, s := range stores {
				switch fsstore.PutPath(s) {
				case "named":
					t.Errorf("store %s fell back to named temporary files", s)
				case "unnamed":
					unnamed++
					links[fsstore.LinkPath(s)]++
				}
			}
			if unnamed < len(stores)/2 {
				t.Errorf("%d of %d stores wrote unnamed files", unnamed, len(stores))
			}
			want := "proc"
			if !viaProc {
				want = "descriptor"
				if !emptyPathAllowed() {
					want = "proc"
				}
			}
			if links[want] < unnamed/2 || len(links) > 1 {
				t.Errorf("unnamed files linked %v, want all %q", links, want)
			}
		})
	}
	t.Run("named", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			s := newStore(t, filepath.Join(t.TempDir(), "store"))
			fsstore.NamedTemporaryFiles(s)
			return s
		})
	})
}

// emptyPathAllowed reports whether linkat(2) may link a file the caller
// opened through its descriptor (AT_EMPTY_PATH): on Linux 6.10 and later,
// or as root (CAP_DAC_READ_SEARCH).
func emptyPathAllowed() bool {
	if os.Geteuid() == 0 {
		return true
	}
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	var rel []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	var major, minor int
	if _, err := fmt.Sscanf(string(rel), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 6 || major == 6 && minor >= 10
}

// lister is a reader that, on its first read, records the names in a
// directory: what a reader of the folder sees while a Put writes.
type lister struct {
	dir    string
	data   string
	names  []string
	listed bool
	hook   func()
}

func (l *lister) Read(p []byte) (int, error) {
	if !l.listed {
		l.listed = true
		entries, _ := os.ReadDir(l.dir)
		for _, e := range entries {
			l.names = append(l.names, e.Name())
		}
		if l.hook != nil {
			l.hook()
		}
	}
	if l.data == "" {
		return 0, io.EOF
	}
	n := copy(p, l.data)
	l.data = l.data[n:]
	return n, nil
}

// umask returns the process's file mode creation mask.
func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}

func hasTemp(names []string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, ".ksbfolio-tmp-") })
}

// While a Put writes, no temporary name is in the object's directory
// when unnamed files work (and one is with the fallback, which shows the
// check sees them); after it, none either way. New keys, replaced keys,
// IfAbsent and IfMatch all land whole, replaces change the ETag, and
// IfAbsent on an existing key fails with ErrPrecondition.
func TestPutPaths(t *testing.T) {
	ctx := context.Background()
	for _, named := range []bool{false, true} {
		name := map[bool]string{false: "unnamed", true: "named"}[named]
		t.Run(name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "store")
			s := newStore(t, root)
			if named {
				fsstore.NamedTemporaryFiles(s)
			}
			dir := filepath.Join(root, "d")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			putL := func(key, body string, opts store.PutOptions) (store.Info, []string, error) {
				t.Helper()
				l := &lister{dir: dir, data: body}
				info, err := s.Put(ctx, key, l, int64(len(body)), opts)
				return info, l.names, err
			}
			check := func(what string, names []string) {
				t.Helper()
				if hasTemp(names) != named {
					t.Errorf("%s: while writing d/ held %q (temporary name expected: %v)", what, names, named)
				}
				if got := tree(t, dir); hasTemp(got) {
					t.Errorf("%s: after the Put d/ holds %q", what, got)
				}
			}

			first, names, err := putL("d/k", "one", store.PutOptions{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			check("new key", names)
			// Put sets the time itself (both times, to one instant, with
			// full precision), rather than leaving the kernel's.
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(dir, "k"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Atim != st.Mtim || !first.ModTime.Equal(time.Unix(st.Mtim.Unix())) {
				t.Errorf("times of a new object: access %v, modification %v, Put said %v; want all equal", st.Atim, st.Mtim, first.ModTime)
			}
			second, names, err := putL("d/k", "two", store.PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			check("replace", names)
			if second.ETag == first.ETag {
				t.Errorf("replace kept the ETag %q", first.ETag)
			}
			if got := get(t, s, "d/k"); got != "two" {
				t.Errorf("after replace d/k = %q", got)
			}
			if st, err := s.Stat(ctx, "d/k"); err != nil || st.ETag != second.ETag {
				t.Errorf("Stat after replace = %+v, %v; want the ETag Put returned, %q", st, err, second.ETag)
			}

			_, names, err = putL("d/k", "three", store.PutOptions{IfAbsent: true})
			if !errors.Is(err, store.ErrPrecondition) {
				t.Errorf("IfAbsent over an existing key = %v, want ErrPrecondition", err)
			}
			if got := get(t, s, "d/k"); got != "two" {
				t.Errorf("after a refused IfAbsent d/k = %q", got)
			}
			if got := tree(t, dir); hasTemp(got) {
				t.Errorf("after a refused IfAbsent d/ holds %q", got)
			}
			_, names, err = putL("d/new", "abs", store.PutOptions{IfAbsent: true})
			if err != nil {
				t.Fatal(err)
			}
			check("IfAbsent", names)

			third, names, err := putL("d/k", "four", store.PutOptions{IfMatch: second.ETag})
			if err != nil {
				t.Fatal(err)
			}
			check("IfMatch", names)
			if third.ETag == second.ETag {
				t.Errorf("IfMatch replace kept the ETag %q", second.ETag)
			}
			if _, _, err := putL("d/k", "five", store.PutOptions{IfMatch: second.ETag}); !errors.Is(err, store.ErrPrecondition) {
				t.Errorf("IfMatch with a stale ETag = %v, want ErrPrecondition", err)
			}
			if got := get(t, s, "d/k"); got != "four" {
				t.Errorf("after IfMatch d/k = %q", got)
			}

			// The check that counts is the one at commit: the key made, or
			// the object replaced, while the Put writes.
			l := &lister{dir: dir, data: "late", hook: func() {
				if err := os.WriteFile(filepath.Join(dir, "race"), []byte("first"), 0o644); err != nil {
					t.Error(err)
				}
			}}
			if _, err := s.Put(ctx, "d/race", l, 4, store.PutOptions{IfAbsent: true}); !errors.Is(err, store.ErrPrecondition) {
				t.Errorf("IfAbsent when the key appeared mid-Put = %v, want ErrPrecondition", err)
			}
			if got := get(t, s, "d/race"); got != "first" {
				t.Errorf("after IfAbsent lost the race d/race = %q", got)
			}
			before, err := s.Stat(ctx, "d/race")
			if err != nil {
				t.Fatal(err)
			}
			l = &lister{dir: dir, data: "late", hook: func() {
				if err := put(t, s, "d/race", "second", store.PutOptions{}); err != nil {
					t.Error(err)
				}
			}}
			if _, err := s.Put(ctx, "d/race", l, 4, store.PutOptions{IfMatch: before.ETag}); !errors.Is(err, store.ErrPrecondition) {
				t.Errorf("IfMatch when the object was replaced mid-Put = %v, want ErrPrecondition", err)
			}
			if got := get(t, s, "d/race"); got != "second" {
				t.Errorf("after IfMatch lost the race d/race = %q", got)
			}
			if got, want := tree(t, dir), []string{"k", "new", "race"}; !slices.Equal(got, want) {
				t.Errorf("d/ holds %q, want %q", got, want)
			}
			if fi, err := os.Stat(filepath.Join(dir, "k")); err != nil || fi.Mode().Perm() != 0o644&^umask() {
				t.Errorf("object file mode = %v, %v; want %v", fi.Mode(), err, os.FileMode(0o644&^umask()))
			}
		})
	}
}

// An unnamed file does not keep its directory from being empty. A Delete
// through the same Store leaves a directory a Put is writing into; one
// through another Store (another process) may remove it, and the Put
// makes it again and lands there.
func TestPutIntoDirectoryRemovedWhileWriting(t *testing.T) {
	ctx := context.Background()
	for _, opts := range []store.PutOptions{{}, {NoSync: true}, {IfAbsent: true}} {
		root := filepath.Join(t.TempDir(), "store")
		s := newStore(t, root)
		other := newStore(t, root)
		if err := put(t, s, "a/b/old", "x", store.PutOptions{NoSync: true}); err != nil {
			t.Fatal(err)
		}
		l := &lister{dir: filepath.Join(root, "a", "b"), data: "new", hook: func() {
			if err := s.Delete(ctx, "a/b/old"); err != nil {
				t.Error(err)
			}
			if _, err := os.Stat(filepath.Join(root, "a", "b")); err != nil {
				t.Errorf("Delete removed the directory a Put of its Store is writing into: %v", err)
			}
			// Gone already; the other Store removes what it finds empty.
			if err := other.Delete(ctx, "a/b/old"); err != nil {
				t.Error(err)
			}
			if _, err := os.Stat(filepath.Join(root, "a")); !os.IsNotExist(err) {
				t.Errorf("another Store's Delete left its emptied directory: %v", err)
			}
		}}
		if _, err := s.Put(ctx, "a/b/new", l, 3, opts); err != nil {
			t.Fatalf("%+v: Put while its directory was removed: %v", opts, err)
		}
		if got := get(t, s, "a/b/new"); got != "new" {
			t.Errorf("%+v: a/b/new = %q", opts, got)
		}
		if got := tree(t, root); !slices.Equal(got, []string{".ksbfolio-lock", "a/", "a/b/", "a/b/new"}) {
			t.Errorf("%+v: store holds %q", opts, got)
		}
	}
}

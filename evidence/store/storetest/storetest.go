// Package storetest is the conformance suite for store.Store backends: the
// contract in the store package's doc comments, written as tests. Every
// backend's tests call Run with a constructor for a fresh, empty store.
//
// It also starts the real servers backends are tested against
// (StartVersityGW, an S3 API on loopback) and decides whether a test that
// cannot find such a server skips or fails (RequireOrSkip).
package storetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// Run runs the conformance suite against the stores newStore returns. Each
// subtest calls newStore once and expects an empty store it may fill; the
// constructor registers its own cleanup with t.
//
// It checks: round trips (empty, binary, 5 MiB, unknown size), a size that
// does not match the reader, overwrite, ErrNotFound, Delete, List (prefix
// matching that ignores segment boundaries, lexical order, agreement with
// Stat, stopping on fn's error), cancelled contexts before and during a Put,
// ErrInvalidKey for keys store.ValidKey refuses, IfAbsent and IfMatch alone
// and raced by several goroutines (exactly one winner, no lost update),
// readers never seeing part of an object, and a Put whose reader fails
// leaving the old object in place.
//
// The suite never stores both "a/b" and "a/b/c": a folder cannot hold an
// object and a directory at one path, so the ledger's key layout avoids
// that, and so does the suite.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Info", testInfo},
		{"UnknownSize", testUnknownSize},
		{"WrongSize", testWrongSize},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"List", testList},
		{"ListStops", testListStops},
		{"Cancelled", testCancelled},
		{"CancelledMidPut", testCancelledMidPut},
		{"InvalidKeys", testInvalidKeys},
		{"IfAbsent", testIfAbsent},
		{"IfMatch", testIfMatch},
		{"ConflictingConditions", testConflictingConditions},
		{"RaceIfAbsent", testRaceIfAbsent},
		{"RaceIfMatch", testRaceIfMatch},
		{"RacePut", testRacePut},
		{"ReadersSeeWholeObjects", testReadersSeeWholeObjects},
		{"FailedPut", testFailedPut},
		{"String", testString},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// payload returns n deterministic pseudo-random bytes for seed.
func payload(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// plainReader hides every method but Read, so a backend cannot take a
// shortcut through io.Seeker, io.ReaderAt or Len.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

func put(t *testing.T, s store.Store, key string, data []byte) {
	t.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), store.PutOptions{})
	if err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
	if info.Size != int64(len(data)) || info.Key != key || info.ETag == "" {
		t.Fatalf("Put(%q, %d bytes) returned %+v", key, len(data), info)
	}
}

// testInfo: Put returns the new object's Info and Get the Info of the
// version it reads, both equal to Stat's, so that compare-and-swap needs
// no extra request.
func testInfo(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, opts := range []store.PutOptions{{IfAbsent: true}, {}, {IfMatch: "from the last Put"}} {
		if opts.IfMatch != "" {
			opts.IfMatch = stat(t, s, "info/k").ETag
		}
		data := fmt.Appendf(nil, "version %d", i)
		pi, err := s.Put(ctx, "info/k", bytes.NewReader(data), int64(len(data)), opts)
		if err != nil {
			t.Fatalf("Put %d (%+v): %v", i, opts, err)
		}
		si := stat(t, s, "info/k")
		if pi.Key != "info/k" || pi.Size != int64(len(data)) || pi.ETag != si.ETag {
			t.Errorf("Put %d returned %+v; Stat says %+v", i, pi, si)
		}
		rc, gi, err := s.Get(ctx, "info/k")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("Get %d: %q, %v", i, b, err)
		}
		if gi.Key != "info/k" || gi.Size != si.Size || gi.ETag != si.ETag {
			t.Errorf("Get %d returned %+v; Stat says %+v", i, gi, si)
		}
	}
	if _, _, err := s.Get(ctx, "info/missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a missing key = %v, want ErrNotFound", err)
	}
}

func get(t *testing.T, s store.Store, key string) []byte {
	t.Helper()
	rc, info, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	// Get's Info describes the bytes it returned (Stat may already see a
	// newer version when writers race: testInfo compares the two).
	if info.Size != int64(len(b)) || info.Key != key || info.ETag == "" {
		t.Fatalf("Get(%q) returned %+v for %d bytes", key, info, len(b))
	}
	return b
}

func stat(t *testing.T, s store.Store, key string) store.Info {
	t.Helper()
	info, err := s.Stat(context.Background(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	return info
}

func list(t *testing.T, s store.Store, prefix string) []store.Info {
	t.Helper()
	var out []store.Info
	err := s.List(context.Background(), prefix, func(i store.Info) error {
		out = append(out, i)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return out
}

func keys(infos []store.Info) []string {
	out := make([]string, len(infos))
	for i, info := range infos {
		out[i] = info.Key
	}
	return out
}

// wantContent fails t unless the object at key holds want.
func wantContent(t *testing.T, s store.Store, key string, want []byte) {
	t.Helper()
	got := get(t, s, key)
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %d bytes %s, want %d bytes %s", key, len(got), short(got), len(want), short(want))
	}
}

// wantMissing fails t unless Get and Stat of key give store.ErrNotFound.
func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	if rc, _, err := s.Get(context.Background(), key); !errors.Is(err, store.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Fatalf("Get(%q) error = %v, want ErrNotFound", key, err)
	}
	if _, err := s.Stat(context.Background(), key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Stat(%q) error = %v, want ErrNotFound", key, err)
	}
}

func short(b []byte) string {
	if len(b) > 16 {
		return fmt.Sprintf("%q…", b[:16])
	}
	return fmt.Sprintf("%q", b)
}

func testRoundTrip(t *testing.T, s store.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	cases := []struct {
		name, key string
		data      []byte
	}{
		{"empty", "rt/empty", nil},
		{"zero-length slice", "rt/zero", []byte{}},
		{"text", "rt/text.json", []byte(`{"schema": 1, "id": "x"}` + "\n")},
		{"binary", "rt/bin/all-bytes", all},
		{"unicode key", "rt/ünï/ codé (1).txt", []byte("unicode key")},
		{"deep key", "apprentices/jdoe/blobs/sha256/ab/abcdef", []byte("deep")},
		{"5 MiB", "rt/big", payload(1, 5<<20)},
	}
	before := time.Now().Add(-time.Hour)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			put(t, s, tc.key, tc.data)
			wantContent(t, s, tc.key, tc.data)
			info := stat(t, s, tc.key)
			if info.Key != tc.key || info.Size != int64(len(tc.data)) {
				t.Errorf("Stat = {Key %q, Size %d}, want {%q, %d}", info.Key, info.Size, tc.key, len(tc.data))
			}
			if info.ETag == "" {
				t.Errorf("Stat(%q).ETag is empty", tc.key)
			}
			if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Hour)) {
				t.Errorf("Stat(%q).ModTime = %v, want about now", tc.key, info.ModTime)
			}
		})
	}
}

func testUnknownSize(t *testing.T, s store.Store) {
	for _, n := range []int{0, 1, 100_000, 5 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			key := fmt.Sprintf("unknown/%d", n)
			data := payload(uint64(n), n)
			if _, err := s.Put(context.Background(), key, plainReader{bytes.NewReader(data)}, -1, store.PutOptions{}); err != nil {
				t.Fatalf("Put(%q, size -1): %v", key, err)
			}
			wantContent(t, s, key, data)
			if info := stat(t, s, key); info.Size != int64(n) {
				t.Errorf("Stat(%q).Size = %d, want %d", key, info.Size, n)
			}
		})
	}
}

func testWrongSize(t *testing.T, s store.Store) {
	old := []byte("old content")
	data := []byte("0123456789")
	for _, size := range []int64{5, 11, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("wrong/%d", size)
			put(t, s, key, old)
			_, err := s.Put(context.Background(), key, plainReader{bytes.NewReader(data)}, size, store.PutOptions{})
			if err == nil {
				t.Fatalf("Put(%q) of %d bytes declared as %d: no error", key, len(data), size)
			}
			wantContent(t, s, key, old)
			_, err = s.Put(context.Background(), key+"-new", plainReader{bytes.NewReader(data)}, size, store.PutOptions{})
			if err == nil {
				t.Fatalf("Put(%q) of %d bytes declared as %d: no error", key+"-new", len(data), size)
			}
			wantMissing(t, s, key+"-new")
		})
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	put(t, s, "ow/k", []byte("first version, longer"))
	first := stat(t, s, "ow/k")
	put(t, s, "ow/k", []byte("second"))
	wantContent(t, s, "ow/k", []byte("second"))
	second := stat(t, s, "ow/k")
	if second.Size != 6 {
		t.Errorf("Size after overwrite = %d, want 6", second.Size)
	}
	if second.ETag == first.ETag {
		t.Errorf("ETag unchanged after overwrite with new content: %q", first.ETag)
	}
	put(t, s, "ow/k", nil)
	wantContent(t, s, "ow/k", nil)
	if got := keys(list(t, s, "ow/")); !slices.Equal(got, []string{"ow/k"}) {
		t.Errorf("List after overwrites = %q, want [ow/k]", got)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	wantMissing(t, s, "missing")
	wantMissing(t, s, "missing/deeper/key.json")
	put(t, s, "dir/obj", []byte("x"))
	// "dir" is a prefix of an object, not an object.
	wantMissing(t, s, "dir")
	// A key under an object is not an object either.
	wantMissing(t, s, "dir/obj/under")
}

func testDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	put(t, s, "del/a", []byte("a"))
	put(t, s, "del/b/c", []byte("c"))
	if err := s.Delete(ctx, "del/a"); err != nil {
		t.Fatalf("Delete(del/a): %v", err)
	}
	wantMissing(t, s, "del/a")
	if err := s.Delete(ctx, "del/a"); err != nil {
		t.Errorf("second Delete(del/a) = %v, want nil", err)
	}
	if err := s.Delete(ctx, "never/existed"); err != nil {
		t.Errorf("Delete of a missing key = %v, want nil", err)
	}
	// Deleting a prefix that is not an object deletes nothing.
	if err := s.Delete(ctx, "del/b"); err != nil {
		t.Errorf("Delete(del/b) (a prefix, not an object) = %v, want nil", err)
	}
	wantContent(t, s, "del/b/c", []byte("c"))
	if got := keys(list(t, s, "")); !slices.Equal(got, []string{"del/b/c"}) {
		t.Errorf("List after deletes = %q, want [del/b/c]", got)
	}
	if err := s.Delete(ctx, "del/b/c"); err != nil {
		t.Fatalf("Delete(del/b/c): %v", err)
	}
	if got := list(t, s, ""); len(got) != 0 {
		t.Errorf("List after deleting everything = %q, want nothing", keys(got))
	}
	// The place is reusable after a delete.
	put(t, s, "del/b", []byte("now an object"))
	wantContent(t, s, "del/b", []byte("now an object"))
}

func testList(t *testing.T, s store.Store) {
	// No key here is a whole-segment prefix of another ("a/b" and "a/b/c"):
	// on a filesystem one path cannot be both an object and a directory.
	all := []string{
		"a-b", "a.b", "a/b!x", "a/b.c", "a/b/c", "a/b/c2/d", "a/bc", "a/bd/x", "a0", "ab",
		"apprentices/jdoe/items/git-1.json", "apprentices/jdoe/items/git-2.json",
		"apprentices/jdoe/lock", "apprentices/jdoe2/items/x.json",
		"b/x/y", "z",
	}
	// Write in a scrambled order so a backend cannot pass by remembering it.
	order := slices.Clone(all)
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for i, k := range order {
		put(t, s, k, bytes.Repeat([]byte{'x'}, i+1))
	}
	for _, prefix := range []string{
		"", "a", "a/", "a/b", "a/b/", "a/b/c", "a/b/c/", "a/b/c2/d", "a/bd", "a.", "a-",
		"apprentices/jdoe", "apprentices/jdoe/", "apprentices/jdoe/items/git-",
		"b/x", "nope", "nope/", "zz", "../", "a//",
	} {
		t.Run(fmt.Sprintf("%q", prefix), func(t *testing.T) {
			var want []string
			for _, k := range all {
				if strings.HasPrefix(k, prefix) {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			got := list(t, s, prefix)
			if !slices.Equal(keys(got), want) {
				t.Fatalf("List(%q) = %q, want %q", prefix, keys(got), want)
			}
			for _, info := range got {
				st := stat(t, s, info.Key)
				if info.Size != st.Size || info.ETag != st.ETag {
					t.Errorf("List gives %q {Size %d, ETag %q}, Stat gives {Size %d, ETag %q}",
						info.Key, info.Size, info.ETag, st.Size, st.ETag)
				}
				if d := info.ModTime.Sub(st.ModTime); d > time.Second || d < -time.Second {
					t.Errorf("List gives %q ModTime %v, Stat gives %v", info.Key, info.ModTime, st.ModTime)
				}
				if want := int64(slices.Index(order, info.Key) + 1); info.Size != want {
					t.Errorf("List gives %q Size %d, want %d", info.Key, info.Size, want)
				}
			}
		})
	}
}

func testListStops(t *testing.T, s store.Store) {
	for i := range 5 {
		put(t, s, fmt.Sprintf("stop/%d", i), []byte{byte(i)})
	}
	stop := errors.New("enough")
	var seen []string
	err := s.List(context.Background(), "stop/", func(i store.Info) error {
		seen = append(seen, i.Key)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if !slices.Equal(seen, []string{"stop/0", "stop/1"}) {
		t.Errorf("callback saw %q, want [stop/0 stop/1] and then no more", seen)
	}
}

func testCancelled(t *testing.T, s store.Store) {
	put(t, s, "cx/present", []byte("here"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "cx/new", strings.NewReader("data"), 4, store.PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled ctx = %v, want context.Canceled", err)
	}
	wantMissing(t, s, "cx/new")
	if _, err := s.Put(ctx, "cx/present", strings.NewReader("data"), 4, store.PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put (overwrite) with a cancelled ctx = %v, want context.Canceled", err)
	}
	wantContent(t, s, "cx/present", []byte("here"))
	if rc, _, err := s.Get(ctx, "cx/present"); !errors.Is(err, context.Canceled) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Get with a cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := s.Stat(ctx, "cx/present"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with a cancelled ctx = %v, want context.Canceled", err)
	}
	called := false
	if err := s.List(ctx, "", func(store.Info) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled ctx = %v, want context.Canceled", err)
	}
	if called {
		t.Errorf("List with a cancelled ctx called fn")
	}
	if err := s.Delete(ctx, "cx/present"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled ctx = %v, want context.Canceled", err)
	}
	wantContent(t, s, "cx/present", []byte("here"))

	// List notices a cancellation from inside fn.
	for i := range 3 {
		put(t, s, fmt.Sprintf("cx/l/%d", i), []byte("x"))
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err := s.List(ctx, "cx/l/", func(store.Info) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("List cancelled from fn = %v after %d calls, want context.Canceled after 1", err, n)
	}
}

// cancellingReader cancels its context once it has handed out at least
// after bytes, and keeps handing out data.
type cancellingReader struct {
	r      io.Reader
	after  int
	n      int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if len(p) > 4096 {
		p = p[:4096]
	}
	n, err := c.r.Read(p)
	c.n += n
	if c.n >= c.after {
		c.cancel()
	}
	return n, err
}

func testCancelledMidPut(t *testing.T, s store.Store) {
	old := []byte("old")
	data := payload(3, 1<<20)
	for _, size := range []int64{int64(len(data)), -1} {
		t.Run(fmt.Sprintf("size %d", size), func(t *testing.T) {
			key := fmt.Sprintf("cmid/%d", size)
			put(t, s, key, old)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &cancellingReader{r: bytes.NewReader(data), after: len(data) / 2, cancel: cancel}
			if _, err := s.Put(ctx, key, r, size, store.PutOptions{}); !errors.Is(err, context.Canceled) {
				t.Errorf("Put cancelled half-way = %v, want context.Canceled", err)
			}
			wantContent(t, s, key, old)
			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			r = &cancellingReader{r: bytes.NewReader(data), after: len(data) / 2, cancel: cancel}
			if _, err := s.Put(ctx, key+"-new", r, size, store.PutOptions{}); !errors.Is(err, context.Canceled) {
				t.Errorf("Put of a new key cancelled half-way = %v, want context.Canceled", err)
			}
			wantMissing(t, s, key+"-new")
			if got := keys(list(t, s, key)); !slices.Equal(got, []string{key}) {
				t.Errorf("List(%q) after cancelled puts = %q, want [%s]", key, got, key)
			}
		})
	}
}

// InvalidKeys returns keys every backend must refuse with
// store.ErrInvalidKey: traversal, absolute, empty segments, backslashes,
// control characters, too long.
func InvalidKeys() []string {
	return []string{
		"", "/", "../x", "..", ".", "a/..", "a/../../x", "x/../../../etc/passwd", "/abs", "/etc/passwd",
		"a//b", "a/./b", "./a", "a/", "a\\b", "..\\x", "a\x00b", "a\nb", "a\tb", "a\x7fb",
		strings.Repeat("k", 1025),
	}
}

func testInvalidKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, key := range InvalidKeys() {
		if _, err := s.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{}); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{IfAbsent: true}); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Put(%q, IfAbsent) = %v, want ErrInvalidKey", key, err)
		}
		if rc, _, err := s.Get(ctx, key); !errors.Is(err, store.ErrInvalidKey) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if got := list(t, s, ""); len(got) != 0 {
		t.Errorf("after refused puts the store holds %q, want nothing", keys(got))
	}
	// Valid keys that look odd are accepted.
	for _, key := range []string{"..a", "a..", "a/.b", "a/...", "-", "a b", "ä/ö"} {
		put(t, s, key, []byte(key))
		wantContent(t, s, key, []byte(key))
	}
}

func testIfAbsent(t *testing.T, s store.Store) {
	ctx := context.Background()
	abs := store.PutOptions{IfAbsent: true}
	if _, err := s.Put(ctx, "ia/k", strings.NewReader("one"), 3, abs); err != nil {
		t.Fatalf("Put(IfAbsent) of a missing key: %v", err)
	}
	wantContent(t, s, "ia/k", []byte("one"))
	before := stat(t, s, "ia/k")
	for _, size := range []int64{3, -1} {
		_, err := s.Put(ctx, "ia/k", strings.NewReader("two"), size, abs)
		if !errors.Is(err, store.ErrPrecondition) {
			t.Errorf("Put(IfAbsent, size %d) of an existing key = %v, want ErrPrecondition", size, err)
		}
	}
	wantContent(t, s, "ia/k", []byte("one"))
	if after := stat(t, s, "ia/k"); after.ETag != before.ETag {
		t.Errorf("ETag changed by a refused Put: %q -> %q", before.ETag, after.ETag)
	}
	// Empty objects and unknown sizes work too.
	if _, err := s.Put(ctx, "ia/empty", strings.NewReader(""), 0, abs); err != nil {
		t.Fatalf("Put(IfAbsent) of an empty object: %v", err)
	}
	if _, err := s.Put(ctx, "ia/empty", strings.NewReader(""), 0, abs); !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("second Put(IfAbsent) of an empty object = %v, want ErrPrecondition", err)
	}
	if _, err := s.Put(ctx, "ia/unknown", plainReader{strings.NewReader("u")}, -1, abs); err != nil {
		t.Fatalf("Put(IfAbsent, size -1): %v", err)
	}
	wantContent(t, s, "ia/unknown", []byte("u"))
	// A deleted key is absent again.
	if err := s.Delete(ctx, "ia/k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ia/k", strings.NewReader("three"), 5, abs); err != nil {
		t.Fatalf("Put(IfAbsent) after Delete: %v", err)
	}
	wantContent(t, s, "ia/k", []byte("three"))
}

func testIfMatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	put(t, s, "im/k", []byte("v1"))
	v1 := stat(t, s, "im/k")
	if _, err := s.Put(ctx, "im/k", strings.NewReader("v2"), 2, store.PutOptions{IfMatch: v1.ETag}); err != nil {
		t.Fatalf("Put(IfMatch current ETag): %v", err)
	}
	wantContent(t, s, "im/k", []byte("v2"))
	v2 := stat(t, s, "im/k")
	if v2.ETag == v1.ETag {
		t.Fatalf("ETag unchanged by a conditional replace: %q", v1.ETag)
	}
	for _, size := range []int64{2, -1} {
		_, err := s.Put(ctx, "im/k", strings.NewReader("v3"), size, store.PutOptions{IfMatch: v1.ETag})
		if !errors.Is(err, store.ErrPrecondition) {
			t.Errorf("Put(IfMatch stale ETag, size %d) = %v, want ErrPrecondition", size, err)
		}
	}
	wantContent(t, s, "im/k", []byte("v2"))
	if got := stat(t, s, "im/k"); got.ETag != v2.ETag {
		t.Errorf("ETag changed by a refused Put: %q -> %q", v2.ETag, got.ETag)
	}
	// The ETag from List works as well as the one from Stat.
	l := list(t, s, "im/k")
	if len(l) != 1 {
		t.Fatalf("List(im/k) = %q", keys(l))
	}
	if _, err := s.Put(ctx, "im/k", plainReader{strings.NewReader("v4")}, -1, store.PutOptions{IfMatch: l[0].ETag}); err != nil {
		t.Fatalf("Put(IfMatch ETag from List, size -1): %v", err)
	}
	wantContent(t, s, "im/k", []byte("v4"))
	// A missing object matches no ETag.
	_, err := s.Put(ctx, "im/missing", strings.NewReader("x"), 1, store.PutOptions{IfMatch: v2.ETag})
	if !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("Put(IfMatch) of a missing key = %v, want ErrPrecondition", err)
	}
	wantMissing(t, s, "im/missing")
}

func testConflictingConditions(t *testing.T, s store.Store) {
	put(t, s, "cc/k", []byte("v1"))
	etag := stat(t, s, "cc/k").ETag
	opts := store.PutOptions{IfAbsent: true, IfMatch: etag}
	if _, err := s.Put(context.Background(), "cc/k", strings.NewReader("v2"), 2, opts); err == nil {
		t.Errorf("Put with IfAbsent and IfMatch both set: no error")
	}
	wantContent(t, s, "cc/k", []byte("v1"))
}

// race runs fn(i) in n goroutines released together and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one of errs is nil and the rest are
// store.ErrPrecondition, and returns the winner's index.
func oneWinner(t *testing.T, what string, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s: goroutines %d and %d both won", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrPrecondition):
			t.Errorf("%s: goroutine %d: %v, want nil or ErrPrecondition", what, i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: nobody won: %v", what, errs)
	}
	return winner
}

const racers = 8

func testRaceIfAbsent(t *testing.T, s store.Store) {
	for round := range 10 {
		key := fmt.Sprintf("race-absent/%d", round)
		errs := race(racers, func(i int) error {
			data := fmt.Appendf(nil, "writer %d", i)
			_, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), store.PutOptions{IfAbsent: true})
			return err
		})
		w := oneWinner(t, key, errs)
		wantContent(t, s, key, fmt.Appendf(nil, "writer %d", w))
	}
}

func testRaceIfMatch(t *testing.T, s store.Store) {
	for round := range 10 {
		key := fmt.Sprintf("race-match/%d", round)
		put(t, s, key, []byte("initial"))
		etag := stat(t, s, key).ETag
		errs := race(racers, func(i int) error {
			data := fmt.Appendf(nil, "writer %d", i)
			_, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), store.PutOptions{IfMatch: etag})
			return err
		})
		w := oneWinner(t, key, errs)
		wantContent(t, s, key, fmt.Appendf(nil, "writer %d", w))
	}
	// A chain of compare-and-swap increments loses no update.
	key := "race-match/counter"
	put(t, s, key, []byte("0"))
	var mu sync.Mutex
	total := 0
	errs := race(4, func(int) error {
		for done := 0; done < 5; {
			// One Get gives the content and the ETag of that content.
			b, info, err := store.ReadAll(context.Background(), s, key, 0)
			if err != nil {
				return err
			}
			var n int
			if _, err := fmt.Sscan(string(b), &n); err != nil {
				return fmt.Errorf("counter holds %q: %w", b, err)
			}
			next := fmt.Append(nil, n+1)
			_, err = s.Put(context.Background(), key, bytes.NewReader(next), int64(len(next)), store.PutOptions{IfMatch: info.ETag})
			switch {
			case errors.Is(err, store.ErrPrecondition):
				continue
			case err != nil:
				return err
			}
			done++
			mu.Lock()
			total++
			mu.Unlock()
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("incrementer %d: %v", i, err)
		}
	}
	if total != 20 {
		t.Fatalf("%d successful increments, want 20", total)
	}
	wantContent(t, s, key, []byte("20"))
}

func testRacePut(t *testing.T, s store.Store) {
	key := "race-put/k"
	versions := make([][]byte, racers)
	for i := range versions {
		versions[i] = bytes.Repeat([]byte{byte('a' + i)}, 64<<10+i)
	}
	errs := race(racers, func(i int) error {
		_, err := s.Put(context.Background(), key, bytes.NewReader(versions[i]), int64(len(versions[i])), store.PutOptions{})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("unconditional Put %d: %v", i, err)
		}
	}
	got := get(t, s, key)
	if !slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(v, got) }) {
		t.Fatalf("after racing Puts the object is %d bytes %s, not any one writer's whole object", len(got), short(got))
	}
}

func testReadersSeeWholeObjects(t *testing.T, s store.Store) {
	key := "whole/k"
	versions := [][]byte{bytes.Repeat([]byte{'A'}, 256<<10), bytes.Repeat([]byte{'B'}, 300<<10)}
	put(t, s, key, versions[0])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			v := versions[i%2]
			if _, err := s.Put(ctx, key, bytes.NewReader(v), int64(len(v)), store.PutOptions{}); err != nil && ctx.Err() == nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	})
	for range 20 {
		got := get(t, s, key)
		if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
			t.Errorf("reader saw %d bytes %s, not a whole version", len(got), short(got))
			break
		}
	}
	cancel()
	wg.Wait()
}

// failingReader hands out n bytes of data and then fails with err.
type failingReader struct {
	data []byte
	n    int
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n, len(f.data))]
	copy(p, f.data)
	f.data, f.n = f.data[len(p):], f.n-len(p)
	return len(p), nil
}

func testFailedPut(t *testing.T, s store.Store) {
	boom := errors.New("disk on fire")
	old := []byte("the old object")
	data := payload(9, 2<<20)
	for _, tc := range []struct {
		name string
		size int64
		opts store.PutOptions
	}{
		{"known size", int64(len(data)), store.PutOptions{}},
		{"unknown size", -1, store.PutOptions{}},
		{"if-match", int64(len(data)), store.PutOptions{IfMatch: "set below"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "fail/" + strings.ReplaceAll(tc.name, " ", "-")
			put(t, s, key, old)
			before := stat(t, s, key)
			if tc.opts.IfMatch != "" {
				tc.opts.IfMatch = before.ETag
			}
			r := &failingReader{data: data, n: len(data) / 2, err: boom}
			if _, err := s.Put(context.Background(), key, r, tc.size, tc.opts); !errors.Is(err, boom) {
				t.Fatalf("Put from a reader failing half-way = %v, want the reader's error", err)
			}
			wantContent(t, s, key, old)
			if after := stat(t, s, key); after.ETag != before.ETag || after.Size != before.Size {
				t.Errorf("failed Put changed Stat: %+v -> %+v", before, after)
			}
			r = &failingReader{data: data, n: len(data) / 2, err: boom}
			abs := store.PutOptions{IfAbsent: tc.opts.IfMatch != ""}
			if _, err := s.Put(context.Background(), key+"-new", r, tc.size, abs); err == nil {
				t.Fatalf("Put of a new key from a reader failing half-way: no error")
			}
			wantMissing(t, s, key+"-new")
			if got := keys(list(t, s, key)); !slices.Equal(got, []string{key}) {
				t.Errorf("List(%q) after failed puts = %q, want [%s]", key, got, key)
			}
		})
	}
}

func testString(t *testing.T, s store.Store) {
	if s.String() == "" {
		t.Errorf("String() is empty")
	}
}

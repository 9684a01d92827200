package fsstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// syncCounts replaces the store's durability calls with counting ones
// that still do the real thing.
type syncCounts struct{ file, dir, fs int }

func counted(t *testing.T, s *Store) *syncCounts {
	t.Helper()
	c := &syncCounts{}
	file, dir, fs := s.syncFile, s.syncDir, s.syncFS
	s.syncFile = func(f *os.File) error { c.file++; return file(f) }
	s.syncDir = func(d string) error { c.dir++; return dir(d) }
	s.syncFS = func(fd int) error { c.fs++; return fs(fd) }
	return c
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n--
		return copy(p, "partial data "), nil
	}
	return 0, errors.New("source broke")
}

// The durability calls happen exactly as the package doc says: two fsyncs
// per plain Put, none for NoSync, one syncfs per Sync; NoSync objects are
// visible and whole at once, and a failed NoSync Put leaves nothing.
func TestDurabilityCalls(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := counted(t, s)
	put := func(key, body string, opts store.PutOptions) {
		t.Helper()
		if _, err := s.Put(ctx, key, strings.NewReader(body), int64(len(body)), opts); err != nil {
			t.Fatal(err)
		}
	}
	put("a/durable", "one", store.PutOptions{})
	if *c != (syncCounts{file: 1, dir: 1}) {
		t.Fatalf("plain Put: %+v, want one file and one directory fsync", *c)
	}
	*c = syncCounts{}
	for i := range 50 {
		put(fmt.Sprintf("b/item-%02d", i), fmt.Sprintf("body %d", i), store.PutOptions{NoSync: true})
	}
	put("b/item-00", "replaced", store.PutOptions{NoSync: true})
	if *c != (syncCounts{}) {
		t.Fatalf("NoSync Puts: %+v, want no fsync", *c)
	}
	for i := 1; i < 50; i++ {
		b, _, err := store.ReadAll(ctx, s, fmt.Sprintf("b/item-%02d", i), 0)
		if err != nil || string(b) != fmt.Sprintf("body %d", i) {
			t.Fatalf("NoSync object %d reads %q, %v", i, b, err)
		}
	}
	if b, _, _ := store.ReadAll(ctx, s, "b/item-00", 0); string(b) != "replaced" {
		t.Fatalf("NoSync replace reads %q", b)
	}
	if _, err := s.Put(ctx, "b/broken", &failingReader{n: 3}, -1, store.PutOptions{NoSync: true}); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if _, err := s.Stat(ctx, "b/broken"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed NoSync Put left an object: %v", err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(s.path, "b", tmpPrefix+"*")); len(tmps) != 0 {
		t.Fatalf("a failed NoSync Put left temporary files: %v", tmps)
	}
	if err := store.Sync(ctx, s); err != nil {
		t.Fatal(err)
	}
	if *c != (syncCounts{fs: 1}) {
		t.Fatalf("Sync: %+v, want one syncfs", *c)
	}
	// A failing syncfs is reported, naming the store.
	s.syncFS = func(int) error { return errors.New("EIO") }
	if err := s.Sync(ctx); err == nil || !strings.Contains(err.Error(), s.path) {
		t.Fatalf("failing syncfs: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Sync(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sync with a cancelled context: %v", err)
	}
}

// A process killed with SIGKILL right after NoSync Puts loses none of
// them: whole or not at all does not depend on Sync, only surviving a
// power loss does.
func TestNoSyncSurvivesSIGKILL(t *testing.T) {
	if dir := os.Getenv("FSSTORE_NOSYNC_CHILD"); dir != "" {
		s, err := New(dir)
		if err != nil {
			t.Fatal(err)
		}
		body := bytes.Repeat([]byte("x"), 10000)
		for i := range 200 {
			if _, err := s.Put(context.Background(), fmt.Sprintf("items/%03d", i), bytes.NewReader(body), int64(len(body)), store.PutOptions{NoSync: true}); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Println("written")
		time.Sleep(time.Minute) // killed before this ends
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoSyncSurvivesSIGKILL$")
	cmd.Env = append(os.Environ(), "FSSTORE_NOSYNC_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "written" {
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = s.List(context.Background(), "items/", func(in store.Info) error {
		b, _, err := store.ReadAll(context.Background(), s, in.Key, 0)
		if err != nil || len(b) != 10000 {
			return fmt.Errorf("%s: %d bytes, %v", in.Key, len(b), err)
		}
		n++
		return nil
	})
	if err != nil || n != 200 {
		t.Fatalf("after SIGKILL: %d whole objects, %v", n, err)
	}
}

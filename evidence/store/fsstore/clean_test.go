package fsstore_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
)

// endless yields bytes and never ends: a Put from it writes until killed.
// It prints "writing" on its first read.
type endless struct{ started bool }

func (e *endless) Read(p []byte) (int, error) {
	if !e.started {
		e.started = true
		fmt.Println("writing")
	}
	time.Sleep(10 * time.Millisecond)
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestHelperEndlessPut is not a test: TestKilledMidPut runs the test
// binary as a child that runs it and kills it mid-Put.
func TestHelperEndlessPut(t *testing.T) {
	root := os.Getenv("FSSTORE_HELPER_PUT_ROOT")
	if root == "" {
		t.Skip("helper for TestKilledMidPut")
	}
	s, err := fsstore.New(root)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("FSSTORE_HELPER_NAMED") != "" {
		fsstore.NamedTemporaryFiles(s)
	}
	_, err = s.Put(context.Background(), "apprentices/jdoe/artefacts/big.bin", &endless{}, -1, store.PutOptions{})
	t.Fatalf("Put from an endless reader returned: %v", err)
}

// temps returns the temporary files under root, relative to it.
func temps(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for _, p := range tree(t, root) {
		if strings.HasPrefix(filepath.Base(p), ".ksbfolio-tmp-") {
			out = append(out, p)
		}
	}
	return out
}

// killMidPut runs TestHelperEndlessPut in a child process on root (with
// named temporary files if named) and kills it once it has written a
// little.
func killMidPut(t *testing.T, root string, named bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperEndlessPut$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FSSTORE_HELPER_PUT_ROOT="+root)
	if named {
		cmd.Env = append(cmd.Env, "FSSTORE_HELPER_NAMED=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "writing" {
				started <- true
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the child did not start writing within 20s")
	}
	time.Sleep(100 * time.Millisecond) // let it write a little
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
}

// TestKilledMidPut: a process killed mid-Put leaves no temporary file
// where unnamed files work, only the directory the Put made; with named
// temporary files it leaves one, which CleanTemp leaves while it is young
// and removes, and the directory it made, once it is older than the grace
// period.
func TestKilledMidPut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	ctx := context.Background()
	setup := func(t *testing.T) (*fsstore.Store, string) {
		root := filepath.Join(t.TempDir(), "store")
		s := newStore(t, root)
		if _, err := s.Put(ctx, "apprentices/jdoe/items/a.json", strings.NewReader("{}"), 2, store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if fsstore.PutPath(s) != "unnamed" {
			t.Fatal("this filesystem has no O_TMPFILE: the test needs it")
		}
		return s, root
	}

	t.Run("unnamed file", func(t *testing.T) {
		_, root := setup(t)
		killMidPut(t, root, false)
		if got := tree(t, root); !slices.Equal(got, []string{".ksbfolio-lock", "apprentices/", "apprentices/jdoe/", "apprentices/jdoe/artefacts/", "apprentices/jdoe/items/", "apprentices/jdoe/items/a.json"}) {
			t.Errorf("after SIGKILL mid-Put the store holds %q, want nothing new but the Put's directory", got)
		}
	})

	t.Run("named temporary file", func(t *testing.T) {
		s, root := setup(t)
		killMidPut(t, root, true)
		left := temps(t, root)
		if len(left) != 1 || !strings.HasPrefix(left[0], "apprentices/jdoe/artefacts/") {
			t.Fatalf("after SIGKILL mid-Put the store holds temporary files %q, want one in artefacts/", left)
		}

		// Young: a Put may still be writing it.
		if n, err := s.CleanTemp(ctx, time.Hour); err != nil || n != 0 {
			t.Errorf("CleanTemp(1h) of a fresh temporary file = %d, %v; want 0, nil", n, err)
		}
		if got := temps(t, root); !slices.Equal(got, left) {
			t.Errorf("CleanTemp(1h) removed a fresh temporary file: %q left", got)
		}

		old := time.Now().Add(-2 * time.Hour)
		if err := os.Chtimes(filepath.Join(root, left[0]), old, old); err != nil {
			t.Fatal(err)
		}
		if n, err := s.CleanTemp(ctx, time.Hour); err != nil || n != 1 {
			t.Errorf("CleanTemp(1h) of a 2h-old temporary file = %d, %v; want 1, nil", n, err)
		}
		if got := tree(t, root); !slices.Equal(got, []string{".ksbfolio-lock", "apprentices/", "apprentices/jdoe/", "apprentices/jdoe/items/", "apprentices/jdoe/items/a.json"}) {
			t.Errorf("after CleanTemp the store holds %q, want the object and the lock file only", got)
		}
		// The key whose folder the crashed Put made is usable.
		if _, err := s.Put(ctx, "apprentices/jdoe/artefacts", strings.NewReader("x"), 1, store.PutOptions{}); err != nil {
			t.Errorf("Put where the emptied folder was: %v", err)
		}
	})
}

// TestCleanTempStaysInside: links are not followed, whatever their name,
// and only temporary files are removed.
func TestCleanTempStaysInside(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, ".ksbfolio-tmp-victim")
	if err := os.WriteFile(victim, []byte("not the store's"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "store")
	s := newStore(t, root)
	ctx := context.Background()
	if _, err := s.Put(ctx, "d/.x", strings.NewReader("x"), 1, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "d", "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(root, "d", ".ksbfolio-tmp-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "d", ".ksbfolio-tmp-real"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := s.CleanTemp(ctx, 0)
	if err != nil || n != 1 {
		t.Errorf("CleanTemp(0) = %d, %v; want 1 (the real temporary file), nil", n, err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("CleanTemp removed a file outside the store: %v", err)
	}
	if got := tree(t, root); !slices.Equal(got, []string{".ksbfolio-lock", "d/", "d/.ksbfolio-tmp-link", "d/.x", "d/out"}) {
		t.Errorf("after CleanTemp the store holds %q", got)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.CleanTemp(cancelled, 0); err == nil {
		t.Error("CleanTemp with a cancelled context: no error")
	}
}

package fsstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
)

// increment adds one to the counter at key by compare-and-swap, retrying
// until its write wins.
func increment(ctx context.Context, s store.Store, key string) error {
	for {
		info, err := s.Stat(ctx, key)
		if err != nil {
			return err
		}
		b, _, err := store.ReadAll(ctx, s, key, 0)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(string(b))
		if err != nil {
			return fmt.Errorf("counter holds %q", b)
		}
		next := []byte(strconv.Itoa(n + 1))
		_, err = s.Put(ctx, key, bytes.NewReader(next), int64(len(next)), store.PutOptions{IfMatch: info.ETag})
		if !errors.Is(err, store.ErrPrecondition) {
			return err
		}
	}
}

// TestHelperIncrement is not a test: TestProcessesShareTheLock runs the
// test binary as a child that runs it.
func TestHelperIncrement(t *testing.T) {
	root := os.Getenv("FSSTORE_HELPER_ROOT")
	if root == "" {
		t.Skip("helper for TestProcessesShareTheLock")
	}
	s, err := fsstore.New(root)
	if err != nil {
		t.Fatal(err)
	}
	for range 25 {
		if err := increment(context.Background(), s, "counter"); err != nil {
			t.Fatal(err)
		}
	}
}

// Compare-and-swap from several processes at once loses no update: the
// flock is shared across processes.
func TestProcessesShareTheLock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	root := filepath.Join(t.TempDir(), "store")
	s := newStore(t, root)
	ctx := context.Background()
	if _, err := s.Put(ctx, "counter", bytes.NewReader([]byte("0")), 1, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	const procs = 3
	var wg sync.WaitGroup
	errs := make([]error, procs)
	outs := make([][]byte, procs)
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIncrement$", "-test.count=1")
		cmd.Env = append(os.Environ(), "FSSTORE_HELPER_ROOT="+root)
		wg.Go(func() { outs[i], errs[i] = cmd.CombinedOutput() })
	}
	// This process takes part too.
	for range 25 {
		if err := increment(ctx, s, "counter"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
	}
	b, _, err := store.ReadAll(ctx, s, "counter", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(25 * (procs + 1)); string(b) != want {
		t.Errorf("counter = %s after %d processes × 25 increments, want %s", b, procs+1, want)
	}
}

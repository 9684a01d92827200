package fsstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// A growing batch of NoSync Puts is synced in the background every
// writebackFiles Puts, one sync at a time; Sync waits for the one running
// and syncs once more; a background sync's error is returned by the next
// Sync, once.
func TestWritebackInBackground(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var calls atomic.Int32
	release := make(chan struct{})
	var fail atomic.Bool
	real := s.syncFS
	s.syncFS = func(fd int) error {
		if calls.Add(1) == 1 {
			<-release // the first background sync runs until released
		}
		if fail.Swap(false) {
			return errors.New("EIO")
		}
		return real(fd)
	}
	n := 0
	puts := func(k int) {
		t.Helper()
		for range k {
			body := fmt.Sprintf("item %d", n)
			if _, err := s.Put(ctx, fmt.Sprintf("items/%05d", n), strings.NewReader(body), int64(len(body)), store.PutOptions{NoSync: true}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	waitCalls := func(want int32) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); calls.Load() < want && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if got := calls.Load(); got != want {
			t.Fatalf("%d syncs, want %d", got, want)
		}
	}

	puts(writebackFiles - 1)
	if got := calls.Load(); got != 0 {
		t.Fatalf("%d syncs after %d NoSync Puts, want none yet", got, writebackFiles-1)
	}
	puts(1)
	waitCalls(1)
	// While it runs, no other starts, however much is written.
	puts(writebackFiles + 1)
	if got := calls.Load(); got != 1 {
		t.Fatalf("%d syncs while the first ran, want 1", got)
	}
	close(release)
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 2 {
		t.Fatalf("%d syncs after Sync, want 2 (the background one, then Sync's)", got)
	}

	// A background sync that fails makes the next Sync fail, once.
	fail.Store(true)
	puts(writebackFiles)
	waitCalls(3)
	if err := s.Sync(ctx); err == nil || !strings.Contains(err.Error(), "in the background: EIO") {
		t.Fatalf("Sync after a failed background sync: %v", err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("the Sync after that: %v", err)
	}
}

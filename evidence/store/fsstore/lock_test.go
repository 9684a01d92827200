package fsstore

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// tryLock takes the lock of s as how, giving up after a short wait: nil
// if it got it (and released it), context.DeadlineExceeded if it waited.
func tryLock(s *Store, how int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	unlock, err := s.lock(ctx, how)
	if err == nil {
		unlock()
	}
	return err
}

// The shared holders of one Store share one open file of the lock file:
// an exclusive holder, of this Store or of another (as another process
// would be), waits until the last of them lets go, and shared holders
// wait for an exclusive one.
func TestSharedLock(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()

	first, err := s.lock(ctx, syscall.LOCK_SH)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.lock(ctx, syscall.LOCK_SH)
	if err != nil {
		t.Fatal(err)
	}
	if err := tryLock(other, syscall.LOCK_SH); err != nil {
		t.Errorf("another store's shared lock beside ours: %v", err)
	}
	for _, st := range []*Store{s, other} {
		if err := tryLock(st, syscall.LOCK_EX); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("exclusive lock while two hold it shared: %v, want to wait", err)
		}
	}
	first()
	for _, st := range []*Store{s, other} {
		if err := tryLock(st, syscall.LOCK_EX); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("exclusive lock while one still holds it shared: %v, want to wait", err)
		}
	}
	second()
	for _, st := range []*Store{s, other} {
		if err := tryLock(st, syscall.LOCK_EX); err != nil {
			t.Errorf("exclusive lock once no one holds it: %v", err)
		}
	}

	ex, err := other.lock(ctx, syscall.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	if err := tryLock(s, syscall.LOCK_SH); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shared lock while another holds it exclusive: %v, want to wait", err)
	}
	ex()
	if err := tryLock(s, syscall.LOCK_SH); err != nil {
		t.Errorf("shared lock once the exclusive holder let go: %v", err)
	}

	s.Close()
	if err := tryLock(s, syscall.LOCK_SH); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shared lock after Close: %v, want an error at once", err)
	}
}

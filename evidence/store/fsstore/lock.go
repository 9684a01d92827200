package fsstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// lock takes the store lock, shared or exclusive (syscall.LOCK_SH or
// LOCK_EX), waiting for it as long as ctx allows. flock locks belong to
// an open file: an exclusive holder opens the lock file anew, so it
// excludes other goroutines as well as other processes; shared holders
// share the Store's open file (see sharedLock).
func (s *Store) lock(ctx context.Context, how int) (unlock func(), err error) {
	if how == syscall.LOCK_SH {
		return s.shared.lock(ctx)
	}
	f, err := s.root.OpenFile(lockName, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	fd := int(f.Fd())
	if err := waitFlock(ctx, func() error { return syscall.Flock(fd, how|syscall.LOCK_NB) }); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(fd, syscall.LOCK_UN)
		f.Close()
	}, nil
}

// waitFlock calls try, a non-blocking flock(2), until it succeeds, fails
// for another reason than the lock being held, or ctx ends (ctx's error),
// waiting between tries from 100 µs up to 10 ms.
func waitFlock(ctx context.Context, try func() error) error {
	wait := 100 * time.Microsecond
	for {
		err := try()
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("lock %s: %w", lockName, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Millisecond)
	}
}

// sharedLock is the store lock held shared by the goroutines of one
// Store: one open file of the lock file (opened by New, closed by Close),
// flocked LOCK_SH while at least one of them holds it. That excludes an
// exclusive holder, of this process (its own open file) or another,
// exactly as one open file per holder would, at two system calls per
// holder fewer (no open and close), and none when holders overlap.
type sharedLock struct {
	mu sync.Mutex
	f  *os.File
	n  int // holders
}

func (l *sharedLock) lock(ctx context.Context) (unlock func(), err error) {
	err = waitFlock(ctx, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.n > 0 {
			l.n++
			return nil
		}
		if err := l.flock(syscall.LOCK_SH | syscall.LOCK_NB); err != nil {
			return err
		}
		l.n = 1
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l.unlock, nil
}

func (l *sharedLock) unlock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.n == 0 {
		l.flock(syscall.LOCK_UN)
	}
}

// flock calls flock(2) on the lock file (failing once Close closed it).
func (l *sharedLock) flock(how int) error {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = syscall.Flock(int(fd), how) }); err != nil {
		return err
	}
	return ferr
}

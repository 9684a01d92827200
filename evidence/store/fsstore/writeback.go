package fsstore

import (
	"sync"
)

// When a batch of NoSync Puts has written this much since the last
// background sync started, the next one starts (see writeback).
const (
	writebackFiles = 1000
	writebackBytes = 32 << 20
)

// writeback makes a batch durable in pieces while it is still being
// written: once writebackFiles NoSync Puts (or writebackBytes of them)
// have landed since the last one started, a syncfs(2) of the store's
// filesystem runs in the background, never two at once. Nothing is
// promised before Sync returns, as before; but a disk that would sit idle
// while the batch is collected writes most of it meanwhile, so Sync, which
// waits for the background sync and then syncs once more, waits only for
// what the last one left. (The kernel itself writes dirty data back only
// after half a minute, so otherwise the whole batch is written at Sync.)
//
// An error of a background sync is kept and returned by the next Sync:
// syncfs reports a writeback error once, to the first caller that sees
// it.
type writeback struct {
	mu      sync.Mutex
	files   int
	bytes   int64
	running chan struct{} // closed when the background sync ends; nil: none
	err     error         // the first background sync error not yet returned
}

// wrote counts one NoSync Put of n bytes and starts a background sync of s
// if the batch has grown enough and none is running.
func (w *writeback) wrote(s *Store, n int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.files++
	w.bytes += n
	if w.running != nil || (w.files < writebackFiles && w.bytes < writebackBytes) {
		return
	}
	w.files, w.bytes = 0, 0
	done := make(chan struct{})
	w.running = done
	go func() {
		err := s.syncNow()
		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = err
		}
		w.running = nil
		w.mu.Unlock()
		close(done)
	}()
}

// wait waits for the background sync, if one runs, and returns (and
// forgets) the first error of one since the last wait.
func (w *writeback) wait() error {
	w.mu.Lock()
	done := w.running
	w.mu.Unlock()
	if done != nil {
		<-done
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	w.err = nil
	w.files, w.bytes = 0, 0
	return err
}

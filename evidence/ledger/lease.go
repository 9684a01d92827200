package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// LeaseInfo is what the lock object holds: who runs, since when, and until
// when the lease is valid unless renewed.
type LeaseInfo struct {
	RunID   string    `json:"run_id"`
	Command string    `json:"command"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
	Renewed time.Time `json:"renewed"`
	Expires time.Time `json:"expires"`
}

// Holder names the holder for messages: "run R (ksbfolio run) on host, pid P".
func (i LeaseInfo) Holder() string {
	return fmt.Sprintf("run %s (ksbfolio %s) on %s, pid %d", i.RunID, i.Command, i.Host, i.PID)
}

// ErrLeaseHeld is matched (errors.Is) by *HeldError.
var ErrLeaseHeld = errors.New("lease held by another run")

// HeldError says that another live run holds the apprentice's lease.
type HeldError struct {
	Apprentice string
	Info       LeaseInfo
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("apprentice %s is locked by %s since %s (lease expires %s unless renewed); wait for it, or use --wait DURATION",
		e.Apprentice, e.Info.Holder(), e.Info.Since.UTC().Format(time.RFC3339), e.Info.Expires.UTC().Format(time.RFC3339))
}

func (e *HeldError) Is(target error) bool { return target == ErrLeaseHeld }

// Lease is a held run lease. Keep it alive with Keep, end it with Release.
type Lease struct {
	l    *Ledger
	ttl  time.Duration
	now  func() time.Time
	mu   sync.Mutex
	info LeaseInfo
	etag string
	stop chan struct{}
	done chan struct{}
	lost chan struct{}
}

// Acquire takes the apprentice's run lease, created with a conditional
// write so two runs never both hold it. A lease whose holder stopped
// renewing it (its Expires is past) is taken over, again conditionally. If
// a live run holds it, Acquire returns a *HeldError.
func (l *Ledger) Acquire(ctx context.Context, info LeaseInfo, ttl time.Duration, now func() time.Time) (*Lease, error) {
	if now == nil {
		now = time.Now
	}
	key := l.LockKey()
	for attempt := 0; attempt < 10; attempt++ {
		t := now().UTC()
		info.Since, info.Renewed, info.Expires = t, t, t.Add(ttl)
		put, err := l.putJSON(ctx, key, info, store.PutOptions{IfAbsent: true})
		if err == nil {
			return l.held(info, put.ETag, ttl, now), nil
		}
		if !errors.Is(err, store.ErrPrecondition) {
			return nil, fmt.Errorf("create lease %s: %w", key, err)
		}
		var cur LeaseInfo
		st, err := l.getJSON(ctx, key, &cur)
		if errors.Is(err, store.ErrNotFound) {
			continue // released meanwhile
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			return nil, fmt.Errorf("read lease %s: %w", key, err)
		}
		if err == nil && now().Before(cur.Expires) {
			return nil, &HeldError{Apprentice: l.apprentice, Info: cur}
		}
		// Expired (or unreadable): take it over, only if nobody else did first.
		put, err = l.putJSON(ctx, key, info, store.PutOptions{IfMatch: st.ETag})
		if err == nil {
			return l.held(info, put.ETag, ttl, now), nil
		}
		if !errors.Is(err, store.ErrPrecondition) {
			return nil, fmt.Errorf("take over stale lease %s: %w", key, err)
		}
	}
	return nil, fmt.Errorf("acquire lease %s: too much contention", key)
}

func (l *Ledger) held(info LeaseInfo, etag string, ttl time.Duration, now func() time.Time) *Lease {
	return &Lease{l: l, ttl: ttl, now: now, info: info, etag: etag, lost: make(chan struct{})}
}

// ReadLease returns the current lease, if any (ok false when none).
func (l *Ledger) ReadLease(ctx context.Context) (LeaseInfo, bool, error) {
	var cur LeaseInfo
	_, err := l.getJSON(ctx, l.LockKey(), &cur)
	if errors.Is(err, store.ErrNotFound) {
		return cur, false, nil
	}
	return cur, err == nil, err
}

// Info returns the lease as last written.
func (le *Lease) Info() LeaseInfo {
	le.mu.Lock()
	defer le.mu.Unlock()
	return le.info
}

// Renew extends the lease by its TTL. It fails with ErrLeaseHeld if
// another run took the lease over (this run stalled past its expiry).
func (le *Lease) Renew(ctx context.Context) error {
	le.mu.Lock()
	defer le.mu.Unlock()
	info := le.info
	t := le.now().UTC()
	info.Renewed, info.Expires = t, t.Add(le.ttl)
	st, err := le.l.putJSON(ctx, le.l.LockKey(), info, store.PutOptions{IfMatch: le.etag})
	if errors.Is(err, store.ErrPrecondition) {
		return fmt.Errorf("renew lease: %w (another run took it over)", ErrLeaseHeld)
	}
	if err != nil {
		return fmt.Errorf("renew lease: %w", err)
	}
	le.info, le.etag = info, st.ETag
	return nil
}

// Keep renews the lease every interval in the background until Release.
// If the lease is lost, Lost() is closed.
func (le *Lease) Keep(ctx context.Context, interval time.Duration) {
	le.stop, le.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(le.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-le.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := le.Renew(ctx); errors.Is(err, ErrLeaseHeld) {
					close(le.lost)
					return
				}
			}
		}
	}()
}

// Lost is closed when a renewal found the lease taken over.
func (le *Lease) Lost() <-chan struct{} { return le.lost }

// Release stops renewing and deletes the lock object if this run still
// holds it.
func (le *Lease) Release(ctx context.Context) error {
	if le.stop != nil {
		close(le.stop)
		<-le.done
		le.stop = nil
	}
	le.mu.Lock()
	defer le.mu.Unlock()
	st, err := le.l.s.Stat(ctx, le.l.LockKey())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	if st.ETag != le.etag {
		return nil // someone else holds it now
	}
	if err := le.l.s.Delete(ctx, le.l.LockKey()); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}

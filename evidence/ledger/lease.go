package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// DefaultLeaseTTL is how long a lease is valid unless renewed. Hold renews
// it every TTL/3.
//
// Clock assumption: a lease held from another host expires when the
// reader's clock passes the Expires time the holder wrote with its own
// clock, so the hosts sharing a store must keep their clocks within a small
// part of the TTL of each other (NTP does: well under a second). A holder
// on the reader's own host needs no clock: it is stale as soon as its
// process is gone (see LeaseInfo.Stale).
const DefaultLeaseTTL = 2 * time.Minute

// LeaseInfo is what the lock object holds: who runs, since when, and until
// when the lease is valid unless renewed.
type LeaseInfo struct {
	RunID string `json:"run_id"`
	// Nonce is random, made afresh by every Acquire: with RunID it tells
	// this acquisition's lock from any other, so a run recognises its own
	// write when the response to it was lost.
	Nonce   string `json:"nonce,omitempty"`
	Command string `json:"command"`
	Host    string `json:"host"`
	PID     int    `json:"pid"`
	// PIDStart is the holder process's start time (clock ticks since boot,
	// field 22 of /proc/<pid>/stat), 0 where unknown: a live process with
	// the same PID but another start time is not the holder.
	PIDStart uint64 `json:"pid_start,omitempty"`
	// BootID is the holder host's boot ID (/proc/sys/kernel/random/boot_id):
	// after a reboot no process of the old boot runs.
	BootID  string    `json:"boot_id,omitempty"`
	Since   time.Time `json:"since"`
	Renewed time.Time `json:"renewed"`
	Expires time.Time `json:"expires"`
}

// Holder names the holder for messages: "run R (ksbfolio run) on host, pid P".
func (i LeaseInfo) Holder() string {
	return fmt.Sprintf("run %s (ksbfolio %s) on %s, pid %d", i.RunID, i.Command, i.Host, i.PID)
}

// Stale says why a lease may be taken over ("" if its holder may still be
// working): its holder runs on this host (same host name) and its process
// is gone (no such PID, a zombie, another process under that PID, or the
// host rebooted since), or it expired (now is past Expires, compared by
// the clock assumption of DefaultLeaseTTL). Host names must be unique
// among the machines that share a store.
func (i LeaseInfo) Stale(now time.Time) string {
	if gone := holderGone(i); gone != "" {
		return gone
	}
	if !i.Expires.IsZero() && now.After(i.Expires) {
		return "expired " + i.Expires.UTC().Format(time.RFC3339)
	}
	return ""
}

// ours reports whether the lock cur was written by the acquisition that
// made info.
func (i LeaseInfo) ours(cur LeaseInfo) bool {
	return i.Nonce != "" && cur.RunID == i.RunID && cur.Nonce == i.Nonce
}

// ThisProcess returns the LeaseInfo fields naming this process: host, PID,
// process start time and boot ID (the last two where the OS tells them).
func ThisProcess() LeaseInfo { return thisProcess() }

// ErrLeaseHeld is matched (errors.Is) by *HeldError.
var ErrLeaseHeld = errors.New("lease held by another run")

// ErrLeaseLost: a held lease was taken over, removed, or could not be
// renewed before it expired; the work done under it must stop.
var ErrLeaseLost = errors.New("run lease lost")

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

// Lease is a held run lease. Most callers use Hold, which renews and
// releases it; Renew and Release are its parts.
type Lease struct {
	l    *Ledger
	ttl  time.Duration
	now  func() time.Time
	mu   sync.Mutex
	info LeaseInfo
	etag string
}

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// readLock reads the lock: found is false when there is none. A corrupt
// lock gives a *CorruptError with its Info (ETag) set.
func (l *Ledger) readLock(ctx context.Context) (cur LeaseInfo, st store.Info, found bool, err error) {
	st, err = l.getJSON(ctx, l.LockKey(), &cur)
	if errors.Is(err, store.ErrNotFound) {
		return cur, st, false, nil
	}
	return cur, st, err == nil || errors.Is(err, ErrCorrupt), err
}

// Acquire takes the apprentice's run lease, created with a conditional
// write so two runs never both hold it. A stale lease (LeaseInfo.Stale) or
// an unreadable one is taken over, again conditionally. If a live run holds
// it, Acquire returns a *HeldError.
//
// A write whose response was lost (and that the S3 client may have retried,
// then failing its condition against the write itself) is recognised by
// reading the lock back: if it holds this acquisition's run ID and nonce,
// this run holds the lease.
func (l *Ledger) Acquire(ctx context.Context, info LeaseInfo, ttl time.Duration, now func() time.Time) (*Lease, error) {
	if now == nil {
		now = time.Now
	}
	info.Nonce = newNonce()
	key := l.LockKey()
	stamp := func() {
		t := now().UTC()
		info.Since, info.Renewed, info.Expires = t, t, t.Add(ttl)
	}
	for attempt := 0; attempt < 10; attempt++ {
		stamp()
		put, err := l.putJSON(ctx, key, info, store.PutOptions{IfAbsent: true})
		if err == nil {
			return l.held(info, put.ETag, ttl, now), nil
		}
		cur, st, found, rerr := l.readLock(ctx)
		if rerr != nil && !errors.Is(rerr, ErrCorrupt) {
			return nil, fmt.Errorf("create lease %s: %w (reading it back: %v)", key, err, rerr)
		}
		if rerr == nil && found && info.ours(cur) {
			return l.held(cur, st.ETag, ttl, now), nil // our write landed; its response was lost
		}
		if !found {
			if errors.Is(err, store.ErrPrecondition) {
				continue // released meanwhile
			}
			return nil, fmt.Errorf("create lease %s: %w", key, err)
		}
		if rerr == nil && cur.Stale(now()) == "" {
			return nil, &HeldError{Apprentice: l.apprentice, Info: cur}
		}
		// Stale (or unreadable): take it over, only if nobody else did first.
		stamp()
		put, err = l.putJSON(ctx, key, info, store.PutOptions{IfMatch: st.ETag})
		if err == nil {
			return l.held(info, put.ETag, ttl, now), nil
		}
		if cur, st, found, rerr := l.readLock(ctx); rerr == nil && found && info.ours(cur) {
			return l.held(cur, st.ETag, ttl, now), nil
		}
		if !errors.Is(err, store.ErrPrecondition) {
			return nil, fmt.Errorf("take over stale lease %s: %w", key, err)
		}
	}
	return nil, fmt.Errorf("acquire lease %s: too much contention", key)
}

func (l *Ledger) held(info LeaseInfo, etag string, ttl time.Duration, now func() time.Time) *Lease {
	return &Lease{l: l, ttl: ttl, now: now, info: info, etag: etag}
}

// ReadLease returns the current lease, if any (ok false when none). A lock
// that cannot be decoded gives a *CorruptError.
func (l *Ledger) ReadLease(ctx context.Context) (LeaseInfo, bool, error) {
	cur, _, found, err := l.readLock(ctx)
	return cur, found && err == nil, err
}

// Info returns the lease as last written.
func (le *Lease) Info() LeaseInfo {
	le.mu.Lock()
	defer le.mu.Unlock()
	return le.info
}

// Renew extends the lease by its TTL with a conditional write. It fails
// with ErrLeaseLost if another run took the lease over or the lock is gone.
// A renewal whose response was lost is recognised by reading the lock
// back: if it holds this lease's nonce and the new Renewed time, the
// renewal took place. Other errors are transient: the lease stays held
// until its Expires, and Renew may be called again.
func (le *Lease) Renew(ctx context.Context) error {
	le.mu.Lock()
	defer le.mu.Unlock()
	info := le.info
	t := le.now().UTC()
	info.Renewed, info.Expires = t, t.Add(le.ttl)
	st, err := le.l.putJSON(ctx, le.l.LockKey(), info, store.PutOptions{IfMatch: le.etag})
	if err != nil {
		// Read back even if ctx's deadline ran out while the client was
		// retrying: the first attempt may have landed.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(max(le.ttl/3, 100*time.Millisecond), 10*time.Second))
		defer cancel()
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			rctx = ctx // cancelled: give up at once
		}
		cur, got, found, rerr := le.l.readLock(rctx)
		switch {
		case rerr == nil && found && info.ours(cur) && cur.Renewed.Equal(info.Renewed):
			st = got // the renewal landed; its response was lost
		case rerr == nil && found && info.ours(cur):
			return fmt.Errorf("renew lease: %w", err) // not written: try again
		case rerr == nil && !found:
			return fmt.Errorf("renew lease: %w: the lock was removed", ErrLeaseLost)
		case rerr == nil || errors.Is(rerr, ErrCorrupt):
			return fmt.Errorf("renew lease: %w: now held by %s", ErrLeaseLost, cur.Holder())
		default:
			return fmt.Errorf("renew lease: %w (reading it back: %v)", err, rerr)
		}
	}
	le.info, le.etag = info, st.ETag
	return nil
}

// Release deletes the lock if it still holds this lease (its run ID and
// nonce, checked by reading it). A lock another run took over, or one
// that is gone, is left alone, and Release returns an error wrapping
// ErrLeaseLost: the lease did not hold to the end of the work. Not every S3 API offers a conditional delete, so a small window
// remains between that read and the delete; another run can take the lock
// over in it only if this lease expired meanwhile, so Release leaves a
// lease that is about to expire (less than a tenth of its TTL left) to
// expire instead of deleting it.
func (le *Lease) Release(ctx context.Context) error {
	le.mu.Lock()
	defer le.mu.Unlock()
	cur, _, found, err := le.l.readLock(ctx)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("release lease: %w", err)
	}
	if !found || err != nil || !le.info.ours(cur) {
		// Gone, or someone else holds it now: this run cannot tell that
		// nobody else wrote while it still worked.
		return fmt.Errorf("%w: the lock was taken over or removed before this run released it", ErrLeaseLost)
	}
	if le.info.Expires.Sub(le.now()) < le.ttl/10 {
		return nil
	}
	if err := le.l.s.Delete(ctx, le.l.LockKey()); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}

// HoldOptions say who holds a lease and for how long.
type HoldOptions struct {
	RunID   string        // recorded in the lock (required)
	Command string        // "run", "retag", …, recorded in the lock
	TTL     time.Duration // validity of each renewal; 0: DefaultLeaseTTL
	// Wait is how long to wait for another live holder to finish; 0: fail
	// at once with a *HeldError.
	Wait time.Duration
	Now  func() time.Time // nil: time.Now
	Log  *slog.Logger     // nil: no logging
}

// Hold is how every writer holds the apprentice's lease. It acquires the
// lease (waiting up to o.Wait for a live holder), renews it every TTL/3 in
// the background, retrying a failed renewal until the lease would expire,
// and returns a context derived from ctx that is cancelled, with a cause
// wrapping ErrLeaseLost, if the lease is lost. Do the work under that
// context, then call release: it stops renewing, deletes the lock if it is
// still this run's, and returns the cause if the lease was lost during the
// work (nil otherwise; a failed delete is only logged, as the lock then
// goes stale). release may be called more than once.
func (l *Ledger) Hold(ctx context.Context, o HoldOptions) (context.Context, func() error, error) {
	if o.RunID == "" {
		return nil, nil, errors.New("hold lease: no run ID")
	}
	if o.TTL <= 0 {
		o.TTL = DefaultLeaseTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	info := ThisProcess()
	info.RunID, info.Command = o.RunID, o.Command
	deadline := o.Now().Add(o.Wait)
	var lease *Lease
	for {
		var err error
		lease, err = l.Acquire(ctx, info, o.TTL, o.Now)
		if err == nil {
			break
		}
		var held *HeldError
		if !errors.As(err, &held) || !o.Now().Before(deadline) {
			return nil, nil, err
		}
		log.Info("waiting for lease", "holder", held.Info.Holder(), "since", held.Info.Since)
		select {
		case <-ctx.Done():
			return nil, nil, context.Cause(ctx)
		case <-time.After(min(time.Second, o.TTL/4, deadline.Sub(o.Now())+10*time.Millisecond)):
		}
	}

	work, cancel := context.WithCancelCause(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	var lost error
	go func() {
		defer close(done)
		if err := lease.keep(work, stop, o.TTL/3); err != nil {
			lost = err
			log.Error("run lease lost", "err", err)
			cancel(err)
		}
	}()
	var once sync.Once
	release := func() error {
		once.Do(func() {
			close(stop)
			<-done
			rctx, c := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer c()
			if lost == nil {
				switch err := lease.Release(rctx); {
				case errors.Is(err, ErrLeaseLost):
					lost = err
					log.Error("run lease lost", "err", err)
				case err != nil:
					log.Warn("lease not released; it goes stale when this process ends or after its TTL", "err", err)
				}
			}
			cancel(nil)
		})
		return lost
	}
	return work, release, nil
}

// keep renews the lease every interval until stop is closed or ctx is
// done. A failed renewal is retried every interval/10 while the lease is
// valid; it returns an error wrapping ErrLeaseLost once the lease is lost
// or would expire before the next retry.
func (le *Lease) keep(ctx context.Context, stop <-chan struct{}, interval time.Duration) error {
	retry := max(interval/10, 10*time.Millisecond)
	wait := interval
	var failed error // the first error of a run of failed renewals
	for {
		t := time.NewTimer(wait)
		select {
		case <-stop:
			t.Stop()
			return nil
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		expires := le.Info().Expires
		rctx, c := context.WithTimeout(ctx, min(max(expires.Sub(le.now()), retry), interval))
		err := le.Renew(rctx)
		c()
		switch {
		case err == nil:
			wait, failed = interval, nil
		case errors.Is(err, ErrLeaseLost):
			return err
		case ctx.Err() != nil:
			return nil
		default:
			if failed == nil {
				failed = err
			}
			if expires.Sub(le.now()) < 2*retry {
				return fmt.Errorf("%w: could not renew it before it expired: %v", ErrLeaseLost, failed)
			}
			wait = retry
		}
	}
}

package ledger_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// lossy wraps a real store: the Puts it is told to lose are carried out,
// but the caller gets an error instead of the answer, as when a response is
// lost and the S3 client's retry then fails its own condition.
type lossy struct {
	store.Store
	mu   sync.Mutex
	lose map[string]error // key → error to return after the next Put of it
}

func (s *lossy) loseNext(key string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lose == nil {
		s.lose = map[string]error{}
	}
	s.lose[key] = err
}

func (s *lossy) Put(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) (store.Info, error) {
	info, err := s.Store.Put(ctx, key, r, size, opts)
	s.mu.Lock()
	defer s.mu.Unlock()
	if lerr, ok := s.lose[key]; ok && err == nil {
		delete(s.lose, key)
		return store.Info{}, lerr
	}
	return info, err
}

var errReset = errors.New("read tcp: connection reset by peer")

func TestLeaseLostResponses(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		ls := &lossy{Store: s}
		l, _ := ledger.New(ls, "jane")
		for _, lost := range []error{store.ErrPrecondition, errReset} {
			// The lock's PUT lands, its answer is lost: this run holds the lease.
			ls.loseNext(l.LockKey(), lost)
			a, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "a"}, time.Minute, nil)
			if err != nil {
				t.Fatalf("lost create response (%v): %v", lost, err)
			}
			// A lost renewal response: still held, and the next renewal works.
			ls.loseNext(l.LockKey(), lost)
			if err := a.Renew(ctx); err != nil {
				t.Fatalf("lost renewal response (%v): %v", lost, err)
			}
			if err := a.Renew(ctx); err != nil {
				t.Fatalf("renewal after a lost response (%v): %v", lost, err)
			}
			if err := a.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if _, held, _ := l.ReadLease(ctx); held {
				t.Fatal("lease not released")
			}
		}
		// The takeover of a stale lease, its answer lost.
		if _, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "dead"}, time.Millisecond, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		ls.loseNext(l.LockKey(), errReset)
		b, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "b"}, time.Minute, nil)
		if err != nil {
			t.Fatalf("lost takeover response: %v", err)
		}
		// Someone else's lock is still someone else's.
		if _, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "b"}, time.Minute, nil); !errors.Is(err, ledger.ErrLeaseHeld) {
			t.Fatalf("same run ID, another acquisition: %v", err)
		}
		// Release never deletes a lock another run took over.
		if _, err := s.Put(ctx, l.LockKey(), strings.NewReader(`{"run_id":"thief","host":"elsewhere"}`), -1, store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Release(ctx); !errors.Is(err, ledger.ErrLeaseLost) {
			t.Fatalf("release of a lock another run took over: %v, want ErrLeaseLost", err)
		}
		if info, _, _ := l.ReadLease(ctx); info.RunID != "thief" {
			t.Fatalf("release deleted another run's lock: %+v", info)
		}
	})
}

func TestDecisionRecordedOnce(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		ls := &lossy{Store: s}
		l, _ := ledger.New(ls, "jane")
		id := evidence.NewID("git", "abc")
		d := evidence.Decision{ID: evidence.NewDecisionID(), At: time.Now(), By: "p", Role: "coach", Accept: []string{"S10"}}
		for _, lost := range []error{store.ErrPrecondition, errReset} {
			ls.loseNext(l.ReviewKey(id), lost)
			if _, err := l.AddDecision(ctx, id, d); err != nil {
				t.Fatalf("lost review response (%v): %v", lost, err)
			}
		}
		if _, err := l.AddDecision(ctx, id, d); err != nil { // the same decision again
			t.Fatal(err)
		}
		d2 := d
		d2.ID = ""
		if _, err := l.AddDecision(ctx, id, d2); err != nil {
			t.Fatal(err)
		}
		rv, err := l.Review(ctx, id)
		if err != nil || len(rv.Decisions) != 2 || rv.Decisions[0].ID != d.ID || rv.Decisions[1].ID == "" {
			t.Fatalf("want the decision once plus one more with its own ID: %+v %v", rv, err)
		}
	})
}

// zombie returns the PID of a process that has exited but is not reaped yet.
func zombie(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip("cannot run sleep:", err)
	}
	_ = cmd.Process.Kill()
	t.Cleanup(func() { _ = cmd.Wait() })
	for i := 0; i < 200; i++ {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat"); strings.Contains(string(b), ") Z ") {
			return cmd.Process.Pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("killed process never became a zombie")
	return 0
}

// exited returns the PID of a process that has ended.
func exited(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	return cmd.Process.Pid
}

func TestLeaseOfGoneLocalHolder(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc: a local holder expires by TTL")
	}
	backends(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, _ := ledger.New(s, "jane")
		me := ledger.ThisProcess()
		if me.PIDStart == 0 || me.BootID == "" {
			t.Fatalf("this process's start time or boot ID unknown: %+v", me)
		}
		withPID := func(pid int, start uint64, boot string) ledger.LeaseInfo {
			i := me
			i.RunID, i.PID, i.PIDStart, i.BootID = "dead", pid, start, boot
			return i
		}
		for name, c := range map[string]struct {
			holder ledger.LeaseInfo
			stale  bool
		}{
			"process gone":          {withPID(exited(t), 0, me.BootID), true},
			"pid reused":            {withPID(me.PID, me.PIDStart+1, me.BootID), true},
			"zombie":                {withPID(zombie(t), 0, me.BootID), true},
			"host restarted":        {withPID(me.PID, me.PIDStart, "another-boot"), true},
			"alive":                 {withPID(me.PID, me.PIDStart, me.BootID), false},
			"alive, start unknown":  {withPID(me.PID, 0, ""), false},
			"gone, but remote host": {func() ledger.LeaseInfo { i := withPID(exited(t), 0, ""); i.Host = "elsewhere"; return i }(), false},
		} {
			dead, err := l.Acquire(ctx, c.holder, time.Hour, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := dead.Info().Stale(time.Now()) != ""; got != c.stale {
				t.Errorf("%s: Stale %q, want stale %v", name, dead.Info().Stale(time.Now()), c.stale)
			}
			nw, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "new"}, time.Minute, nil)
			if c.stale && err != nil {
				t.Errorf("%s: not taken over at once: %v", name, err)
			}
			if !c.stale && !errors.Is(err, ledger.ErrLeaseHeld) {
				t.Errorf("%s: a live holder's lease taken: %v", name, err)
			}
			if err == nil {
				_ = nw.Release(ctx)
			} else {
				_ = dead.Release(ctx)
			}
		}
	})
}

func TestHold(t *testing.T) {
	backends(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, _ := ledger.New(s, "jane")
		ttl := 300 * time.Millisecond
		work, release, err := l.Hold(ctx, ledger.HoldOptions{RunID: "r1", Command: "retag", TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		// Renewed in the background: after several TTLs it is still held.
		time.Sleep(4 * ttl)
		info, held, err := l.ReadLease(ctx)
		if err != nil || !held || info.RunID != "r1" || info.Stale(time.Now()) != "" || work.Err() != nil {
			t.Fatalf("lease after 4 TTLs: %+v held %v, %v, work %v", info, held, err, work.Err())
		}
		if _, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "other"}, time.Minute, nil); !errors.Is(err, ledger.ErrLeaseHeld) {
			t.Fatalf("a held lease was taken: %v", err)
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
		if _, held, _ := l.ReadLease(ctx); held {
			t.Fatal("not released")
		}

		// Lost: another run overwrites the lock; the work is cancelled, the
		// other run's lock is kept, release reports the loss.
		work, release, err = l.Hold(ctx, ledger.HoldOptions{RunID: "r2", Command: "run", TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		other := `{"run_id":"thief","host":"elsewhere","expires":"2999-01-01T00:00:00Z"}`
		if _, err := s.Put(ctx, l.LockKey(), strings.NewReader(other), -1, store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-work.Done():
		case <-time.After(3 * ttl):
			t.Fatal("work not cancelled after the lease was taken over")
		}
		if !errors.Is(context.Cause(work), ledger.ErrLeaseLost) {
			t.Fatalf("cause %v", context.Cause(work))
		}
		if err := release(); !errors.Is(err, ledger.ErrLeaseLost) {
			t.Fatalf("release after loss: %v", err)
		}
		if info, _, _ := l.ReadLease(ctx); info.RunID != "thief" {
			t.Fatalf("release removed the other run's lock: %+v", info)
		}
		// Wait: a second holder waits for the first to release.
		_ = s.Delete(ctx, l.LockKey())
		_, rel1, err := l.Hold(ctx, ledger.HoldOptions{RunID: "first", TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		go func() { time.Sleep(200 * time.Millisecond); _ = rel1() }()
		_, rel2, err := l.Hold(ctx, ledger.HoldOptions{RunID: "second", TTL: ttl, Wait: 10 * time.Second})
		if err != nil {
			t.Fatalf("--wait: %v", err)
		}
		_ = rel2()
	})
}

package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/s3store"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// throughProxy opens a ledger on the real S3 server behind a fault proxy.
func throughProxy(t *testing.T) (*ledger.Ledger, *storetest.FaultProxy) {
	t.Helper()
	srv := storetest.StartVersityGW(t)
	p := storetest.NewFaultProxy(t, srv.Endpoint)
	cfg, err := s3store.ParseURL(srv.Through(p).URL("faults"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AccessKey, cfg.SecretKey = srv.AccessKey, srv.SecretKey
	s, err := s3store.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, "jane")
	if err != nil {
		t.Fatal(err)
	}
	return l, p
}

func fired(t *testing.T, p *storetest.FaultProxy) {
	t.Helper()
	if n := p.Pending(); n != 0 {
		t.Fatalf("%d queued faults never fired", n)
	}
}

// A lock PUT whose response is dropped (the lock was written) still gives
// this run the lease, and does not lock out anyone but other runs.
func TestLockPutResponseDropped(t *testing.T) {
	l, p := throughProxy(t)
	ctx := context.Background()
	p.Next(storetest.Fault{Method: "PUT", PathContains: "jane/lock", Kind: storetest.DropResponse})
	a, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "a", Host: "h", PID: 1}, time.Minute, nil)
	fired(t, p)
	if err != nil {
		t.Fatalf("lock PUT with its response dropped: %v", err)
	}
	if _, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "b"}, time.Minute, nil); !errors.Is(err, ledger.ErrLeaseHeld) {
		t.Fatalf("another run: %v", err)
	}
	if err := a.Renew(ctx); err != nil {
		t.Fatalf("renewal after the dropped create: %v", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, held, _ := l.ReadLease(ctx); held {
		t.Fatal("not released")
	}
	// A reset before the PUT reached the server: retried, or a clear error.
	p.Next(storetest.Fault{Method: "PUT", PathContains: "jane/lock", Kind: storetest.Reset})
	a, err = l.Acquire(ctx, ledger.LeaseInfo{RunID: "c"}, time.Minute, nil)
	fired(t, p)
	if err == nil {
		_ = a.Release(ctx)
	} else if errors.Is(err, ledger.ErrLeaseHeld) {
		t.Fatalf("after a reset the run sees a holder: %v", err)
	}
}

// A renewal whose response is dropped does not cancel the run.
func TestRenewalResponseDropped(t *testing.T) {
	l, p := throughProxy(t)
	ctx := context.Background()
	ttl := 900 * time.Millisecond
	work, release, err := l.Hold(ctx, ledger.HoldOptions{RunID: "r", Command: "run", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	p.Next(storetest.Fault{Method: "PUT", PathContains: "jane/lock", Kind: storetest.DropResponse, Times: 2})
	time.Sleep(3 * ttl)
	fired(t, p)
	if err := work.Err(); err != nil {
		t.Fatalf("run cancelled after a lost renewal response: %v", context.Cause(work))
	}
	info, held, err := l.ReadLease(ctx)
	if err != nil || !held || info.RunID != "r" || info.Stale(time.Now()) != "" {
		t.Fatalf("lease after lost renewal responses: %+v %v %v", info, held, err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if _, held, _ := l.ReadLease(ctx); held {
		t.Fatal("not released")
	}
}

// A review decision whose PUT response is dropped is recorded exactly once.
func TestReviewResponseDropped(t *testing.T) {
	l, p := throughProxy(t)
	ctx := context.Background()
	id := evidence.NewID("git", "abc")
	for i := 0; i < 2; i++ { // the first creates the review, the second appends
		p.Next(storetest.Fault{Method: "PUT", PathContains: "jane/reviews/", Kind: storetest.DropResponse})
		d := evidence.Decision{ID: evidence.NewDecisionID(), At: time.Now(), By: "p", Role: "coach", Accept: []string{"S10"}}
		if _, err := l.AddDecision(ctx, id, d); err != nil {
			t.Fatalf("decision %d: %v", i, err)
		}
		fired(t, p)
	}
	rv, err := l.Review(ctx, id)
	if err != nil || rv == nil || len(rv.Decisions) != 2 || rv.Decisions[0].ID == rv.Decisions[1].ID {
		t.Fatalf("want 2 distinct decisions, each once: %+v %v", rv, err)
	}
}

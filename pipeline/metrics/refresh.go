package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/fleet"
)

// Apprentice is one apprentice whose coverage a Refresher reads: the ID
// names its ledger, Gateway is its planned gateway date (zero: not set).
type Apprentice struct {
	ID      string
	Gateway time.Time
}

// Refresher keeps the coverage metrics of a list of apprentices up to
// date with their coverage.json in a store: serve's refresh. Each refresh
// reads one object per apprentice (its coverage.json, and nothing else of
// its ledger, which may hold thousands of items), parallel at a time.
// Safe for concurrent use.
type Refresher struct {
	metrics     *Metrics
	open        func(context.Context) (store.Store, error)
	apprentices []Apprentice
	ids         []string              // the apprentices' IDs, in order
	byID        map[string]Apprentice // the apprentices by ID
	parallel    int
	log         *slog.Logger
	ready       atomic.Bool
	lastErr     atomic.Pointer[error] // the last refresh's error; nil when it succeeded

	mu    sync.Mutex
	store store.Store // once open returned it
}

// NewRefresher returns a Refresher reading the store open returns into m,
// parallel (at least 1) coverage summaries at a time, logging to log. Each
// refresh calls open until it succeeds once, so a store not reachable yet
// (a server starting, a volume not mounted) is waited for, not fatal.
func NewRefresher(m *Metrics, open func(context.Context) (store.Store, error), apprentices []Apprentice, parallel int, log *slog.Logger) *Refresher {
	r := &Refresher{metrics: m, open: open, apprentices: apprentices, byID: make(map[string]Apprentice, len(apprentices)), parallel: max(parallel, 1), log: log}
	for _, a := range apprentices {
		r.ids = append(r.ids, a.ID)
		r.byID[a.ID] = a
	}
	return r
}

// storeFor returns the store, opening it if no call to open succeeded yet.
func (r *Refresher) storeFor(ctx context.Context) (store.Store, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store == nil {
		s, err := r.open(ctx)
		if err != nil {
			return nil, err
		}
		r.store = s
	}
	return r.store, nil
}

// Ready reports whether a refresh has succeeded: the store was reachable
// and every readable coverage summary is in the metrics. It stays true
// after that, even while later refreshes fail: the metrics then keep the
// last values read, ksbfolio_coverage_refreshes_total{outcome="failed"}
// counts the failures and ksbfolio_coverage_last_refresh_timestamp_seconds
// says how old the values are (the store is shared by every replica of
// serve, so taking them all out of service would show nothing better).
func (r *Refresher) Ready() bool { return r.ready.Load() }

// Err returns the last refresh's error, nil if it succeeded (or none was
// done yet).
func (r *Refresher) Err() error {
	if p := r.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Run refreshes now and then every interval until ctx ends, logging
// failures.
func (r *Refresher) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := r.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("refresh coverage", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh reads every apprentice's coverage.json, parallel at a time, into
// the metrics. An apprentice without one (never run, or erased) is left
// out; one whose summary cannot be read is logged and keeps its last
// values. It fails when the store cannot be opened, or (with the first
// apprentice's error and the count of the others) when no apprentice's
// summary could be read: the store unreachable.
func (r *Refresher) Refresh(ctx context.Context) error {
	start := time.Now()
	st, err := r.storeFor(ctx)
	if err != nil {
		return r.failed(err)
	}
	errs := fleet.Run(ctx, r.ids, r.parallel, func(ctx context.Context, id string) error {
		return r.refreshOne(ctx, st, r.byID[id])
	}, func(_ string, err error) error { return err })
	failed, first := 0, -1
	for i, err := range errs {
		if err != nil {
			failed++
			if first < 0 {
				first = i
			}
		}
	}
	if failed > 0 && failed == len(r.apprentices) {
		err := fmt.Errorf("no coverage summary could be read from %s: %w", st, errs[first])
		if failed > 1 {
			err = fmt.Errorf("%w (and %d more failures)", err, failed-1)
		}
		return r.failed(err)
	}
	for i, err := range errs {
		if err != nil && ctx.Err() == nil {
			r.log.Warn("read coverage", "apprentice", r.apprentices[i].ID, "error", err)
		}
	}
	r.lastErr.Store(nil)
	r.metrics.refreshes.WithLabelValues("ok").Inc()
	r.metrics.lastRefresh.WithLabelValues().Set(float64(time.Now().Unix()))
	if !r.ready.Swap(true) {
		r.log.Info("ready", "apprentices", len(r.apprentices), "seconds", time.Since(start).Seconds())
	} else {
		r.log.Debug("refreshed coverage", "apprentices", len(r.apprentices), "failed", failed, "seconds", time.Since(start).Seconds())
	}
	return nil
}

// failed records a failed refresh and returns err.
func (r *Refresher) failed(err error) error {
	r.metrics.refreshes.WithLabelValues("failed").Inc()
	r.lastErr.Store(&err)
	return err
}

func (r *Refresher) refreshOne(ctx context.Context, st store.Store, a Apprentice) error {
	l, err := ledger.New(st, a.ID)
	if err != nil {
		return err
	}
	rep, err := pipeline.ReadCoverage(ctx, l)
	if errors.Is(err, store.ErrNotFound) {
		// Not run yet or erased (nothing to show), or the store is
		// unreachable: listing the one key tells which.
		if err := st.List(ctx, l.CoverageKey(), func(store.Info) error { return nil }); err != nil {
			return fmt.Errorf("reach the store: %w", err)
		}
		r.metrics.DeleteCoverage(a.ID)
		return nil
	}
	if err != nil {
		return err
	}
	r.metrics.SetCoverage(a.ID, rep, a.Gateway)
	return nil
}

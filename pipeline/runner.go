package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/pipeline/redact"
)

// MaxArtefact is the largest artefact a run stores; larger files are
// skipped with a reason.
const MaxArtefact = 256 << 20

// Source is one configured source with its collector.
type Source struct {
	Name      string
	Type      string
	Collector collectors.Collector
}

// DefaultWriters is how many items a run redacts, tags and stores at once
// when Runner.Writers is not set.
const DefaultWriters = 8

// Runner runs the pipeline for one apprentice.
type Runner struct {
	Ledger    *ledger.Ledger
	Sources   []Source
	Redactor  *redact.Redactor
	Tagger    *tagging.Tagger
	Catalogue *ksb.Catalogue
	Target    coverage.Target // what coverage counts (see coverage.Target)
	Log       *slog.Logger
	Now       func() time.Time
	Observer  Observer // told what the run does (progress, metrics); may be nil
	StoreName string   // for the report
	// Writers bounds how many items are redacted, tagged and stored at
	// once (0: DefaultWriters). The collector emits on one goroutine.
	Writers int
}

// Options choose what a run does.
type Options struct {
	Command  string        // "run" or "collect", recorded in the report and lease
	Only     string        // collect only this source (empty: all)
	Coverage bool          // update coverage.json at the end
	Wait     time.Duration // wait this long for another run's lease (0: fail at once)
	Full     bool          // ignore the saved cursors: collect everything again (items keep their IDs, so nothing is duplicated)
	LeaseTTL time.Duration // 0: ledger.DefaultLeaseTTL
}

// NewRunID returns a sortable, unique run ID: <UTC time>-<8 hex>.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Run collects every source (or opts.Only), storing what it finds, then
// updates coverage.json if asked. It returns the report, also stored in the
// ledger. The error is non-nil only when the run could not take place at
// all (the lease is held, the store is unusable) or was interrupted (then
// it is ctx's error and the report says "interrupted").
func (r *Runner) Run(ctx context.Context, opts Options) (*Report, error) {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := now()
	rep := &Report{
		Schema: 1, RunID: NewRunID(start), Apprentice: r.Ledger.Apprentice(), Command: opts.Command,
		Catalogue: r.Catalogue.ID, Store: r.StoreName, StartedAt: start.UTC(), Outcome: OutcomeOK,
		Sources: []SourceReport{}, Corrupt: []string{}, Warnings: []string{}, Full: opts.Full,
	}
	log = r.Redactor.Logger(log).With("run_id", rep.RunID)

	runCtx, release, err := r.Ledger.Hold(ctx, ledger.HoldOptions{RunID: rep.RunID, Command: opts.Command,
		TTL: opts.LeaseTTL, Wait: opts.Wait, Now: now, Log: log})
	if err != nil {
		return nil, err
	}
	defer release()

	found := false
	stored := &storedLinks{}
	// The last source is finished (synced, its cursor saved) while the
	// link step runs: the sync waits on the disk, the link step on the
	// processor, and neither needs the other (link makes its own changes
	// durable). Each source before it is finished before the next starts.
	var last chan SourceReport
	finished := func() {
		if last != nil {
			sr := <-last
			last = nil
			rep.Sources = append(rep.Sources, sr)
			rep.Outcome = runOutcome(rep.Outcome, sr.Outcome)
		}
	}
	for _, src := range r.Sources {
		if opts.Only != "" && src.Name != opts.Only {
			continue
		}
		found = true
		finished()
		if runCtx.Err() != nil {
			break
		}
		finish := r.collect(runCtx, src, opts.Full, stored, now, log)
		last = make(chan SourceReport, 1)
		go func(c chan<- SourceReport) { c <- finish() }(last)
	}
	if opts.Only != "" && !found {
		return nil, fmt.Errorf("no source named %q in the config", opts.Only)
	}

	nstored := stored.len()
	// What the link step listed and knows of every item: the coverage
	// step lists nothing again and reads only the others (and those with
	// a review).
	var lk *linked
	if runCtx.Err() == nil && (nstored > 0 || opts.Full) {
		// Linking runs once every source is collected, so a reference
		// resolves whatever order the sources ran in. A run that stored
		// nothing has nothing new to link (and spares listing the ledger).
		// The items this run stored are not read back.
		var sum *LinkSummary
		var warns []string
		var err error
		sum, warns, lk, err = link(runCtx, r.Ledger, LinkOptions{Rebuild: opts.Full, stored: stored})
		rep.Links = sum
		rep.Warnings = append(rep.Warnings, warns...)
		if err != nil && runCtx.Err() == nil {
			rep.Warnings = append(rep.Warnings, "links: "+r.Redactor.Error(err))
			rep.Outcome = runOutcome(rep.Outcome, OutcomePartial)
		}
		if sum != nil {
			log.Info("links resolved", "updated", sum.Updated, "links", sum.Links, "unresolved", sum.UnresolvedTotal)
		}
	}

	finished() // the last source: synced meanwhile
	if opts.Coverage && runCtx.Err() == nil {
		sum, corrupt, err := r.refreshCoverage(runCtx, nstored > 0, lk, now)
		rep.Corrupt = append(rep.Corrupt, corrupt...)
		if len(corrupt) > 0 {
			rep.Outcome = runOutcome(rep.Outcome, OutcomePartial)
		}
		if err != nil {
			rep.Warnings = append(rep.Warnings, "coverage: "+r.Redactor.Error(err))
			rep.Outcome = runOutcome(rep.Outcome, OutcomePartial)
		}
		rep.Coverage = sum
		if n := staleNotice(sum, r.Catalogue); n != "" {
			rep.Warnings = append(rep.Warnings, n)
		}
	}
	rep.Warnings = append(rep.Warnings, lk.wait()...) // the link index, stored meanwhile

	var runErr error
	if runCtx.Err() != nil {
		rep.Outcome = OutcomeInterrupted
		runErr = context.Cause(runCtx)
		if errors.Is(runErr, ledger.ErrLeaseLost) && ctx.Err() == nil {
			rep.Outcome = OutcomeFailed // stopped, not interrupted: exit 1
			rep.Warnings = append(rep.Warnings, runErr.Error())
		}
	}
	rep.FinishedAt = now().UTC()
	rep.DurationSeconds = rep.FinishedAt.Sub(rep.StartedAt).Seconds()
	wctx, c := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer c()
	if err := r.Ledger.PutRun(wctx, rep.RunID, rep); err != nil {
		log.Error("store run report", "err", err)
		if runErr == nil {
			runErr = fmt.Errorf("store run report: %w", err)
		}
	}
	log.Info("run finished", "outcome", rep.Outcome, "duration_seconds", rep.DurationSeconds)
	return rep, runErr
}

// refreshCoverage recomputes coverage.json, unless nothing was stored and
// the existing summary was made against the same catalogue. lk is what
// the link step listed and knows (nil: the link step did not run, so the
// items are listed again and the link index says what is known).
func (r *Runner) refreshCoverage(ctx context.Context, changed bool, lk *linked, now func() time.Time) (*CoverageSummary, []string, error) {
	if !changed {
		if prev, err := ReadCoverage(ctx, r.Ledger); err == nil && sameTarget(prev, r.Catalogue, r.Target) {
			return summaryOf(prev), nil, nil
		}
	}
	var opts ledger.SnapshotOptions
	if lk != nil {
		opts = ledger.SnapshotOptions{Known: knownItems(lk.entries), Listing: lk.listing}
	} else {
		opts = ledger.SnapshotOptions{Known: indexedItems(ctx, r.Ledger)}
	}
	rep, corrupt, err := updateCoverage(ctx, r.Ledger, r.Catalogue, r.Target, now(), opts)
	if err != nil {
		return nil, corrupt, err
	}
	return summaryOf(rep), corrupt, nil
}

// collect runs one source from its saved cursor (from nothing when
// full). Its items are handed to a bounded pool of
// writers; each stores an item's blobs before the item (StoreFiles, then
// PutItemBatched), and the source's cursor is saved only after every
// writer is done and the ledger is synced, so a crash at any point loses
// at most what the next run collects again.
//
// collect returns once every item is stored; finish then syncs, saves the
// cursor and returns the source's report. It must be called once, and
// may be called from another goroutine.
func (r *Runner) collect(ctx context.Context, src Source, full bool, stored *storedLinks, now func() time.Time, log *slog.Logger) (finish func() SourceReport) {
	log = log.With("source", src.Name)
	t0 := now()
	sr := SourceReport{Name: src.Name, Type: src.Type, Outcome: OutcomeOK, Skipped: []collectors.Skipped{}, Warnings: []string{}}
	rep := newReportObserver(&sr)
	obs := Observers(rep, r.Observer)
	obs.SourceStarted(src.Name)
	done := func() SourceReport {
		sr.DurationSeconds = now().Sub(t0).Seconds()
		obs.SourceFinished(src.Name, sr)
		return sr
	}
	timed := func(op string, f func() error) error {
		t := time.Now()
		err := f()
		obs.StoreOp(op, time.Since(t), err)
		return err
	}

	red := r.Redactor
	var cursor collectors.Cursor
	if !full {
		err := timed("get_cursor", func() (err error) { cursor, err = r.Ledger.Cursor(ctx, src.Name); return err })
		if err != nil {
			obs.Warned(src.Name, "cursor unreadable, collecting everything again: "+red.Error(err))
			cursor = nil
		}
	}
	writers := r.Writers
	if writers <= 0 {
		writers = DefaultWriters
	}
	// The collector sees only the redaction boundary (sk passes every
	// emission, skip and warning through red.Guard, on its writers): what
	// it emits, skips and warns about, and the error and the cursor it
	// returns, are all redacted before they are stored, reported or logged.
	sk := &sink{r: r, src: src, obs: obs, timed: timed, now: now, log: log, stored: stored, work: make(chan job)}
	sk.guard = red.Guard(storeSink{sk}, MaxArtefact)
	sk.start(writers)
	next, err := src.Collector.Collect(ctx, cursor, sk)
	storeErr := sk.wait()
	return func() SourceReport {
		// What was stored is made durable whatever happened next; the
		// cursor is saved only if that succeeds.
		syncErr := timed("sync", func() error { return r.Ledger.Sync(context.WithoutCancel(ctx)) })
		var partial *collectors.PartialError
		switch {
		case err == nil:
		case ctx.Err() != nil:
			sr.Outcome, sr.Error = OutcomeInterrupted, red.Error(context.Cause(ctx))
			return done()
		case errors.As(err, &partial):
			sr.Outcome, sr.Error = OutcomePartial, red.Error(err)
		default:
			sr.Outcome, sr.Error = OutcomeFailed, red.Error(err)
			log.Error("source failed", "err", sr.Error)
			return done()
		}
		if storeErr == nil {
			storeErr = syncErr
		}
		if storeErr != nil {
			sr.Outcome, sr.Error = OutcomeFailed, red.Error(storeErr)
			return done()
		}
		if err := timed("put_cursor", func() error { return r.Ledger.PutCursor(ctx, src.Name, red.Cursor(next)) }); err != nil {
			sr.Outcome = OutcomePartial
			obs.Warned(src.Name, "cursor not saved, the next run collects again: "+red.Error(err))
		}
		log.Info("source collected", "outcome", sr.Outcome, "items", sr.Items, "skipped", sr.SkippedTotal)
		return done()
	}
}

// sink is what the collector is given: it passes every emission, skip and
// warning through guard (the redaction boundary), emissions on a bounded
// pool of writers. Skip and Warn are called by the collector and by the
// writers.
type sink struct {
	r     *Runner
	guard collectors.Sink // red.Guard(storeSink{s})
	src   Source
	obs   Observer
	timed func(op string, f func() error) error
	now   func() time.Time
	log   *slog.Logger
	// stored collects the link entries of the items stored (for Link).
	stored *storedLinks

	work chan job // to the writers; closed by wait
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error // the first store error
}

// job is one emission for a writer, with the context Emit was given.
type job struct {
	ctx context.Context
	e   collectors.Emission
}

// start starts n writers. Each takes emissions until wait closes the
// channel: a fixed pool rather than a goroutine per item, whose stack
// would grow again for every item.
func (s *sink) start(n int) {
	for range n {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for j := range s.work {
				if s.failed() != nil {
					continue // a write failed: the collector is stopping
				}
				if err := s.guard.Emit(j.ctx, j.e); err != nil {
					s.fail(err)
				}
			}
		}()
	}
}

func (s *sink) Skip(sk collectors.Skipped) { s.guard.Skip(sk) }

func (s *sink) Warn(msg string) { s.guard.Warn(msg) }

// storeSink is the guard's side of the sink: what it receives is redacted.
type storeSink struct{ s *sink }

func (t storeSink) Emit(ctx context.Context, e collectors.Emission) error { return t.s.store(ctx, e) }
func (t storeSink) Skip(sk collectors.Skipped)                            { t.s.obs.Skipped(t.s.src.Name, sk) }
func (t storeSink) Warn(msg string)                                       { t.s.obs.Warned(t.s.src.Name, msg) }

// Emit hands the emission to a writer, waiting for a free one, which
// passes it through the guard and stores it. An emission with files is
// handled on the caller's goroutine instead, so that
// the files are opened while Emit runs (they may not outlive it). Once a
// write has failed, Emit returns that error and the collector stops.
func (s *sink) Emit(ctx context.Context, e collectors.Emission) error {
	if err := s.failed(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(e.Files) > 0 {
		if err := s.guard.Emit(ctx, e); err != nil {
			s.fail(err)
			return err
		}
		return nil
	}
	select {
	case s.work <- job{ctx, e}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *sink) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *sink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// wait waits for every writer to finish and returns the first store
// error. The collector must have returned.
func (s *sink) wait() error {
	close(s.work)
	s.wg.Wait()
	return s.failed()
}

// store tags and stores one emission the guard has redacted: its blobs,
// then the item.
func (s *sink) store(ctx context.Context, e collectors.Emission) error {
	it := e.Item
	it.Schema = evidence.SchemaVersion
	it.Apprentice = s.r.Ledger.Apprentice()
	it.Source = s.src.Name
	if it.SourceType == "" {
		it.SourceType = s.src.Type
	}
	it.CollectedAt = s.now().UTC()
	it.Artefacts = nil
	var nfiles int
	if len(e.Files) > 0 {
		err := s.timed("put_blobs", func() (err error) {
			nfiles, err = StoreFiles(ctx, s.r.Ledger, e.Files, &it, storeSink{s}.Skip)
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, w := range s.r.Tagger.Tag(&it) {
		storeSink{s}.Warn(w)
	}
	var etag string
	if err := s.timed("put_item", func() (err error) { etag, err = s.r.Ledger.PutItemBatched(ctx, &it); return err }); err != nil {
		return err
	}
	s.stored.add(newLinkEntry(&it, etag))
	s.obs.ItemStored(s.src.Name, StoredItem{ID: it.ID, Kind: it.Kind, Artefacts: nfiles, Redactions: it.Redactions})
	return nil
}

// StoreFiles stores an emission's files as blobs and appends them to
// it.Artefacts, before the item itself is stored. The files must have
// passed the redaction boundary (redact.Redactor.Guard), which redacts
// text and refuses binary with secrets. Files that cannot be read are
// skipped with a reason. It returns how many artefacts were stored; an
// error means the store failed.
func StoreFiles(ctx context.Context, l *ledger.Ledger, files []collectors.File, it *evidence.Item, skip func(collectors.Skipped)) (int, error) {
	n := 0
	for _, f := range files {
		rc, err := f.Open()
		if err != nil {
			skip(collectors.Skipped{What: "artefact " + f.Name, Reason: err.Error()})
			continue
		}
		b, err := io.ReadAll(io.LimitReader(rc, MaxArtefact+1))
		rc.Close()
		if err != nil {
			skip(collectors.Skipped{What: "artefact " + f.Name, Reason: "read: " + err.Error()})
			continue
		}
		sum, err := l.PutBlob(ctx, b)
		if err != nil {
			return n, err
		}
		mt := f.MediaType
		if mt == "" {
			mt = "application/octet-stream"
		}
		it.Artefacts = append(it.Artefacts, evidence.Artefact{Name: f.Name, SHA256: sum, Size: int64(len(b)), MediaType: mt})
		n++
	}
	return n, nil
}

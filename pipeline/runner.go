package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/pipeline/redact"
)

// MaxArtefact is the largest artefact a run stores; larger files are
// skipped with a reason.
const MaxArtefact = 256 << 20

// Lease timing: a run renews its lease every LeaseTTL/3; a run that died
// leaves a lease that others may take over after LeaseTTL.
const LeaseTTL = 2 * time.Minute

// Source is one configured source with its collector.
type Source struct {
	Name      string
	Type      string
	Collector collectors.Collector
}

// Progress is told about items as they are stored (a terminal progress
// line, or nothing). Methods may be called from any goroutine.
type Progress interface {
	Start(source string)
	Item(source string)
	Done(source string)
}

// Runner runs the pipeline for one apprentice.
type Runner struct {
	Ledger    *ledger.Ledger
	Sources   []Source
	Redactor  *redact.Redactor
	Tagger    *tagging.Tagger
	Catalogue *ksb.Catalogue
	Log       *slog.Logger
	Now       func() time.Time
	Progress  Progress // may be nil
	StoreName string   // for the report
}

// Options choose what a run does.
type Options struct {
	Command  string        // "run" or "collect", recorded in the report and lease
	Only     string        // collect only this source (empty: all)
	Coverage bool          // update coverage.json at the end
	Wait     time.Duration // wait this long for another run's lease (0: fail at once)
}

// NewRunID returns a sortable, unique run ID: <UTC time>-<8 hex>.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// AcquireLease takes the apprentice's lease, waiting up to wait for another
// run to finish. It returns a *ledger.HeldError if the wait ends first.
func AcquireLease(ctx context.Context, l *ledger.Ledger, runID, command string, wait time.Duration, now func() time.Time, log *slog.Logger) (*ledger.Lease, error) {
	host, _ := os.Hostname()
	info := ledger.LeaseInfo{RunID: runID, Command: command, Host: host, PID: os.Getpid()}
	deadline := now().Add(wait)
	for {
		lease, err := l.Acquire(ctx, info, LeaseTTL, now)
		var held *ledger.HeldError
		if !errors.As(err, &held) || wait <= 0 || !now().Before(deadline) {
			return lease, err
		}
		log.Info("waiting for lease", "holder", held.Info.Holder(), "since", held.Info.Since)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(2*time.Second, time.Until(deadline)+10*time.Millisecond)):
		}
	}
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
		Sources: []SourceReport{}, Corrupt: []string{}, Warnings: []string{},
	}
	log = r.Redactor.Logger(log).With("run_id", rep.RunID)

	lease, err := AcquireLease(ctx, r.Ledger, rep.RunID, opts.Command, opts.Wait, now, log)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lease.Keep(runCtx, LeaseTTL/3)
	go func() {
		select {
		case <-lease.Lost():
			cancel(errors.New("run lease lost: another run took it over"))
		case <-runCtx.Done():
		}
	}()
	defer func() {
		rctx, c := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer c()
		if err := lease.Release(rctx); err != nil {
			log.Warn("lease release", "err", err)
		}
	}()

	found := false
	for _, src := range r.Sources {
		if opts.Only != "" && src.Name != opts.Only {
			continue
		}
		found = true
		if runCtx.Err() != nil {
			break
		}
		sr := r.collect(runCtx, src, now, log)
		rep.Sources = append(rep.Sources, sr)
		rep.Outcome = runOutcome(rep.Outcome, sr.Outcome)
	}
	if opts.Only != "" && !found {
		return nil, fmt.Errorf("no source named %q in the config", opts.Only)
	}

	if opts.Coverage && runCtx.Err() == nil {
		stored := 0
		for _, s := range rep.Sources {
			stored += s.Items
		}
		sum, corrupt, err := r.refreshCoverage(runCtx, stored > 0, now)
		rep.Corrupt = append(rep.Corrupt, corrupt...)
		if len(corrupt) > 0 {
			rep.Outcome = runOutcome(rep.Outcome, OutcomePartial)
		}
		if err != nil {
			rep.Warnings = append(rep.Warnings, "coverage: "+r.Redactor.Error(err))
			rep.Outcome = runOutcome(rep.Outcome, OutcomePartial)
		}
		rep.Coverage = sum
	}

	var runErr error
	if runCtx.Err() != nil {
		rep.Outcome = OutcomeInterrupted
		runErr = context.Cause(runCtx)
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
// the existing summary was made against the same catalogue.
func (r *Runner) refreshCoverage(ctx context.Context, changed bool, now func() time.Time) (*CoverageSummary, []string, error) {
	if !changed {
		if prev, err := ReadCoverage(ctx, r.Ledger); err == nil && prev.Catalogue == r.Catalogue.ID {
			return summaryOf(prev), nil, nil
		}
	}
	rep, corrupt, err := ComputeCoverage(ctx, r.Ledger, r.Catalogue, now())
	if err != nil {
		return nil, corrupt, err
	}
	if err := r.Ledger.PutCoverage(ctx, rep); err != nil {
		return nil, corrupt, fmt.Errorf("store coverage: %w", err)
	}
	return summaryOf(rep), corrupt, nil
}

func (r *Runner) collect(ctx context.Context, src Source, now func() time.Time, log *slog.Logger) SourceReport {
	log = log.With("source", src.Name)
	t0 := now()
	sr := SourceReport{Name: src.Name, Type: src.Type, Outcome: OutcomeOK, Skipped: []collectors.Skipped{}, Warnings: []string{}}
	defer func() { sr.DurationSeconds = now().Sub(t0).Seconds() }()
	if r.Progress != nil {
		r.Progress.Start(src.Name)
		defer r.Progress.Done(src.Name)
	}
	red := r.Redactor
	cursor, err := r.Ledger.Cursor(ctx, src.Name)
	if err != nil {
		sr.Warnings = append(sr.Warnings, "cursor unreadable, collecting everything again: "+red.Error(err))
		cursor = nil
	}
	// The collector sees only the redaction boundary: what it emits, skips
	// and warns about, the error and the cursor it returns, are all
	// redacted before they are stored, reported or logged.
	sk := &sink{r: r, src: src, sr: &sr, now: now, log: log}
	sk.guard = red.Guard(sk, MaxArtefact)
	next, err := src.Collector.Collect(ctx, cursor, sk.guard)
	var partial *collectors.PartialError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		sr.Outcome, sr.Error = OutcomeInterrupted, red.Error(context.Cause(ctx))
		return sr
	case errors.As(err, &partial):
		sr.Outcome, sr.Error = OutcomePartial, red.Error(err)
	default:
		sr.Outcome, sr.Error = OutcomeFailed, red.Error(err)
		log.Error("source failed", "err", sr.Error)
		return sr
	}
	if sk.storeErr != nil {
		sr.Outcome, sr.Error = OutcomeFailed, red.Error(sk.storeErr)
		return sr
	}
	if err := r.Ledger.PutCursor(ctx, src.Name, red.Cursor(next)); err != nil {
		sr.Outcome = OutcomePartial
		sr.Warnings = append(sr.Warnings, "cursor not saved, the next run collects again: "+red.Error(err))
	}
	log.Info("source collected", "outcome", sr.Outcome, "items", sr.Items, "skipped", sr.SkippedTotal)
	return sr
}

// sink tags and stores each emission, after guard (the redaction
// boundary, which is what the collector is given) has redacted it.
type sink struct {
	r        *Runner
	guard    collectors.Sink
	src      Source
	sr       *SourceReport
	now      func() time.Time
	log      *slog.Logger
	storeErr error
	warned   map[string]bool
}

func (s *sink) Skip(sk collectors.Skipped) {
	s.sr.SkippedTotal++
	if len(s.sr.Skipped) < MaxSkipsReported {
		s.sr.Skipped = append(s.sr.Skipped, sk)
	}
}

func (s *sink) Warn(msg string) {
	if s.warned == nil {
		s.warned = map[string]bool{}
	}
	if s.warned[msg] || len(s.sr.Warnings) >= MaxSkipsReported {
		return
	}
	s.warned[msg] = true
	s.sr.Warnings = append(s.sr.Warnings, msg)
}

func (s *sink) Emit(ctx context.Context, e collectors.Emission) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	it := e.Item
	it.Schema = evidence.SchemaVersion
	it.Apprentice = s.r.Ledger.Apprentice()
	it.Source = s.src.Name
	if it.SourceType == "" {
		it.SourceType = s.src.Type
	}
	it.CollectedAt = s.now().UTC()
	it.Artefacts = nil
	n, err := StoreFiles(ctx, s.r.Ledger, e.Files, &it, s.guard.Skip)
	if err != nil {
		s.storeErr = err
		return err
	}
	s.sr.Artefacts += n
	for _, w := range s.r.Tagger.Tag(&it) {
		s.guard.Warn(w)
	}
	for _, rd := range it.Redactions {
		s.sr.Redactions += rd.Count
	}
	if err := s.r.Ledger.PutItem(ctx, &it); err != nil {
		s.storeErr = err
		return err
	}
	s.sr.Items++
	if s.r.Progress != nil {
		s.r.Progress.Item(s.src.Name)
	}
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

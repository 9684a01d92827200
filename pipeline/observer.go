package pipeline

import (
	"sync"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// Observer is told what a run does, as it happens. The run report is built
// by one, the progress display is one, and metrics or a server can
// subscribe by being one, without the runner knowing them.
//
// Methods are called from several goroutines at once (the collector's and
// the item writers') and must be safe for that; they should return
// quickly, since the run waits for them. Nothing passed may be kept and
// changed. Every event of a source comes between its SourceStarted and its
// SourceFinished.
type Observer interface {
	// SourceStarted: collection of the source begins.
	SourceStarted(source string)
	// SourceFinished: the source is done, every item written; sr is its
	// final report.
	SourceFinished(source string, sr SourceReport)
	// ItemStored: an item and its artefacts are stored (visible; durable
	// once the source finishes with its cursor saved).
	ItemStored(source string, it StoredItem)
	// Skipped: a piece of the source was not collected (already redacted).
	Skipped(source string, sk collectors.Skipped)
	// Warned: something the user should know (already redacted).
	Warned(source string, msg string)
	// StoreOp: one store operation of the run took d (err: how it failed,
	// nil if it did not). Ops: "get_cursor", "put_blobs", "put_item",
	// "sync", "put_cursor".
	StoreOp(op string, d time.Duration, err error)
}

// StoredItem describes a stored item to observers.
type StoredItem struct {
	ID        string
	Kind      evidence.Kind
	Artefacts int
	// Redactions counts the secrets masked in the item and its artefacts,
	// per rule (never the values).
	Redactions []evidence.Redaction
}

// NopObserver ignores everything; embed it to implement only some methods.
type NopObserver struct{}

func (NopObserver) SourceStarted(string)                 {}
func (NopObserver) SourceFinished(string, SourceReport)  {}
func (NopObserver) ItemStored(string, StoredItem)        {}
func (NopObserver) Skipped(string, collectors.Skipped)   {}
func (NopObserver) Warned(string, string)                {}
func (NopObserver) StoreOp(string, time.Duration, error) {}

// Observers returns one Observer that tells each of obs every event, in
// order (nil entries are left out): how the progress display, metrics and
// a server all watch one run.
func Observers(obs ...Observer) Observer {
	var out observers
	for _, o := range obs {
		if o != nil {
			out = append(out, o)
		}
	}
	return out
}

// observers fans every event out to each of its members, in order.
type observers []Observer

func (o observers) SourceStarted(s string) {
	for _, x := range o {
		x.SourceStarted(s)
	}
}
func (o observers) SourceFinished(s string, sr SourceReport) {
	for _, x := range o {
		x.SourceFinished(s, sr)
	}
}
func (o observers) ItemStored(s string, it StoredItem) {
	for _, x := range o {
		x.ItemStored(s, it)
	}
}
func (o observers) Skipped(s string, sk collectors.Skipped) {
	for _, x := range o {
		x.Skipped(s, sk)
	}
}
func (o observers) Warned(s, msg string) {
	for _, x := range o {
		x.Warned(s, msg)
	}
}
func (o observers) StoreOp(op string, d time.Duration, err error) {
	for _, x := range o {
		x.StoreOp(op, d, err)
	}
}

// reportObserver builds one source's SourceReport from the events.
type reportObserver struct {
	NopObserver
	mu     sync.Mutex
	sr     *SourceReport
	warned map[string]bool
}

func newReportObserver(sr *SourceReport) *reportObserver {
	return &reportObserver{sr: sr, warned: map[string]bool{}}
}

func (r *reportObserver) ItemStored(_ string, it StoredItem) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sr.Items++
	r.sr.Artefacts += it.Artefacts
	for _, rd := range it.Redactions {
		r.sr.Redactions += rd.Count
	}
}

func (r *reportObserver) Skipped(_ string, sk collectors.Skipped) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sr.SkippedTotal++
	if len(r.sr.Skipped) < MaxSkipsReported {
		r.sr.Skipped = append(r.sr.Skipped, sk)
	}
}

func (r *reportObserver) Warned(_ string, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.warned[msg] || len(r.sr.Warnings) >= MaxSkipsReported {
		return
	}
	r.warned[msg] = true
	r.sr.Warnings = append(r.sr.Warnings, msg)
}

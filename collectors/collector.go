// Package collectors defines the Collector interface that every source type
// implements (one sub-package per type: gitlog, …), the Sink it emits
// evidence to, and the Factory each type's package exports so that the
// config file and the pipeline can build it (factory.go).
//
// Adding a source type: write its package (a Config struct for what users
// write, NewFactory, New, Collect, and a README whose "## Config" sample
// collectortest.SampleConfig loads), run collectortest.Check on a real
// fixture, and add one line to collectors/registry.Default.
package collectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// Collector pulls evidence from one configured source.
type Collector interface {
	// Collect emits to sink every item that is new since cursor (nil or
	// empty: everything), and returns the cursor the next run starts from.
	//
	// It returns:
	//   - nil when every item was emitted;
	//   - a *PartialError when some items or parts of items could not be
	//     read and were skipped (each skip is also reported to sink.Skip);
	//     the cursor returned is still valid;
	//   - ctx.Err() when cancelled, and any error from sink.Emit unchanged;
	//     the cursor returned is then nil and must not be saved;
	//   - any other error when the source could not be read at all.
	//
	// Items carry their declared tags (By "declared:…") but no rule tags;
	// they are not yet redacted. Collect must not write anywhere.
	Collect(ctx context.Context, cursor Cursor, sink Sink) (Cursor, error)
}

// Cursor is a collector's own record of where the next incremental run
// starts. The pipeline stores it as JSON and hands it back unchanged.
type Cursor = json.RawMessage

// Sink receives what a collector finds. Methods are called from the
// collector's goroutine only.
type Sink interface {
	// Emit hands over one item and the artefacts it names. An error means
	// stop collecting and return it.
	Emit(ctx context.Context, e Emission) error
	// Skip records a piece that could not be collected, with why.
	Skip(s Skipped)
	// Warn records something the user should know that did not stop
	// collection (for example a declared KSB that the catalogue lacks).
	Warn(msg string)
}

// Emission is one item with the contents of its artefacts. The item's
// Artefacts list is filled in by the pipeline from Files after redaction
// and hashing; collectors leave it empty.
type Emission struct {
	Item  evidence.Item
	Files []File
}

// File is an artefact's content, opened on demand.
type File struct {
	Name      string
	MediaType string
	Open      func() (io.ReadCloser, error)
}

// Skipped is a piece of a source that was not collected.
type Skipped struct {
	What   string `json:"what"`   // e.g. "commit 1a2b3c…" or a file path
	Reason string `json:"reason"` // why, in a few words
}

// PartialError says that a collector emitted what it could but skipped
// Failed pieces.
type PartialError struct {
	Failed int
	Err    error // the first few errors, joined
}

func (e *PartialError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%d pieces skipped", e.Failed)
	}
	return fmt.Sprintf("%d pieces skipped: %v", e.Failed, e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }

// ErrSourceMissing wraps errors that mean the configured source does not
// exist (a path that is not there, an unknown repository).
var ErrSourceMissing = errors.New("source not found")

// Skips collects Skipped records into a PartialError, keeping the first
// few messages.
type Skips struct {
	n    int
	errs []string
}

// Add counts one skip.
func (s *Skips) Add(sk Skipped) {
	s.n++
	if len(s.errs) < 10 {
		s.errs = append(s.errs, sk.What+": "+sk.Reason)
	}
}

// Err returns nil when nothing was skipped, else a *PartialError.
func (s *Skips) Err() error {
	if s.n == 0 {
		return nil
	}
	return &PartialError{Failed: s.n, Err: errors.New(strings.Join(s.errs, "; "))}
}

package pipeline

import (
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
)

// Outcomes of a source and of a run.
const (
	OutcomeOK          = "ok"
	OutcomePartial     = "partial"
	OutcomeFailed      = "failed"
	OutcomeInterrupted = "interrupted"
)

// MaxSkipsReported caps how many skipped pieces a report lists per source
// (SkippedTotal still counts them all).
const MaxSkipsReported = 1000

// Report is the record of one run, stored at apprentices/<id>/runs/<run>.json
// and printed by `run` and `collect`.
type Report struct {
	Schema          int            `json:"schema"`
	RunID           string         `json:"run_id"`
	Apprentice      string         `json:"apprentice"`
	Command         string         `json:"command"`
	Catalogue       string         `json:"catalogue"`
	Store           string         `json:"store"`
	StartedAt       time.Time      `json:"started_at"`
	FinishedAt      time.Time      `json:"finished_at"`
	DurationSeconds float64        `json:"duration_seconds"`
	Outcome         string         `json:"outcome"`
	Sources         []SourceReport `json:"sources"`
	// Corrupt lists stored objects that could not be read and were skipped.
	Corrupt  []string `json:"corrupt"`
	Warnings []string `json:"warnings"`
	Full     bool     `json:"full,omitempty"` // the run ignored the saved cursors (run --full)
	// Coverage is the summary written to coverage.json (nil for `collect`).
	Coverage *CoverageSummary `json:"coverage,omitempty"`
	// Links is what the linking step did: links made from the references
	// items' facts hold, and the references that named no item (nil if the
	// step did not run).
	Links *LinkSummary `json:"links,omitempty"`
}

// CoverageSummary is the count part of the coverage report.
type CoverageSummary struct {
	Confirmed int `json:"confirmed"`
	Claimed   int `json:"claimed"`
	// Evidenced is Confirmed + Claimed.
	Evidenced int  `json:"evidenced"`
	Suggested int  `json:"suggested"`
	Gap       int  `json:"gap"`
	Total     int  `json:"total"`
	Ready     bool `json:"ready"`
	// StaleItems counts items tagged against another catalogue or an
	// earlier revision (coverage.Report.StaleItems).
	StaleItems int `json:"stale_items"`
}

// SourceReport is what one source did in a run.
type SourceReport struct {
	Name            string               `json:"name"`
	Type            string               `json:"type"`
	Outcome         string               `json:"outcome"`
	Error           string               `json:"error,omitempty"`
	Items           int                  `json:"items"`
	Artefacts       int                  `json:"artefacts"`
	Redactions      int                  `json:"redactions"`
	SkippedTotal    int                  `json:"skipped_total"`
	Skipped         []collectors.Skipped `json:"skipped"`
	Warnings        []string             `json:"warnings"`
	DurationSeconds float64              `json:"duration_seconds"`
}

// runOutcome folds a source outcome into the run's: any failed or partial
// source makes the run "partial" (it finished, with problems); an
// interruption wins over everything.
func runOutcome(run, src string) string {
	switch {
	case run == OutcomeInterrupted || src == OutcomeInterrupted:
		return OutcomeInterrupted
	case src == OutcomeFailed || src == OutcomePartial:
		return OutcomePartial
	}
	return run
}

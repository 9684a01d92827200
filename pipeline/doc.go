// Package pipeline runs ksbfolio's scheduled job for one apprentice:
// collect → redact → tag → store, with per-source cursors so that a second
// run only looks at what is new, a run lease so that two runs never
// interleave, and a run report stored in the ledger.
//
// # Order of writes
//
// For every emitted item the artefacts are redacted (when they are text),
// hashed and stored first; then the item, redacted and tagged, is written
// whole. A source's cursor is saved only after all its items are stored,
// so a crash or Ctrl-C at any point leaves a ledger that the next run
// completes by collecting the same items again (their IDs are stable, so
// this overwrites and never duplicates).
//
// # Outcomes
//
// A source is "ok", "partial" (some pieces skipped, each with a reason in
// the report), "failed" (nothing could be read; the other sources still
// run) or "interrupted". The run's outcome is the worst of them, and
// "partial" too when a stored object could not be read.
package pipeline

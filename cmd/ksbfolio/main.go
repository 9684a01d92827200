// Command ksbfolio turns an ML engineer apprentice's real work into the
// evidence portfolio for their end-point assessment. See README.md.
//
// main is the only code that exits; every command returns an error that
// exitCode maps to the documented exit codes:
//
//	0 ok · 1 error · 2 usage or invalid config · 3 finished but some sources
//	failed or were partial (or a stored object was corrupt) · 4 another run
//	holds this apprentice's lease · 130 interrupted
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitPartial     = 3
	exitLeaseHeld   = 4
	exitInterrupted = 130
)

// exitErr carries an exit code with its message. A nil-message exitErr
// (partial runs) prints nothing more: the command already reported.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitErr) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitErr{code: code, err: err} }

// usageErrorf is a usage or config problem: exit 2.
func usageErrorf(format string, a ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, a...))
}

var errPartial = &exitErr{code: exitPartial}

// Package tensorboard collects TensorBoard runs: every folder under a log
// directory that holds event files is one training_run item with its
// scalar series and the hyperparameters of the hparams plugin.
//
// Event files are TFRecord streams (tfrecord.go) of tensorflow.Event
// protobufs, decoded field by field (event.go). A corrupt record is skipped,
// reported and counted, and reading resumes at the next valid record; an
// incomplete last record (a file still being written) is reported but is
// not a failure.
package tensorboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/pathsource"
)

// cursorVersion is the cursor's layout version.
const cursorVersion = 1

// cursorState records every event file read (pathsource.FileKey of the
// run and file name): a run whose files all keep their size and
// modification time is not read again.
type cursorState = pathsource.Cursor[FileState]

// Collector collects one tensorboard source.
type Collector struct{ src pathsource.Source }

// New returns the collector of cfg; set gives its logger and clock.
func New(cfg Config, set collectors.Settings) (*Collector, error) {
	src, err := pathType().Open(cfg, set)
	if err != nil {
		return nil, err
	}
	return &Collector{src}, nil
}

// Collect implements collectors.Collector. Every run with a new or changed
// event file is read whole and emitted again (same ID: the item is
// replaced); the cursor keeps each file's size, modification time and the
// offset of the end of its last complete record.
func (c *Collector) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prev := pathsource.DecodeCursor[FileState](cursor, cursorVersion, SourceType, c.src.Set.Logger)
	info, err := os.Stat(c.src.Abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("tensorboard log directory %s: %w", c.src.Abs, collectors.ErrSourceMissing)
		}
		return nil, fmt.Errorf("tensorboard log directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("tensorboard log directory %s: not a folder", c.src.Abs)
	}
	var skips collectors.Skips
	skip := func(what, why string) {
		sk := collectors.Skipped{What: what, Reason: why}
		sink.Skip(sk)
		skips.Add(sk)
	}
	runs, err := discoverRuns(ctx, c.src.Abs, skip)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("find runs: %w", err)
	}
	next := pathsource.NewCursor[FileState](cursorVersion)
	var todo []runDir
	for _, rd := range runs {
		if unchanged(prev, rd) {
			for name := range rd.files {
				k := pathsource.FileKey(rd.name, name)
				next.Files[k] = prev.Files[k]
			}
			continue
		}
		todo = append(todo, rd)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the readers when Collect returns early
	read, done := readAhead(ctx, todo, runtime.GOMAXPROCS(0))
	emitted := 0
	for i, rd := range todo {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res := <-read[i]
		done()
		run, err := res.run, res.err
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			skip("run "+rd.name, err.Error())
			continue // not in the cursor: read again next time
		}
		for _, p := range run.Corrupt {
			skip(fmt.Sprintf("run %s: %s at offset %d", run.Name, p.File, p.Offset), p.Reason+"; reading resumed at the next valid record")
		}
		for _, p := range run.Partial {
			// A file still being written: reported, not counted as a
			// failure; its next size is read again.
			sink.Skip(collectors.Skipped{What: fmt.Sprintf("run %s: %s at offset %d", run.Name, p.File, p.Offset),
				Reason: p.Reason + " (still being written?); read again when the file changes"})
		}
		for name, st := range run.Files {
			next.Files[pathsource.FileKey(rd.name, name)] = st
		}
		if len(run.Series) == 0 && run.HParams == nil {
			c.src.Set.Logger.Debug("run has no scalars or hyperparameters", "run", run.Name)
			continue
		}
		e, err := c.emission(run)
		if err != nil {
			skip("run "+run.Name, err.Error())
			continue
		}
		if err := sink.Emit(ctx, e); err != nil {
			return nil, err
		}
		emitted++
	}
	c.src.Set.Logger.Info("tensorboard collected", "runs", len(runs), "emitted", emitted)
	b, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encode cursor: %w", err)
	}
	return b, skips.Err()
}

type readResult struct {
	run *Run
	err error
}

// readAhead reads runs on up to workers goroutines, each result on its
// own channel so that they are used in order. The consumer calls done
// after using each result: at most workers runs are read or held ahead of
// it, which bounds memory. Cancelling ctx stops the readers.
func readAhead(ctx context.Context, runs []runDir, workers int) (results []chan readResult, done func()) {
	out := make([]chan readResult, len(runs))
	for i := range out {
		out[i] = make(chan readResult, 1)
	}
	workers = max(1, min(workers, 4))
	sem := make(chan struct{}, workers)
	go func() {
		for i, rd := range runs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, ch := range out[i:] {
					ch <- readResult{err: ctx.Err()}
				}
				return
			}
			go func() {
				run, err := readRun(ctx, rd)
				out[i] <- readResult{run, err}
			}()
		}
	}()
	return out, func() { <-sem }
}

// unchanged reports whether every event file of rd is in the cursor with
// the same size and modification time (and no file is new).
func unchanged(prev cursorState, rd runDir) bool {
	for name, st := range rd.files {
		p, ok := prev.Files[pathsource.FileKey(rd.name, name)]
		if !ok || p.Size != st.Size || p.ModTime != st.ModTime {
			return false
		}
	}
	return true
}
